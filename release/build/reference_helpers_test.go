package build

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/mar"
	"github.com/stretchr/testify/require"
)

const referenceSource = "testdata/reference-src"

var referenceTargets = []release.TargetKey{
	{Platform: "linux-x86_64", Locale: "de"},
	{Platform: "linux-x86_64", Locale: "en-US"},
	{Platform: "windows-x86_64", Locale: "de"},
	{Platform: "windows-x86_64", Locale: "en-US"},
}

func referenceParams() ReferenceParams {
	return ReferenceParams{Product: "demo-browser", Version: "1.0", Channel: "release",
		SourceDateEpoch: 1730419200, Targets: referenceTargets}
}

// copySource copies the reference tree to a fresh directory, giving files the
// permissions perm (plus the execute bits where the original has them) and the
// modification time mtime, so that tests can show neither reaches the output.
func copySource(t testing.TB, perm fs.FileMode, mtime time.Time) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "src")
	err := filepath.WalkDir(referenceSource, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(referenceSource, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, b, perm|info.Mode().Perm()&0o111); err != nil {
			return err
		}
		if err := os.Chmod(target, perm|info.Mode().Perm()&0o111); err != nil { // past the umask
			return err
		}
		return os.Chtimes(target, mtime, mtime)
	})
	require.NoError(t, err)
	return dst
}

// buildReferenceCopy builds a fresh copy of the reference tree into a new directory.
func buildReferenceCopy(t testing.TB, p ReferenceParams) map[release.TargetKey]string {
	t.Helper()
	src := copySource(t, 0o644, time.Unix(1, 0))
	paths, err := BuildReference(context.Background(), src, filepath.Join(t.TempDir(), "out"), p)
	require.NoError(t, err)
	return paths
}

func testSigningKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile("testdata/mar-signing-key.pem")
	require.NoError(t, err)
	k, err := mar.ParsePrivateKeyPEM(b)
	require.NoError(t, err)
	return k
}

func testVerifyKey(t testing.TB) *rsa.PublicKey {
	t.Helper()
	b, err := os.ReadFile("testdata/mar-signing-key.pub.pem")
	require.NoError(t, err)
	k, err := mar.ParsePublicKeyPEM(b)
	require.NoError(t, err)
	return k
}

func openMARFile(t testing.TB, path string) (*mar.Archive, *os.File) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	require.NoError(t, err)
	a, err := mar.Open(f, st.Size())
	require.NoError(t, err)
	return a, f
}

// signFile writes the unsigned MAR at src, signed with key, to dst.
func signFile(t testing.TB, key *rsa.PrivateKey, src, dst string) {
	t.Helper()
	a, _ := openMARFile(t, src)
	out, err := os.Create(dst)
	require.NoError(t, err)
	defer out.Close()
	require.NoError(t, mar.Sign(out, a, key))
}

// signAll signs every MAR of unsigned into a new directory.
func signAll(t testing.TB, unsigned map[release.TargetKey]string) map[release.TargetKey]string {
	t.Helper()
	key := testSigningKey(t)
	dir := t.TempDir()
	signed := map[release.TargetKey]string{}
	for k, p := range unsigned {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, k.Platform), 0o755))
		signed[k] = filepath.Join(dir, k.Platform, k.Locale+".mar")
		signFile(t, key, p, signed[k])
	}
	return signed
}

// manifestOf is the manifest the release team would write for these files.
func manifestOf(t testing.TB, p ReferenceParams, unsigned, signed map[release.TargetKey]string) *release.Manifest {
	t.Helper()
	m := &release.Manifest{Product: p.Product, Version: p.Version, Channel: p.Channel,
		SourceDateEpoch: p.SourceDateEpoch, Recipe: ReferenceRecipeName,
		GitCommit: release.GitCommit{0xab}, SourceSHA256: release.Hash256{0xcd}}
	for _, k := range p.Targets {
		m.Targets = append(m.Targets, release.Target{Platform: k.Platform, Locale: k.Locale,
			URL: "https://dist.example.org/" + k.Platform + "/" + k.Locale + ".mar"})
	}
	for i := range m.Targets {
		setTargetHashes(t, &m.Targets[i], unsigned[m.Targets[i].Key()], signed[m.Targets[i].Key()])
	}
	return m
}

// setTargetHashes fills in a target's hashes and sizes from its files.
func setTargetHashes(t testing.TB, tg *release.Target, unsigned, signed string) {
	t.Helper()
	u, err := os.ReadFile(unsigned)
	require.NoError(t, err)
	s, err := os.ReadFile(signed)
	require.NoError(t, err)
	tg.UnsignedSHA256, tg.UnsignedSize = sha256.Sum256(u), uint64(len(u))
	tg.SignedSHA512, tg.SignedSize = sha512.Sum512(s), uint64(len(s))
}

// releaseFixture is a whole valid release of the reference tree: rebuilt MARs, signed
// MARs and the manifest naming both.
type releaseFixture struct {
	params   ReferenceParams
	rebuilt  map[release.TargetKey]string
	signed   map[release.TargetKey]string
	manifest *release.Manifest
}

func newReleaseFixture(t testing.TB) *releaseFixture {
	t.Helper()
	p := referenceParams()
	rebuilt := buildReferenceCopy(t, p)
	signed := signAll(t, rebuilt)
	return &releaseFixture{params: p, rebuilt: rebuilt, signed: signed, manifest: manifestOf(t, p, rebuilt, signed)}
}

// clone copies the fixture's files and manifest, for a test to break.
func (f *releaseFixture) clone(t testing.TB) *releaseFixture {
	t.Helper()
	c := &releaseFixture{params: f.params, rebuilt: map[release.TargetKey]string{}, signed: map[release.TargetKey]string{}}
	m := *f.manifest
	m.Targets = append([]release.Target(nil), f.manifest.Targets...)
	c.manifest = &m
	dir := t.TempDir()
	for kind, set := range map[string]map[release.TargetKey]string{"rebuilt": f.rebuilt, "signed": f.signed} {
		for k, p := range set {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			dst := filepath.Join(dir, kind, k.Platform, k.Locale+".mar")
			require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
			require.NoError(t, os.WriteFile(dst, b, 0o644))
			if kind == "rebuilt" {
				c.rebuilt[k] = dst
			} else {
				c.signed[k] = dst
			}
		}
	}
	return c
}

func readAll(t testing.TB, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return b
}
