package mar

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"io"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// The xz reader at the edges of what it accepts: each size, bound and padding check
// at and just past its limit, and the input read only within r[0:size).

// Stream flags (check types) of the xz format.
const (
	xzCheckNone   = 0x00
	xzCheckCRC32  = 0x01
	xzCheckCRC64  = 0x04
	xzCheckSHA256 = 0x0a
)

// xzBlockHdr is a block header with one LZMA2 filter of dictionary property prop,
// declaring the compressed size declC and the uncompressed size declU where these
// are not negative.
func xzBlockHdr(declC, declU int64, prop byte) []byte {
	h := []byte{0, 0}
	if declC >= 0 {
		h[1] |= 0x40
		h = binary.AppendUvarint(h, uint64(declC))
	}
	if declU >= 0 {
		h[1] |= 0x80
		h = binary.AppendUvarint(h, uint64(declU))
	}
	h = append(h, xzFilterLZMA2, 1, prop)
	for len(h)%4 != 0 {
		h = append(h, 0)
	}
	h[0] = byte(len(h) / 4) // (len(h)+4)/4 - 1
	return binary.LittleEndian.AppendUint32(h, crc32.ChecksumIEEE(h))
}

func edgeStreamHeader(check byte) []byte {
	return binary.LittleEndian.AppendUint32([]byte(xzHeaderMagic+"\x00"+string(check)), crc32.ChecksumIEEE([]byte{0, check}))
}

// xzCheckOf is the block check of content for the check type, as stored.
func xzCheckOf(check byte, content []byte) []byte {
	switch check {
	case xzCheckCRC32:
		return binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(content))
	case xzCheckCRC64:
		return binary.LittleEndian.AppendUint64(nil, crc64.Checksum(content, crc64.MakeTable(crc64.ECMA)))
	case xzCheckSHA256:
		s := sha256.Sum256(content)
		return s[:]
	}
	return nil
}

// xzTail is the index of the records (unpadded and uncompressed size of each block)
// and the stream footer, for the check type.
func xzTail(check byte, records [][2]uint64) []byte {
	idx := binary.AppendUvarint([]byte{0}, uint64(len(records)))
	for _, r := range records {
		idx = binary.AppendUvarint(binary.AppendUvarint(idx, r[0]), r[1])
	}
	for len(idx)%4 != 0 {
		idx = append(idx, 0)
	}
	idx = binary.LittleEndian.AppendUint32(idx, crc32.ChecksumIEEE(idx))
	ft := binary.LittleEndian.AppendUint32(nil, uint32(len(idx)/4-1))
	ft = append(ft, 0, check)
	ft = append(binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(ft)), ft...)
	return append(append(idx, ft...), xzFooterMagic...)
}

// xzLayout is a one-block stream cut into its fields, in order.
type xzLayout struct{ streamHdr, blockHdr, data, padding, check, index, indexPad, indexCRC, footer []byte }

func (l xzLayout) bytes() []byte {
	return bytes.Join([][]byte{l.streamHdr, l.blockHdr, l.data, l.padding, l.check, l.index, l.indexPad, l.indexCRC, l.footer}, nil)
}

// oneBlockLayout lays out a stream of check type CRC32 with one block that declares
// its compressed size only and holds content as uncompressed LZMA2 chunks.
func oneBlockLayout(content []byte) xzLayout {
	var l xzLayout
	l.streamHdr = edgeStreamHeader(xzCheckCRC32)
	l.data = uncompressedChunks(content)
	l.blockHdr = xzBlockHdr(int64(len(l.data)), -1, 0)
	l.padding = make([]byte, (4-(len(l.blockHdr)+len(l.data))%4)%4)
	l.check = xzCheckOf(xzCheckCRC32, content)
	unpadded := len(l.blockHdr) + len(l.data) + len(l.check)
	tail := xzTail(xzCheckCRC32, [][2]uint64{{uint64(unpadded), uint64(len(content))}})
	fields := binary.AppendUvarint(binary.AppendUvarint([]byte{0, 1}, uint64(unpadded)), uint64(len(content)))
	l.index = tail[:len(fields)]
	l.indexPad = tail[len(fields) : len(tail)-16]
	l.indexCRC = tail[len(tail)-16 : len(tail)-12]
	l.footer = tail[len(tail)-12:]
	return l
}

