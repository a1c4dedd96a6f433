package mar

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	fixtureBZ2 = "testdata/test-bz2.mar"
	fixtureXZ  = "testdata/test-xz.mar"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(name))
	require.NoError(t, err)
	return b
}

func openBytes(t testing.TB, b []byte) *Archive {
	t.Helper()
	a, err := Open(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	return a
}

func privateKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	k, err := ParsePrivateKeyPEM(readTestdata(t, "testdata/"+name))
	require.NoError(t, err)
	return k
}

func publicKey(t testing.TB, name string) *rsa.PublicKey {
	t.Helper()
	k, err := ParsePublicKeyPEM(readTestdata(t, "testdata/"+name))
	require.NoError(t, err)
	return k
}

// stripBytes returns Strip(a) as bytes.
func stripBytes(t testing.TB, a *Archive) []byte {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, Strip(&out, a))
	return out.Bytes()
}

// seekBuffer is an in-memory io.WriteSeeker for Write.
type seekBuffer struct {
	data []byte
	pos  int64
}

func (s *seekBuffer) Write(p []byte) (int, error) {
	if end := s.pos + int64(len(p)); end > int64(len(s.data)) {
		s.data = append(s.data, make([]byte, end-int64(len(s.data)))...)
	}
	n := copy(s.data[s.pos:], p)
	s.pos += int64(n)
	return n, nil
}

func (s *seekBuffer) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += s.pos
	case io.SeekEnd:
		off += int64(len(s.data))
	}
	if off < 0 {
		return 0, errors.New("negative seek")
	}
	s.pos = off
	return off, nil
}

func bytesFile(name string, mode uint32, content []byte) File {
	return File{Name: name, Mode: mode, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(content)), nil
	}}
}

// writeBytes runs Write into memory.
func writeBytes(t testing.TB, info ProductInfo, files []File, opts WriteOptions) []byte {
	t.Helper()
	var buf seekBuffer
	require.NoError(t, Write(&buf, info, files, opts))
	return buf.data
}

// decompressAll returns every entry's decompressed content by name.
func decompressAll(t testing.TB, a *Archive) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, e := range a.Entries() {
		r, err := a.OpenEntry(e, Limits{})
		require.NoError(t, err, e.Name)
		b, err := io.ReadAll(r)
		require.NoError(t, err, e.Name)
		out[e.Name] = b
	}
	return out
}
