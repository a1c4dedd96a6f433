package mar

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// legacyXZ is the writer XZ entries came from before they were cut into
// blocks: one xz.Writer stream. Entries of one compressible block must be
// its bytes exactly, and benchmarks measure against it.
func legacyXZ(t testing.TB, content []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := xz.WriterConfig{DictCap: xzDictSize, CheckSum: xz.CRC64}.NewWriter(&buf)
	require.NoError(t, err)
	_, err = io.Copy(w, bytes.NewReader(content))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// sourceLike makes n bytes that compress like a source tree: lines of
// words drawn with skewed frequencies, with repeats far apart.
func sourceLike(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	words := []string{"func", "return", "err", "if", "nil", "{", "}", "for", ":=", "range",
		"package", "import", "type", "struct", "int", "string", "byte", "len", "(", ")"}
	var b bytes.Buffer
	for b.Len() < n {
		for range 1 + r.IntN(12) {
			b.WriteString(words[min(r.IntN(len(words)), r.IntN(len(words)))])
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "// %d\n", r.IntN(1000))
	}
	return b.Bytes()[:n]
}

func chachaBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

func TestXZOneBlockIsTheLegacyStream(t *testing.T) {
	for name, content := range map[string][]byte{
		"empty":        nil,
		"small":        []byte("type \"complete\"\n"),
		"source, 3 MB": sourceLike(3<<20, 1),
		"random 500 k": chachaBytes(500_000, 1),                         // under minStoredPiece: compressed
		"full block":   bytes.Repeat([]byte("mozilla "), xzBlockSize/8), // repetitive: quick to encode under -race
	} {
		t.Run(name, func(t *testing.T) {
			assert.True(t, bytes.Equal(legacyXZ(t, content), xzBytes(t, content)))
		})
	}
}

// xzDecoders decode a whole xz stream three ways: this package's bounded
// reader, ulikunitz/xz's reader, and the system xz tool when installed.
func xzDecoders(t *testing.T, raw []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	r, err := NewXZReader(bytes.NewReader(raw), int64(len(raw)), DefaultMaxXZDict)
	require.NoError(t, err)
	out["bounded reader"], err = io.ReadAll(r)
	require.NoError(t, err)
	ur, err := xz.NewReader(bytes.NewReader(raw))
	require.NoError(t, err)
	out["ulikunitz/xz"], err = io.ReadAll(ur)
	require.NoError(t, err)
	if path, err := exec.LookPath("xz"); err == nil {
		cmd := exec.Command(path, "-t")
		cmd.Stdin = bytes.NewReader(raw)
		require.NoError(t, cmd.Run(), "xz -t")
		cmd = exec.Command(path, "-d", "-c")
		cmd.Stdin = bytes.NewReader(raw)
		out["xz -dc"], err = cmd.Output()
		require.NoError(t, err)
	} else {
		t.Log("xz command not found: system decoding skipped")
	}
	return out
}

// A content of several blocks, some stored and some compressed, decodes
// with every decoder, and its bytes do not depend on the number of workers.
func TestXZMultiBlockEntries(t *testing.T) {
	content := append(append(chachaBytes(xzBlockSize, 2), chachaBytes(xzBlockSize, 3)...), sourceLike(200_000, 4)...)
	files := []File{bytesFile("a", 0o644, content), bytesFile("b", 0o644, []byte("small")), bytesFile("empty", 0o644, nil)}
	var progress atomic.Int64
	one := writeBytes(t, sampleInfo, files, WriteOptions{Workers: 1, Progress: &progress})
	assert.Equal(t, int64(len(content)+len("small")), progress.Load())
	for _, workers := range []int{2, 3, 8} {
		assert.True(t, bytes.Equal(one, writeBytes(t, sampleInfo, files, WriteOptions{Workers: workers})), "%d workers", workers)
	}
	a := openBytes(t, one)
	e, _ := a.Entry("a")
	raw, err := io.ReadAll(a.Raw(e))
	require.NoError(t, err)
	assert.Less(t, len(raw), len(content)-100_000) // the source block compressed
	assert.Equal(t, raw, xzBytes(t, content))

	blocks := xzBlockSizes(t, raw)
	require.Len(t, blocks, 3)
	assert.Equal(t, []int64{xzBlockSize, xzBlockSize, 200_000}, blocks)
	for name, got := range xzDecoders(t, raw) {
		assert.True(t, bytes.Equal(content, got), name)
	}
	for name, want := range map[string][]byte{"b": []byte("small"), "empty": {}} {
		got, err := readEntry(a, mustEntry(t, a, name), Limits{})
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
}

func mustEntry(t *testing.T, a *Archive, name string) Entry {
	e, ok := a.Entry(name)
	require.True(t, ok, name)
	return e
}

// xzBlockSizes reads the uncompressed sizes of a stream's blocks from its
// index, checking the container bytes the writer defines on the way.
func xzBlockSizes(t *testing.T, raw []byte) []int64 {
	t.Helper()
	require.Equal(t, xzStreamHeader, string(raw[:12]))
	footer := raw[len(raw)-12:]
	require.Equal(t, []byte{0x00, 0x04, 'Y', 'Z'}, footer[8:])
	indexSize := (int(binary.LittleEndian.Uint32(footer[4:])) + 1) * 4
	index := bytes.NewReader(raw[len(raw)-12-indexSize:])
	indicator, _ := index.ReadByte()
	require.Zero(t, indicator)
	count, err := binary.ReadUvarint(index)
	require.NoError(t, err)
	var sizes []int64
	pos := 12
	for range count {
		unpadded, err1 := binary.ReadUvarint(index)
		uncompressed, err2 := binary.ReadUvarint(index)
		require.NoError(t, err1)
		require.NoError(t, err2)
		require.Equal(t, xzFixedBlockHeader, string(raw[pos:pos+12]), "block at %d", pos)
		pos += int(unpadded+3) / 4 * 4
		sizes = append(sizes, int64(uncompressed))
	}
	require.Equal(t, len(raw)-12-indexSize, pos)
	return sizes
}

// smallMultiBlockXZ builds a stream from the writer's own parts with pieces
// far smaller than a real block, so that every byte of it can be mangled.
func smallMultiBlockXZ(t testing.TB, pieces ...[]byte) []byte {
	raw := []byte(xzStreamHeader)
	var records []xzRecord
	for _, p := range pieces {
		b, err := encodeXZBlock(p, false, nil)
		require.NoError(t, err)
		raw = append(raw, b.data...)
		records = append(records, xzRecord{b.unpadded, b.uncompressed})
	}
	return appendXZIndex(raw, records)
}

func TestXZStoredChunksAndMangling(t *testing.T) {
	var stored bytes.Buffer
	content := chachaBytes(xzStoredChunk+5, 9)
	appendStoredChunks(&stored, content)
	assert.Equal(t, []byte{0x01, 0xff, 0xff}, stored.Bytes()[:3])
	assert.Equal(t, []byte{0x02, 0x00, 0x04}, stored.Bytes()[3+xzStoredChunk:][:3])
	assert.Equal(t, 3+xzStoredChunk+3+5+1, stored.Len())
	assert.Equal(t, byte(0), stored.Bytes()[stored.Len()-1])

	pieces := [][]byte{[]byte("first piece "), nil, bytes.Repeat([]byte("third "), 30)}
	raw := smallMultiBlockXZ(t, pieces...)
	want := bytes.Join(pieces, nil)
	for name, got := range xzDecoders(t, raw) {
		assert.Equal(t, want, got, name)
	}
	for i := range raw {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		r, err := NewXZReader(bytes.NewReader(b), int64(len(b)), DefaultMaxXZDict)
		if err == nil {
			var got []byte
			got, err = io.ReadAll(r)
			if err == nil {
				assert.Equal(t, want, got, "byte %d flipped decoded to other content", i)
				continue
			}
		}
		require.ErrorIs(t, err, ErrCompression, "byte %d", i)
	}
}

func TestLooksIncompressible(t *testing.T) {
	rnd := chachaBytes(xzBlockSize, 11)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(sourceLike(12<<20, 12)) // over 1 MiB of gzip output
	require.NoError(t, zw.Close())
	counter := make([]byte, 2<<20)
	for i := range counter {
		counter[i] = byte(i)
	}
	dup := append(bytes.Clone(rnd[:4<<20]), rnd[:4<<20]...)
	// 3% of the piece a copy of another part of it
	partDup := bytes.Clone(rnd)
	copy(partDup[len(partDup)-len(partDup)*3/100:], partDup)
	for _, tc := range []struct {
		name string
		data []byte
		want bool
	}{
		{"random, a block", rnd, true},
		{"random, 1 MiB", rnd[:minStoredPiece], true},
		{"random, under 1 MiB", rnd[:minStoredPiece-1], false},
		{"random, over a block", append(bytes.Clone(rnd), 1), false},
		{"source", sourceLike(xzBlockSize, 13), false},
		{"gzip output", gz.Bytes()[:min(gz.Len(), xzBlockSize)], false},
		{"byte counter (flat byte frequencies)", counter, false},
		{"random twice", dup, false},
		{"random, 3% repeated", partDup, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Greater(t, len(tc.data), 0)
			assert.Equal(t, tc.want, looksIncompressible(tc.data))
		})
	}
	// Many random pieces, none refused: the bounds sit far in the tail.
	for seed := range 20 {
		assert.True(t, looksIncompressible(chachaBytes(minStoredPiece+seed*1000, byte(100+seed))), "seed %d", seed)
	}
}

// failingReader yields n bytes of source-like text and then fails.
type failingReader struct{ r io.Reader }

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("disk on fire")
	}
	return n, err
}