// decodeXZ decodes r[0:size) with NewXZReader and the default dictionary limit.
func decodeXZ(r io.ReaderAt, size int64) ([]byte, error) {
	x, err := NewXZReader(r, size, DefaultMaxXZDict)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(x)
}

// A stream cut short is refused with the name of the field it was cut in, even when
// the reader holds the rest: NewXZReader decodes r[0:size), and nothing past size
// takes part, neither container fields nor block data.
func TestXZReadsOnlyUpToSize(t *testing.T) {
	content := pseudoRandom(301, 11) // 305 bytes of LZMA2 data: 3 bytes of block padding
	l := oneBlockLayout(content)
	raw := l.bytes()
	require.Len(t, l.padding, 3)
	require.Len(t, l.indexPad, 2)

	// The whole stream decodes: a block that declares its compressed size only (the
	// size walk then reads its end marker, the last byte of that size).
	got, err := decodeXZ(bytes.NewReader(raw), int64(len(raw)))
	require.NoError(t, err)
	require.Equal(t, content, got)

	at := func(field int, into int) int64 {
		parts := [][]byte{l.streamHdr, l.blockHdr, l.data, l.padding, l.check, l.index, l.indexPad, l.indexCRC, l.footer}
		off := 0
		for _, p := range parts[:field] {
			off += len(p)
		}
		return int64(off + into)
	}
	for _, tc := range []struct {
		cut int64
		msg string
		out []byte // decoded before the error
	}{
		{at(0, 6), "stream header: truncated", nil},
		{at(1, 5), "block header: truncated", nil},
		{at(2, 100), "LZMA2 chunk header: truncated", nil},
		{at(2, 290), "LZMA2 chunk header: truncated", nil}, // 15 bytes before the block's declared end
		{at(3, 1), "block padding: truncated", content},
		{at(4, 2), "block check: truncated", content},
		{at(6, 1), "index padding: truncated", content},
		{at(7, 2), "index CRC32: truncated", content},
		{at(8, 11), "stream footer: truncated", content},
	} {
		t.Run(tc.msg, func(t *testing.T) {
			got, err := decodeXZ(bytes.NewReader(raw), tc.cut)
			require.ErrorIs(t, err, ErrCompression)
			require.ErrorContains(t, err, tc.msg)
			require.Equal(t, string(tc.out), string(got), "block data past the size reached the output")
		})
	}
}

// Every Read returns data or an error, never 0 and nil (io.Reader discourages it),
// however many empty blocks lie between the data; a Read of nothing returns 0, nil.
func TestXZReadReturnsDataOrError(t *testing.T) {
	empty := xzBlock{prop: 0, declU: -1, lzma2: []byte{0}}
	a, b := []byte("first block"), []byte("second")
	raw := xzStreamOf(empty,
		xzBlock{prop: 0, declU: -1, lzma2: uncompressedChunks(a), uncomp: int64(len(a))},
		empty, empty,
		xzBlock{prop: 0, declU: -1, lzma2: uncompressedChunks(b), uncomp: int64(len(b))},
		empty)
	r, err := NewXZReader(bytes.NewReader(raw), int64(len(raw)), DefaultMaxXZDict)
	require.NoError(t, err)
	var got []byte
	buf := make([]byte, 5)
	for {
		n, err := r.Read(buf)
		require.True(t, n > 0 || err != nil, "Read returned 0, nil after %q", got)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	require.Equal(t, append(bytes.Clone(a), b...), got)

	r, err = NewXZReader(bytes.NewReader(raw), int64(len(raw)), DefaultMaxXZDict)
	require.NoError(t, err)
	n, err := r.Read(nil)
	require.Zero(t, n)
	require.NoError(t, err)
	got, err = io.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, append(bytes.Clone(a), b...), got)
}

