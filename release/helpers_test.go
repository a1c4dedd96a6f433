package release

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
)

// detReader is a deterministic byte stream, SHA-256(label ‖ counter) blocks, so test
// keys and vectors are the same on every run.
type detReader struct {
	label   string
	counter uint64
	buf     []byte
}

func newDetReader(label string) *detReader { return &detReader{label: label} }

func (r *detReader) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) {
		h := sha256.New()
		h.Write([]byte(r.label))
		h.Write(binary.BigEndian.AppendUint64(nil, r.counter))
		r.counter++
		r.buf = h.Sum(r.buf)
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// testSigners returns n developer keys derived from fixed labels.
func testSigners(t testing.TB, n int) []*Signer {
	t.Helper()
	out := make([]*Signer, n)
	for i := range out {
		s, err := GenerateDeveloperKey(newDetReader("chainiac test developer " + string(rune('a'+i))))
		require.NoError(t, err)
		out[i] = s
	}
	return out
}

func publicKeys(signers []*Signer) []DeveloperKey {
	keys := make([]DeveloperKey, len(signers))
	for i, s := range signers {
		keys[i] = s.Public()
	}
	return keys
}

func fill256(b byte) (h Hash256) {
	for i := range h {
		h[i] = b + byte(i)
	}
	return h
}

func fill512(b byte) (h Hash512) {
	for i := range h {
		h[i] = b ^ byte(i)
	}
	return h
}

// testManifest is a realistic two-target manifest, deliberately with targets out of
// canonical order.
func testManifest() *Manifest {
	var commit GitCommit
	for i := range commit {
		commit[i] = byte(0xc0 + i)
	}
	return &Manifest{
		Product:         "tor-browser",
		Version:         "14.0.1",
		Channel:         "release",
		SourceDateEpoch: 1730419200,
		Recipe:          "reference/v1",
		GitCommit:       commit,
		SourceSHA256:    fill256(0x10),
		Targets: []Target{
			{
				Platform: "windows-x86_64", Locale: "ALL",
				UnsignedSHA256: fill256(0x40), UnsignedSize: 101_000_000,
				SignedSHA512: fill512(0x50), SignedSize: 101_000_264,
				URL: "https://cdn.example.org/tor-browser/14.0.1/windows-x86_64.mar",
			},
			{
				Platform: "linux-x86_64", Locale: "ALL",
				UnsignedSHA256: fill256(0x20), UnsignedSize: 97_000_000,
				SignedSHA512: fill512(0x30), SignedSize: 97_000_264,
				URL: "https://cdn.example.org/tor-browser/14.0.1/linux-x86_64.mar",
			},
		},
	}
}

// signedBy returns the test manifest signed by the given signers.
func signedBy(t testing.TB, signers ...*Signer) *SignedManifest {
	t.Helper()
	sm, err := NewSignedManifest(testManifest())
	require.NoError(t, err)
	for _, s := range signers {
		require.NoError(t, s.SignManifest(sm))
	}
	return sm
}

func sha512Sum(b []byte) [64]byte { return sha512.Sum512(b) }

// clampedScalarModL is the Ed25519 secret scalar of a seed hash half, reduced mod L.
func clampedScalarModL(h []byte) *big.Int {
	le := append([]byte(nil), h...)
	le[0] &= 248
	le[31] &= 127
	le[31] |= 64
	be := make([]byte, 32)
	for i := range 32 {
		be[i] = le[31-i]
	}
	s := new(big.Int).SetBytes(be)
	return s.Mod(s, newCurve().l)
}
