package mar

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// storedArchive wraps already-compressed bytes as the single entry "f".
func storedArchive(t testing.TB, raw []byte) (*Archive, Entry) {
	t.Helper()
	a := openBytes(t, writeBytes(t, sampleInfo, []File{bytesFile("f", 0o644, raw)}, WriteOptions{Compression: Stored}))
	e, ok := a.Entry("f")
	require.True(t, ok)
	return a, e
}

func readEntry(a *Archive, e Entry, lim Limits) ([]byte, error) {
	r, err := a.OpenEntry(e, lim)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func xzBytes(t testing.TB, content []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, compress(&buf, bytes.NewReader(content), XZ))
	return buf.Bytes()
}

// withDictProperty rewrites the LZMA2 dictionary byte of the first block
// header and fixes the header's CRC32.
func withDictProperty(t *testing.T, xz []byte, prop byte) []byte {
	b := bytes.Clone(xz)
	hdrSize := (int(b[12]) + 1) * 4
	hdr := b[12 : 12+hdrSize]
	i := bytes.Index(hdr, []byte{0x21, 0x01})
	require.Positive(t, i)
	hdr[i+2] = prop
	binary.LittleEndian.PutUint32(hdr[hdrSize-4:], crc32.ChecksumIEEE(hdr[:hdrSize-4]))
	return b
}

func TestXZDictionaryLimit(t *testing.T) {
	content := []byte("a small file")
	xz := xzBytes(t, content)

	a, e := storedArchive(t, xz)
	got, err := readEntry(a, e, Limits{})
	require.NoError(t, err)
	assert.Equal(t, content, got)

	// Our writer uses an 8 MiB dictionary: a 1 MiB limit refuses it.
	_, err = readEntry(a, e, Limits{MaxXZDict: 1 << 20})
	require.ErrorIs(t, err, ErrCompression)
	assert.ErrorContains(t, err, "dictionary")

	// A tiny file asking for a 4 GiB dictionary is refused before the
	// decoder allocates anything.
	for prop, size := range map[byte]int64{40: 1<<32 - 1, 39: 3 << 30, 30: 128 << 20} {
		a, e := storedArchive(t, withDictProperty(t, xz, prop))
		_, err = readEntry(a, e, Limits{})
		require.ErrorIs(t, err, ErrCompression)
		assert.ErrorContains(t, err, fmt.Sprintf("LZMA2 dictionary of %d bytes exceeds limit %d", size, DefaultMaxXZDict))
	}
	a, e = storedArchive(t, withDictProperty(t, xz, 41))
	_, err = readEntry(a, e, Limits{})
	require.ErrorContains(t, err, "bad LZMA2 dictionary property")
}

func TestXZFromSystemTool(t *testing.T) {
	xzPath, err := exec.LookPath("xz")
	if err != nil {
		t.Skip("xz command not found: multi-block and filter cases skipped")
	}
	content := append(pseudoRandom(40_000, 3), bytes.Repeat([]byte("mozilla "), 20_000)...)
	run := func(args ...string) []byte {
		cmd := exec.Command(xzPath, append(args, "-c")...)
		cmd.Stdin = bytes.NewReader(content)
		out, err := cmd.Output()
		require.NoError(t, err)
		return out
	}
	multiBlock := run("-T2", "--block-size=16384", "--check=crc64")
	twoStreams := append(append(append(bytes.Clone(multiBlock), 0, 0, 0, 0), run("--check=crc32")...), 0, 0, 0, 0)

	for name, raw := range map[string][]byte{"multi-block": multiBlock, "two streams with padding": twoStreams} {
		t.Run(name, func(t *testing.T) {
			a, e := storedArchive(t, raw)
			got, err := readEntry(a, e, Limits{})
			require.NoError(t, err)
			want := content
			if name == "two streams with padding" {
				want = append(bytes.Clone(content), content...)
			}
			assert.True(t, bytes.Equal(want, got))
		})
	}

	// Mozilla packages executables with the x86 BCJ filter; the decoder
	// supports only plain LZMA2, and says so.
	a, e := storedArchive(t, run("--x86", "--lzma2"))
	_, err = readEntry(a, e, Limits{})
	require.ErrorIs(t, err, ErrCompression)
	assert.ErrorContains(t, err, "x86 BCJ")
}

func TestCorruptEntriesFail(t *testing.T) {
	content := bytes.Repeat([]byte("content "), 5000)
	var bz bytes.Buffer
	require.NoError(t, compress(&bz, bytes.NewReader(content), BZip2))
	for name, raw := range map[string][]byte{"xz": xzBytes(t, content), "bzip2": bz.Bytes()} {
		t.Run(name, func(t *testing.T) {
			for n := 1; n < len(raw); n += max(1, len(raw)/97) {
				a, e := storedArchive(t, raw[:n])
				_, err := readEntry(a, e, Limits{})
				require.Error(t, err, "truncated at %d", n)
			}
			for i := 16; i < len(raw); i += max(1, len(raw)/53) {
				b := bytes.Clone(raw)
				b[i] ^= 0x55
				a, e := storedArchive(t, b)
				got, err := readEntry(a, e, Limits{})
				if err == nil {
					// A flip in a spare bit may decode; it must then
					// still be the content, or the check caught it.
					assert.True(t, bytes.Equal(content, got), "byte %d flipped decoded to other content", i)
				}
			}
		})
	}
	a, e := storedArchive(t, []byte("plain text is not compressed"))
	_, err := readEntry(a, e, Limits{})
	require.ErrorIs(t, err, ErrCompression)
}
