package build

import (
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/mar"
)

// CheckRebuild is the check a node makes before it cosigns a release: rebuilt maps
// every target to the unsigned MAR its own rebuild produced (Result.Paths), signed to
// the MAR the release team will ship. It returns nil only if all of these hold, checked
// in this order and target by target in canonical order:
//
//  1. every manifest target has a rebuilt and a signed MAR, and there are none for
//     targets the manifest does not list;
//  2. the rebuilt MAR has the manifest's unsigned size and SHA-256, is a well-formed
//     MAR without signatures, and carries the manifest's channel and version;
//  3. the signed MAR has the manifest's signed size and SHA-512, is a well-formed MAR
//     with at least one signature, every signature of an algorithm Mozilla defined
//     (1 or 2), and carries the manifest's channel and version;
//  4. the signed MAR with its signatures stripped equals the rebuilt MAR byte for byte.
//
// The first failure is returned as a *RebuildError (wrapping ErrRebuildMismatch)
// naming the target and the check, and for check 4 the offset, region and entry of
// the first differing byte. An error that does not wrap ErrRebuildMismatch means a
// file could not be read; one that shrank during the check wraps io.ErrUnexpectedEOF.
// Files are streamed, never read whole; they must not change during the check.
//
// CheckRebuild does not verify the RSA signatures: which MAR signing keys a release
// must use is a policy question for the caller (mar.Verify with the pinned keys).
// Together the two leave no byte of a signed MAR unchecked.
func CheckRebuild(m *release.Manifest, rebuilt, signed map[release.TargetKey]string) error {
	if m == nil {
		return errors.New("build: rebuild check: nil manifest")
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("build: rebuild check: %w", err)
	}
	targets := slices.Clone(m.Targets)
	slices.SortFunc(targets, func(a, b release.Target) int { return compareKeys(a.Key(), b.Key()) })
	if err := checkTargetSets(targets, rebuilt, signed); err != nil {
		return err
	}
	for _, t := range targets {
		if err := checkTargetFiles(m, t, rebuilt[t.Key()], signed[t.Key()]); err != nil {
			return err
		}
	}
	return nil
}

// checkTargetSets makes check 1; targets are in canonical order.
func checkTargetSets(targets []release.Target, rebuilt, signed map[release.TargetKey]string) error {
	listed := make(map[release.TargetKey]bool, len(targets))
	for _, t := range targets {
		listed[t.Key()] = true
		if rebuilt[t.Key()] == "" {
			return mismatch(t.Key(), CheckMissing, nil, "no rebuilt MAR")
		}
		if signed[t.Key()] == "" {
			return mismatch(t.Key(), CheckMissing, nil, "no signed MAR")
		}
	}
	extra := map[release.TargetKey]bool{}
	for _, set := range []map[release.TargetKey]string{rebuilt, signed} {
		for k := range set {
			if !listed[k] {
				extra[k] = true
			}
		}
	}
	if len(extra) > 0 {
		first := slices.MinFunc(slices.Collect(maps.Keys(extra)), compareKeys)
		return mismatch(first, CheckExtra, nil, "a MAR for a target the manifest does not list (%d such targets)", len(extra))
	}
	return nil
}

func checkTargetFiles(m *release.Manifest, t release.Target, rebuiltPath, signedPath string) error {
	u, uSize, err := openRegular(t.Key(), "rebuilt", rebuiltPath)
	if err != nil {
		return err
	}
	defer u.Close()
	s, sSize, err := openRegular(t.Key(), "signed", signedPath)
	if err != nil {
		return err
	}
	defer s.Close()
	return checkTarget(m, t, u, uSize, s, sSize)
}

func openRegular(k release.TargetKey, what, path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("build: rebuild check: target %s: %s MAR: %w", k, what, err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", path)
	}
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("build: rebuild check: target %s: %s MAR: %w", k, what, err)
	}
	return f, st.Size(), nil
}