// A read error while earlier blocks are still compressing ends Write with
// that error, after the workers are done.
func TestWriteXZReadError(t *testing.T) {
	files := []File{
		bytesFile("a", 0o644, sourceLike(100_000, 1)),
		{Name: "b", Mode: 0o644, Open: func() (io.ReadCloser, error) {
			return io.NopCloser(&failingReader{bytes.NewReader(chachaBytes(xzBlockSize+1000, 1))}), nil
		}},
	}
	var buf seekBuffer
	err := Write(&buf, sampleInfo, files, WriteOptions{Workers: 2})
	require.ErrorContains(t, err, "disk on fire")
	assert.ErrorContains(t, err, `"b"`)
}

// The encoder's smaller dictionary for small pieces changes no byte.
func TestEncoderDictCapKeepsBytes(t *testing.T) {
	for _, n := range []int{0, 1, 5000, 2 << 20, 2<<20 + 1, 3 << 20} {
		piece := sourceLike(n, uint64(n))
		if n == 5000 {
			piece = chachaBytes(n, 1)
		}
		var full bytes.Buffer
		w, err := lzma.Writer2Config{DictCap: xzDictSize}.NewWriter2(&full)
		require.NoError(t, err)
		_, err = w.Write(piece)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		b, err := encodeXZBlock(piece, false, nil)
		require.NoError(t, err)
		lzma2 := b.data[len(xzFixedBlockHeader) : b.unpadded-8]
		assert.True(t, bytes.Equal(full.Bytes(), lzma2), "piece of %d bytes", n)
	}
}