// The xz reader's own bound on a size field is 2^62: a block declaring exactly that
// gets past the field check (and is then refused for not having that size), one byte
// more is a bad field.
func TestXZSizeFieldBound(t *testing.T) {
	content := []byte("abc")
	data := uncompressedChunks(content)
	for _, tc := range []struct {
		declC, declU int64
		msg          string
	}{
		{1 << 62, -1, "block sizes differ from its header"},
		{1<<62 + 1, -1, "bad block size field"},
		{-1, 1 << 62, "block sizes differ from its header"},
		{-1, 1<<62 + 1, "bad block size field"},
	} {
		t.Run(fmt.Sprint(tc.declC, tc.declU), func(t *testing.T) {
			raw := append(edgeStreamHeader(xzCheckNone), xzBlockHdr(tc.declC, tc.declU, 0)...)
			raw = append(raw, data...)
			raw = append(raw, make([]byte, 64)...)
			_, err := decodeXZ(bytes.NewReader(raw), int64(len(raw)))
			require.ErrorIs(t, err, ErrCompression)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

// A block that declares an uncompressed size of 0 must decode to nothing, and gets no
// more dictionary than an empty block, whatever its LZMA2 chunks claim.
func TestXZDeclaredEmptyBlock(t *testing.T) {
	// It holds three bytes: refused.
	content := []byte("abc")
	raw := xzStreamOf(xzBlock{prop: 0, declU: 0, lzma2: uncompressedChunks(content), uncomp: 3})
	_, _, err := allocatedReading(t, raw, DefaultMaxXZDict)
	require.ErrorIs(t, err, ErrCompression)
	require.ErrorContains(t, err, "block sizes differ from its header")

	// Its chunk headers claim 64 MiB (32 LZMA chunks of 2 MiB, one compressed byte
	// each) under a header asking for a 64 MiB dictionary: the decoder gets the
	// minimum, and fails on the first chunk.
	var chunks []byte
	for range 32 {
		chunks = append(chunks, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00)
	}
	chunks = append(chunks, 0)
	n, err := lzma2Size(bytes.NewReader(chunks), 0, int64(len(chunks)), 1<<40, new([6]byte))
	require.NoError(t, err)
	require.EqualValues(t, 64<<20, n)
	raw = xzStreamOf(xzBlock{prop: xzProp64MiB, declU: 0, lzma2: chunks})
	allocated, got, err := allocatedReading(t, raw, DefaultMaxXZDict)
	require.ErrorIs(t, err, ErrCompression)
	require.Empty(t, got)
	require.Less(t, allocated, uint64(8<<20), "a block declaring 0 bytes allocated %d bytes", allocated)
}

// uncompressedBlock is a stream header and one block of a single uncompressed chunk
// holding content, whose header declares the compressed size declC and the
// uncompressed size, and nothing after the block's data: enough to decode the block.
func uncompressedBlock(content []byte, declC int64) []byte {
	raw := append(edgeStreamHeader(xzCheckNone), xzBlockHdr(declC, int64(len(content)), 0)...)
	return append(raw, uncompressedChunks(content)...)
}

// A block's data ends where its header says, even inside a chunk: the decoder reads
// nothing past it. (The size walk stops at the declared uncompressed size, after the
// chunk's header, so only the decoder sees the chunk run past the end.)
func TestXZBlockDataEndsInsideChunk(t *testing.T) {
	content := pseudoRandom(100, 12)
	raw := uncompressedBlock(content, 50) // the chunk is 104 bytes
	got, err := decodeXZ(bytes.NewReader(raw), int64(len(raw)))
	require.ErrorIs(t, err, ErrCompression)
	require.LessOrEqual(t, len(got), 50-3, "bytes past the block's compressed size were decoded")
	require.Equal(t, content[:len(got)], got)
}

// Given a size larger than the input holds, the reader reports the end of the input
// as an error (and does not wait for more bytes forever).
func TestXZInputShorterThanSize(t *testing.T) {
	content := pseudoRandom(100, 13)
	raw := uncompressedBlock(content, -1)
	start := len(raw) - len(content) - 1
	for _, held := range []int{0, 40} { // bytes of the chunk the input holds
		got, err := decodeXZ(bytes.NewReader(raw[:start+held]), int64(len(raw)+64))
		require.ErrorIs(t, err, ErrCompression)
		require.LessOrEqual(t, len(got), held)
		require.Equal(t, content[:len(got)], got)
	}
}

// flakyReaderAt fails the first read that starts at fail, and cuts every read that
// spans it there, with an error: a disk that fails once.
type flakyReaderAt struct {
	data   []byte
	fail   int64
	failed bool
}

func (f *flakyReaderAt) ReadAt(p []byte, off int64) (int, error) {
	switch {
	case off == f.fail && !f.failed:
		f.failed = true
		return 0, errBroken
	case off < f.fail && off+int64(len(p)) > f.fail:
		return copy(p, f.data[off:f.fail]), errBroken
	}
	return bytes.NewReader(f.data).ReadAt(p, off)
}

// A read error of the input ends decoding with that error, even when reading again
// would succeed.
func TestXZReadErrorIsReported(t *testing.T) {
	content := pseudoRandom(100_000, 14)
	raw := xzStreamOf(xzBlock{prop: 0, declU: -1, lzma2: uncompressedChunks(content), uncomp: int64(len(content))})
	dataStart := int64(12 + 12 + 3) // stream header, block header, chunk header
	f := &flakyReaderAt{data: raw, fail: dataStart + 1000}
	_, err := decodeXZ(f, int64(len(raw)))
	require.True(t, f.failed)
	require.ErrorIs(t, err, ErrCompression)
	require.ErrorContains(t, err, errBroken.Error())

	got, err := decodeXZ(f, int64(len(raw)))
	require.NoError(t, err, "the input reads fine the second time")
	require.Equal(t, content, got)
}

// emptyBlockStream is a stream of n empty blocks (check type none, 4 KiB dictionary),
// built by repetition: its index has 2 bytes per block.
func emptyBlockStream(n int) []byte {
	hdr := xzBlockHdr(-1, -1, 0)
	block := append(bytes.Clone(hdr), 0, 0, 0, 0) // end marker, 3 bytes of padding
	records := make([][2]uint64, n)
	for i := range records {
		records[i] = [2]uint64{uint64(len(hdr) + 1), 0}
	}
	out := append(edgeStreamHeader(xzCheckNone), bytes.Repeat(block, n)...)
	return append(out, xzTail(xzCheckNone, records)...)
}

// An index (indicator to padding) of exactly xzMaxIndex bytes is read, one of 4 more is
// refused. Each takes half a million blocks; their dictionaries, 4 KiB each, need a
// limit above the default budget. (2.5 s, 11 s under -race: skipped with -short.)
func TestXZIndexSizeLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("a million blocks")
	}
	const fit = (xzMaxIndex - 1 - 3) / 2 // indicator, 3-byte count, 2 bytes per record
	for _, tc := range []struct {
		blocks int
		err    string
	}{
		{fit, ""},
		{fit + 2, fmt.Sprintf("index of %d bytes", xzMaxIndex+4)},
	} {
		raw := emptyBlockStream(tc.blocks)
		r, err := NewXZReader(bytes.NewReader(raw), int64(len(raw)), 4<<30)
		require.NoError(t, err)
		got, err := io.ReadAll(r)
		if tc.err == "" {
			require.NoError(t, err)
			require.Empty(t, got)
		} else {
			require.ErrorIs(t, err, ErrCompression)
			require.ErrorContains(t, err, tc.err)
		}
	}
}

// Each check of the stream footer refuses a footer changed in its field.
func TestXZFooterRefusals(t *testing.T) {
	raw := oneBlockLayout([]byte("footer")).bytes()
	footer := len(raw) - 12
	// reCRC recomputes the footer's CRC32 after a change to the fields it covers.
	reCRC := func(b []byte) []byte {
		binary.LittleEndian.PutUint32(b[footer:], crc32.ChecksumIEEE(b[footer+4:footer+10]))
		return b
	}
	for name, tc := range map[string]struct {
		change func(b []byte) []byte
		msg    string
	}{
		"magic":            {func(b []byte) []byte { b[len(b)-1] = 'X'; return b }, "bad stream footer magic"},
		"CRC32":            {func(b []byte) []byte { b[footer] ^= 1; return b }, "stream footer CRC32 mismatch"},
		"index size +1":    {func(b []byte) []byte { b[footer+4]++; return reCRC(b) }, "footer's index size differs from the index"},
		"index size -1":    {func(b []byte) []byte { b[footer+4]--; return reCRC(b) }, "footer's index size differs from the index"},
		"first flag byte":  {func(b []byte) []byte { b[footer+8] = 1; return reCRC(b) }, "footer's stream flags differ from the header's"},
		"check type crc64": {func(b []byte) []byte { b[footer+9] = xzCheckCRC64; return reCRC(b) }, "footer's stream flags differ from the header's"},
	} {
		t.Run(name, func(t *testing.T) {
			b := tc.change(bytes.Clone(raw))
			_, err := decodeXZ(bytes.NewReader(b), int64(len(b)))
			require.ErrorIs(t, err, ErrCompression)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

// Stream padding comes in multiples of four zero bytes; anything else after the last
// stream is refused, with its length.
func TestXZTrailingBytes(t *testing.T) {
	raw := oneBlockLayout([]byte("trailing")).bytes()
	for _, extra := range []int{1, 2, 3, 4, 5, 8, 11} {
		b := append(bytes.Clone(raw), make([]byte, extra)...)
		got, err := decodeXZ(bytes.NewReader(b), int64(len(b)))
		if extra%4 == 0 {
			require.NoError(t, err)
			require.Equal(t, []byte("trailing"), got)
			continue
		}
		require.ErrorIs(t, err, ErrCompression)
		require.ErrorContains(t, err, fmt.Sprintf("%d trailing bytes after the last stream", extra%4))
	}
}

// A stream header's magic is checked where each stream starts; the error says where.
func TestXZBadStreamMagic(t *testing.T) {
	_, err := decodeXZ(bytes.NewReader([]byte("not an xz stream")), 16)
	require.ErrorIs(t, err, ErrCompression)
	require.ErrorContains(t, err, "bad stream header magic at 0")

	raw := oneBlockLayout([]byte("first")).bytes()
	b := append(bytes.Clone(raw), 0, 0, 0, 0)
	b = append(b, "second stream?..."...)
	got, err := decodeXZ(bytes.NewReader(b), int64(len(b)))
	require.ErrorContains(t, err, fmt.Sprintf("bad stream header magic at %d", len(raw)+4))
	require.Equal(t, []byte("first"), got)
}

// Multibyte integers are taken in their shortest encoding of at most 9 bytes only, as
// xz itself does.
func TestReadVLI(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want uint64
		ok   bool
	}{
		{[]byte{0x00}, 0, true},
		{[]byte{0x7f}, 127, true},
		{[]byte{0x80, 0x01}, 128, true},
		{[]byte{0x80, 0x80, 0x01}, 1 << 14, true},
		{append(bytes.Repeat([]byte{0xff}, 8), 0x7f), 1<<63 - 1, true},
		{[]byte{0x80, 0x00}, 0, false},                          // 0 in two bytes
		{[]byte{0x81, 0x00}, 0, false},                          // 1 in two bytes
		{append(bytes.Repeat([]byte{0x80}, 9), 0x01), 0, false}, // 10 bytes
		{append(bytes.Repeat([]byte{0xff}, 9), 0x00), 0, false},
		{[]byte{0x80}, 0, false}, // cut short
		{nil, 0, false},
	} {
		v, err := readVLI(bytes.NewReader(tc.in))
		if tc.ok {
			require.NoError(t, err, "% x", tc.in)
			require.Equal(t, tc.want, v, "% x", tc.in)
		} else {
			require.Error(t, err, "% x", tc.in)
		}
	}

	// A stream whose index counts its one block as 0x81 0x00 instead of 0x01: the
	// system xz refuses it too.
	l := oneBlockLayout([]byte("vli"))
	idx := append([]byte{0, 0x81, 0}, l.index[2:]...)
	for len(idx)%4 != 0 {
		idx = append(idx, 0)
	}
	idx = binary.LittleEndian.AppendUint32(idx, crc32.ChecksumIEEE(idx))
	ft := binary.LittleEndian.AppendUint32(nil, uint32(len(idx)/4-1))
	ft = append(ft, 0, xzCheckCRC32)
	ft = append(binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(ft)), ft...)
	bad := bytes.Join([][]byte{l.streamHdr, l.blockHdr, l.data, l.padding, l.check, idx, ft, []byte(xzFooterMagic)}, nil)
	_, err := decodeXZ(bytes.NewReader(bad), int64(len(bad)))
	require.ErrorIs(t, err, ErrCompression)
	require.ErrorContains(t, err, "index lists")
	if xzPath, err := exec.LookPath("xz"); err == nil {
		cmd := exec.Command(xzPath, "-t")
		cmd.Stdin = bytes.NewReader(bad)
		require.Error(t, cmd.Run(), "xz -t accepts the index count 0x81 0x00")
		cmd = exec.Command(xzPath, "-t")
		cmd.Stdin = bytes.NewReader(l.bytes())
		require.NoError(t, cmd.Run(), "xz -t refuses the stream with a well-formed index")
	}
}