// checkTarget makes checks 2 to 4 on one target's two files.
func checkTarget(m *release.Manifest, t release.Target, u io.ReaderAt, uSize int64, s io.ReaderAt, sSize int64) error {
	k := t.Key()
	buf := make([]byte, min(256<<10, max(uSize, sSize, 1)))
	if uint64(uSize) != t.UnsignedSize {
		return mismatch(k, CheckUnsignedSize, nil, "rebuilt MAR is %d bytes, the manifest says %d", uSize, t.UnsignedSize)
	}
	var usum release.Hash256
	if err := digest(sha256.New(), u, uSize, buf, usum[:]); err != nil {
		return fmt.Errorf("build: rebuild check: target %s: read rebuilt MAR: %w", k, err)
	}
	if usum != t.UnsignedSHA256 {
		return mismatch(k, CheckUnsignedSHA256, nil, "rebuilt MAR has sha-256 %s, the manifest says %s", usum, t.UnsignedSHA256)
	}
	ua, err := openMAR(k, "rebuilt", CheckUnsignedFormat, u, uSize)
	if err != nil {
		return err
	}
	if n := len(ua.Signatures()); n != 0 {
		return mismatch(k, CheckUnsignedFormat, mar.ErrSigned, "rebuilt MAR carries %d signatures", n)
	}
	if err := checkProductInfo(k, m, ua, "rebuilt", CheckUnsignedProductInfo); err != nil {
		return err
	}

	if uint64(sSize) != t.SignedSize {
		return mismatch(k, CheckSignedSize, nil, "signed MAR is %d bytes, the manifest says %d", sSize, t.SignedSize)
	}
	var ssum release.Hash512
	if err := digest(sha512.New(), s, sSize, buf, ssum[:]); err != nil {
		return fmt.Errorf("build: rebuild check: target %s: read signed MAR: %w", k, err)
	}
	if ssum != t.SignedSHA512 {
		return mismatch(k, CheckSignedSHA512, nil, "signed MAR has sha-512 %s, the manifest says %s", ssum, t.SignedSHA512)
	}
	sa, err := openMAR(k, "signed", CheckSignedFormat, s, sSize)
	if err != nil {
		return err
	}
	if err := checkSignatureBlock(k, sa); err != nil {
		return err
	}
	if err := checkProductInfo(k, m, sa, "signed", CheckSignedProductInfo); err != nil {
		return err
	}

	err = mar.CompareStripped(sa, ua)
	var me *mar.MismatchError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &me):
		where := "in the " + me.Region
		if me.Region == "entry" {
			where = fmt.Sprintf("in entry %q", me.Entry)
		}
		return &RebuildError{Target: k, Check: CheckStripped, Offset: me.Offset, Region: me.Region, Entry: me.Entry, Err: err,
			Detail: fmt.Sprintf("the signed MAR without its signatures differs from the rebuilt MAR: first difference at offset %d, %s", me.Offset, where)}
	}
	return fmt.Errorf("build: rebuild check: target %s: %w", k, err)
}

// digest hashes exactly size bytes of r into sum.
func digest(h hash.Hash, r io.ReaderAt, size int64, buf, sum []byte) error {
	n, err := io.CopyBuffer(h, io.NewSectionReader(r, 0, size), buf)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("read %d of %d bytes, the file changed: %w", n, size, io.ErrUnexpectedEOF)
	}
	copy(sum, h.Sum(nil))
	return nil
}

// openMAR parses a MAR; a malformed one is a mismatch, a read error is not.
func openMAR(k release.TargetKey, what string, check RebuildCheck, r io.ReaderAt, size int64) (*mar.Archive, error) {
	a, err := mar.Open(r, size)
	switch {
	case err == nil:
		return a, nil
	case errors.Is(err, mar.ErrFormat):
		return nil, mismatch(k, check, err, "%s MAR: %v", what, err)
	}
	return nil, fmt.Errorf("build: rebuild check: target %s: %s MAR: %w", k, what, err)
}

func checkSignatureBlock(k release.TargetKey, a *mar.Archive) error {
	sigs := a.Signatures()
	if len(sigs) == 0 {
		return mismatch(k, CheckSignature, mar.ErrUnsigned, "signed MAR has no signature")
	}
	for i, s := range sigs {
		if s.Algorithm != mar.RSASHA1 && s.Algorithm != mar.RSASHA384 {
			return mismatch(k, CheckSignature, mar.ErrUnknownAlgorithm, "signature %d has unknown algorithm %d", i, uint32(s.Algorithm))
		}
	}
	return nil
}

func checkProductInfo(k release.TargetKey, m *release.Manifest, a *mar.Archive, what string, check RebuildCheck) error {
	info, ok := a.ProductInfo()
	switch {
	case !ok:
		return mismatch(k, check, nil, "%s MAR has no product information block", what)
	case info.Channel != m.Channel:
		return mismatch(k, check, nil, "%s MAR has channel %q, the manifest says %q", what, info.Channel, m.Channel)
	case info.Version != m.Version:
		return mismatch(k, check, nil, "%s MAR has version %q, the manifest says %q", what, info.Version, m.Version)
	}
	return nil
}

// Paths maps each rebuilt target to its MAR file: the rebuilt argument of
// CheckRebuild.
func (r *Result) Paths() map[release.TargetKey]string {
	out := make(map[release.TargetKey]string, len(r.MARs))
	for k, m := range r.MARs {
		out[k] = m.Path
	}
	return out
}