// Already-compressed data (gzip output here) is not random enough for
// looksIncompressible, but LZMA gains nothing on samples of it: the piece is stored,
// without running the encoder over it. Compressible data is not.
func TestCompressedDataIsStored(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(sourceLike(8<<20, 21))
	require.NoError(t, zw.Close())
	require.Greater(t, gz.Len(), minStoredPiece)
	piece := gz.Bytes()
	require.False(t, looksIncompressible(piece), "gzip output does not pass as random")
	require.True(t, samplesIncompressible(piece))
	b, err := encodeXZBlock(piece, false, nil)
	require.NoError(t, err)
	chunks := (len(piece) + xzStoredChunk - 1) / xzStoredChunk
	require.Equal(t, uint64(len(xzFixedBlockHeader)+len(piece)+3*chunks+1+8), b.unpadded,
		"stored: uncompressed chunks of 64 KiB and nothing else")

	text := sourceLike(2<<20, 22)
	require.False(t, samplesIncompressible(text))
	b, err = encodeXZBlock(text, false, nil)
	require.NoError(t, err)
	require.Equal(t, byte(0xe0), b.data[len(xzFixedBlockHeader)]&0xe0, "compressed: an LZMA chunk that resets everything")
	require.False(t, samplesIncompressible(piece[:minStoredPiece-1]), "a small piece is always compressed")
}
