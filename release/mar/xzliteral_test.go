package mar

import (
	"bytes"
	"encoding/hex"
	"io"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"
)

func xzLiteralBytes(t testing.TB, content []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, compress(&buf, bytes.NewReader(content), XZLiteral))
	return buf.Bytes()
}

// The bytes docs/wire-format.md gives for the content "abc" (checked with `xz -dc` by
// TestXZLiteralRoundTrip's sizes and by hand against the format): 60 bytes.
const xzLiteralABC = "fd377a585a000004e6d6b446" + // stream header
	"0200210116000000742fe5a3" + // block header
	"010002616263" + "00" + // one uncompressed chunk with dictionary reset, end of LZMA2 data
	"00" + // block padding: 12 + 7 bytes to 20
	"2776271a4a09d82c" + // CRC-64 of "abc", little-endian
	"00011b03" + "0b2fb910" + // index: one record (unpadded size 27, size 3), CRC-32
	"1fb6f37d" + "01000000" + "0004" + "595a" // footer: CRC-32, backward size, flags, magic

func TestXZLiteralBytes(t *testing.T) {
	require.Equal(t, xzLiteralABC, hex.EncodeToString(xzLiteralBytes(t, []byte("abc"))))
}

// Every size around the chunk boundary decodes to the content with the project's
// reader, with github.com/ulikunitz/xz's and with the system xz; the stream is a pure
// function of the content.
func TestXZLiteralRoundTrip(t *testing.T) {
	xzPath, _ := exec.LookPath("xz")
	for _, n := range []int{0, 1, 2, 3, 4, xzStoredChunk - 1, xzStoredChunk, xzStoredChunk + 1, 3*xzStoredChunk + 5, 1 << 20, xzBlockSize + 5} {
		content := pseudoRandom(n, uint64(n))
		raw := xzLiteralBytes(t, content)
		require.Equal(t, raw, xzLiteralBytes(t, content), "deterministic")
		require.Zero(t, len(raw)%4, "an xz stream is a multiple of four bytes")

		a, e := storedArchive(t, raw)
		got, err := readEntry(a, e, Limits{})
		require.NoError(t, err, "size %d", n)
		require.Equal(t, content, got, "size %d: own reader", n)

		r, err := xz.NewReader(bytes.NewReader(raw))
		require.NoError(t, err)
		got, err = io.ReadAll(r)
		require.NoError(t, err, "size %d", n)
		require.Equal(t, content, got, "size %d: ulikunitz/xz", n)

		if xzPath != "" {
			cmd := exec.Command(xzPath, "-dc")
			cmd.Stdin = bytes.NewReader(raw)
			out, err := cmd.Output()
			require.NoError(t, err, "size %d: xz -dc", n)
			require.Equal(t, content, out, "size %d: system xz", n)
		}
	}
	if xzPath == "" {
		t.Log("xz command not found: the system decoder was not tried")
	}
}

// A whole archive with XZLiteral entries: written, opened, extracted; the entry is
// the content plus a fixed overhead per 64 KiB.
func TestWriteXZLiteralArchive(t *testing.T) {
	files := []File{bytesFile("a", 0o644, []byte("hello")), bytesFile("dir/b", 0o755, pseudoRandom(200_000, 9))}
	b := writeBytes(t, sampleInfo, files, WriteOptions{Compression: XZLiteral})
	a := openBytes(t, b)
	got := decompressAll(t, a)
	require.Equal(t, []byte("hello"), got["a"])
	require.Equal(t, pseudoRandom(200_000, 9), got["dir/b"])
	e, ok := a.Entry("dir/b")
	require.True(t, ok)
	chunks := (200_000 + xzStoredChunk - 1) / xzStoredChunk
	require.Equal(t, len(xzLiteralBytes(t, pseudoRandom(200_000, 9))), int(e.Size))
	require.Less(t, int(e.Size), 200_000+3*chunks+64)
}

// A failing source is reported, not turned into a short entry.
func TestXZLiteralReadError(t *testing.T) {
	var buf bytes.Buffer
	err := compress(&buf, io.MultiReader(bytes.NewReader(make([]byte, 70_000)), errReader{}), XZLiteral)
	require.ErrorIs(t, err, errBroken)
}

type errReader struct{}

var errBroken = io.ErrClosedPipe

func (errReader) Read([]byte) (int, error) { return 0, errBroken }
