package build

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"os"
	"testing"

	"github.com/chainiac/chainiac/internal/golden"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/mar"
	"github.com/stretchr/testify/require"
)

// oneTarget is a valid one-target release held in memory.
func oneTarget(t *testing.T) (m *release.Manifest, unsigned, signed []byte) {
	p := referenceParams()
	p.Targets = []release.TargetKey{linuxDE}
	rebuilt := buildReferenceCopy(t, p)
	signedPaths := signAll(t, rebuilt)
	m = manifestOf(t, p, rebuilt, signedPaths)
	var err error
	unsigned, err = os.ReadFile(rebuilt[linuxDE])
	require.NoError(t, err)
	signed, err = os.ReadFile(signedPaths[linuxDE])
	require.NoError(t, err)
	return m, unsigned, signed
}

func checkBytes(m *release.Manifest, unsigned, signed []byte) error {
	return checkTarget(m, m.Targets[0], bytes.NewReader(unsigned), int64(len(unsigned)), bytes.NewReader(signed), int64(len(signed)))
}

// Every single-byte change of the signed MAR is refused, even when the manifest names
// the changed file (a release team that signs a tampered MAR publishes its true hash):
// by CheckRebuild, or, for the bytes of the signature itself, which CheckRebuild
// leaves to the caller's key policy, by mar.Verify.
func TestCheckRebuildMangledSigned(t *testing.T) {
	m, unsigned, signed := oneTarget(t)
	require.NoError(t, checkBytes(m, unsigned, signed))
	key := testVerifyKey(t)
	a, err := mar.Open(bytes.NewReader(signed), int64(len(signed)))
	require.NoError(t, err)
	sigBlockEnd := 20 + 8 + len(a.Signatures()[0].Data)

	mangled := make([]byte, len(signed))
	leftToVerify := 0
	for i := range signed {
		for _, delta := range golden.Changes() {
			copy(mangled, signed)
			mangled[i] ^= delta
			m.Targets[0].SignedSHA512 = sha512.Sum512(mangled)
			err := checkBytes(m, unsigned, mangled)
			if err != nil {
				require.ErrorIs(t, err, ErrRebuildMismatch, "byte %d ^ %#x", i, delta)
				continue
			}
			require.True(t, i >= 20 && i < sigBlockEnd, "byte %d ^ %#x accepted outside the signature", i, delta)
			leftToVerify++
			ma, err := mar.Open(bytes.NewReader(mangled), int64(len(mangled)))
			require.NoError(t, err)
			require.Error(t, mar.Verify(ma, key), "byte %d ^ %#x accepted by CheckRebuild and Verify", i, delta)
		}
	}
	require.Positive(t, leftToVerify, "the signature bytes are mar.Verify's to check")
}

// Every single-byte change of the rebuilt MAR is refused, even when the manifest
// names the changed file: it then differs from the signed MAR.
func TestCheckRebuildMangledRebuilt(t *testing.T) {
	m, unsigned, signed := oneTarget(t)
	mangled := make([]byte, len(unsigned))
	for i := range unsigned {
		for _, delta := range golden.Changes() {
			copy(mangled, unsigned)
			mangled[i] ^= delta
			m.Targets[0].UnsignedSHA256 = sha256.Sum256(mangled)
			require.ErrorIs(t, checkBytes(m, mangled, signed), ErrRebuildMismatch, "byte %d ^ %#x", i, delta)
		}
	}
}
