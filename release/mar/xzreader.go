package mar

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// The LZMA2 decoder allocates a block's dictionary up front, sized by a byte of the
// block header: a few hundred hostile bytes can ask for 4 GiB. So this reader walks
// the xz container itself, forwards, in step with the decoding: it parses each block
// header where the decoder's data actually ended, refuses any filter but LZMA2 and
// any dictionary over the limit, and only then starts lzma's LZMA2 decoder on the
// block's data. The header checked is always the header used. (A check that walks
// the container backwards through the index, before decoding, can be shown another
// layout than the decoder later sees: an index may lie about a block's size.)
//
// It also checks what the xz format asks a decoder to check: header and index
// CRC32s, each block's check (CRC32, CRC64 or SHA-256), the sizes a block header
// declares, the index against the blocks, the footer against the header, and zero
// padding; and, chunk by chunk, that the decoder read exactly the compressed bytes
// each LZMA2 chunk header declares, which lzma's decoder does not check.

const (
	xzHeaderMagic  = "\xfd7zXZ\x00"
	xzFooterMagic  = "YZ"
	xzStreamHdr    = 12
	xzStreamFooter = 12
	xzFilterLZMA2  = 0x21
	xzMaxIndex     = 1 << 20 // bytes of one stream's index
)

// xzFilterName names the filters xz tools may use, for errors.
func xzFilterName(id uint64) string {
	switch id {
	case 0x03:
		return "delta"
	case 0x04:
		return "x86 BCJ"
	case 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b:
		return "BCJ"
	}
	return fmt.Sprintf("id %#x", id)
}

func xzError(format string, args ...any) error {
	return fmt.Errorf("%w: xz: "+format, append([]any{ErrCompression}, args...)...)
}

// lzma2DictSize decodes the LZMA2 dictionary size property.
func lzma2DictSize(p byte) (int64, error) {
	switch {
	case p > 40:
		return 0, xzError("bad LZMA2 dictionary property %d", p)
	case p == 40:
		return 1<<32 - 1, nil
	}
	return int64(2|p&1) << (p/2 + 11), nil
}

type xzRecord struct{ unpadded, uncompressed uint64 }

// xzReader decodes the xz data in r[0:size): one or more streams, each followed by
// optional stream padding.
type xzReader struct {
	r       io.ReaderAt
	size    int64
	maxDict int64
	pos     int64 // next container byte to read

	flags   [2]byte // current stream's flags
	records []xzRecord

	// the block being decoded
	data         *countingReaderAt
	dec          io.Reader
	sum          hash.Hash
	hdrSize      int64
	declComp     int64 // -1 if the header does not declare it
	declUncomp   int64
	uncompressed int64

	// the block's LZMA2 chunk being decoded
	chunkData   int64 // where its compressed data starts
	chunkEnd    int64 // where its compressed data ends
	chunkLeft   int64 // bytes it has yet to produce
	chunksEnded bool  // it is the end marker
	chunkHdr    [6]byte

	// the dictionary budget
	dictAllocated int64 // bytes of all dictionaries allocated
	produced      int64 // bytes decoded by all blocks

	err error
}

// xzWindow is the largest read-ahead window of an xz reader.
const xzWindow = 1 << 20

func newXZReader(r io.ReaderAt, size, maxDict int64) (*xzReader, error) {
	// The reader walks its input forwards, often a byte at a time: read it through a
	// window so that a file-backed input costs one system call per window, not per byte.
	x := &xzReader{r: newWindowReaderAt(r, int(min(size, xzWindow))), size: size, maxDict: maxDict}
	if err := x.startStream(); err != nil {
		return nil, err
	}
	return x, nil
}

func (x *xzReader) Read(p []byte) (int, error) {
	if x.err != nil || len(p) == 0 {
		return 0, x.err
	}
	for {
		if x.dec == nil {
			if x.err = x.next(); x.err != nil {
				return 0, x.err
			}
			continue
		}
		if x.chunkLeft == 0 && !x.chunksEnded {
			if x.err = x.nextChunk(); x.err != nil {
				return 0, x.err
			}
		}
		// Never ask the decoder for more than the chunk holds: it reads the next
		// chunk's header only once nextChunk has checked where this one ended. (At
		// the end marker, one byte: the decoder reads the marker and returns EOF.)
		n, err := x.dec.Read(p[:min(int64(len(p)), max(x.chunkLeft, 1))])
		x.chunkLeft -= int64(n)
		x.uncompressed += int64(n)
		x.produced += int64(n)
		if err == io.EOF {
			err = x.endBlock()
		} else if err != nil {
			err = xzError("LZMA2 chunk data at %d: %v", x.chunkData, err)
		}
		if err != nil {
			x.err = err
			return n, err
		}
		if n > 0 {
			return n, nil
		}
	}
}

func (x *xzReader) read(n int64, what string) ([]byte, error) {
	if n < 0 || n > x.size-x.pos {
		return nil, xzError("%s: truncated", what)
	}
	b := make([]byte, n)
	if n == 0 {
		return b, nil
	}
	if got, err := x.r.ReadAt(b, x.pos); got < len(b) {
		return nil, fmt.Errorf("%w: xz: %s: %v", ErrCompression, what, err)
	}
	x.pos += n
	return b, nil
}

func (x *xzReader) startStream() error {
	h, err := x.read(xzStreamHdr, "stream header")
	if err != nil {
		return err
	}
	if string(h[:6]) != xzHeaderMagic {
		return xzError("bad stream header magic at %d", x.pos-xzStreamHdr)
	}
	if h[6] != 0 || !validCheck(h[7]) || binary.LittleEndian.Uint32(h[8:]) != crc32.ChecksumIEEE(h[6:8]) {
		return xzError("bad stream flags")
	}
	copy(x.flags[:], h[6:8])
	x.records = x.records[:0]
	return nil
}

func validCheck(c byte) bool { return c == 0x00 || c == 0x01 || c == 0x04 || c == 0x0a }

func (x *xzReader) checkSize() int64 {
	switch x.flags[1] {
	case 0x01:
		return 4
	case 0x04:
		return 8
	case 0x0a:
		return 32
	}
	return 0
}

func (x *xzReader) newCheck() hash.Hash {
	switch x.flags[1] {
	case 0x01:
		return crc32.NewIEEE()
	case 0x04:
		return crc64.New(crc64.MakeTable(crc64.ECMA))
	case 0x0a:
		return sha256.New()
	}
	return nil
}

// next reads what follows a stream header or a block: a block header, whose
// decoder it starts, or the index, the footer and what follows the stream.
func (x *xzReader) next() error {
	first, err := x.read(1, "block header")
	if err != nil {
		return err
	}
	if first[0] == 0 {
		if err := x.endStream(); err != nil {
			return err
		}
		return x.afterStream()
	}
	return x.startBlock((int64(first[0]) + 1) * 4)
}

func (x *xzReader) startBlock(hdrSize int64) error {
	rest, err := x.read(hdrSize-1, "block header")
	if err != nil {
		return err
	}
	hdr := append([]byte{byte(hdrSize/4 - 1)}, rest...)
	if binary.LittleEndian.Uint32(hdr[hdrSize-4:]) != crc32.ChecksumIEEE(hdr[:hdrSize-4]) {
		return xzError("block header CRC32 mismatch")
	}
	flags := hdr[1]
	if flags&0x3c != 0 {
		return xzError("reserved block flags %#x", flags)
	}
	rd := bytes.NewReader(hdr[2 : hdrSize-4])
	x.declComp, x.declUncomp = -1, -1
	for _, f := range []struct {
		present bool
		dst     *int64
	}{{flags&0x40 != 0, &x.declComp}, {flags&0x80 != 0, &x.declUncomp}} {
		if f.present {
			v, err := readVLI(rd)
			if err != nil || v > 1<<62 {
				return xzError("bad block size field")
			}
			*f.dst = int64(v)
		}
	}
	if flags&3 != 0 {
		id, err := readVLI(rd)
		if err != nil {
			return xzError("bad filter id")
		}
		return xzError("unsupported filter %s (only a single LZMA2 filter is supported)", xzFilterName(id))
	}
	id, err := readVLI(rd)
	if err != nil {
		return xzError("bad filter id")
	}
	if id != xzFilterLZMA2 {
		return xzError("unsupported filter %s (only a single LZMA2 filter is supported)", xzFilterName(id))
	}
	propSize, err := readVLI(rd)
	if err != nil || propSize != 1 {
		return xzError("malformed LZMA2 filter")
	}
	prop, _ := rd.ReadByte()
	dict, err := lzma2DictSize(prop)
	if err != nil {
		return err
	}
	if dict > x.maxDict {
		return xzError("LZMA2 dictionary of %d bytes exceeds limit %d", dict, x.maxDict)
	}
	for rd.Len() > 0 {
		if b, _ := rd.ReadByte(); b != 0 {
			return xzError("non-zero block header padding")
		}
	}
	x.hdrSize, x.uncompressed = hdrSize, 0
	x.data = &countingReaderAt{r: x.r, pos: x.pos, end: x.size}
	if x.declComp >= 0 && x.declComp < x.size-x.pos {
		x.data.end = x.pos + x.declComp
	}
	capacity, err := x.dictCapacity(dict)
	if err != nil {
		return err
	}
	dec, err := lzma.Reader2Config{DictCap: int(capacity)}.NewReader2(x.data)
	if err != nil {
		return xzError("%v", err)
	}
	if err := x.startChunk(x.pos); err != nil { // the header the decoder has just read
		return err
	}
	x.sum = x.newCheck()
	x.dec = dec
	if x.sum != nil {
		x.dec = io.TeeReader(dec, x.sum)
	}
	return nil
}

// dictCapacity returns the dictionary to allocate for the block whose data starts at
// x.pos, whose header asks for dict bytes: no more than the block can use, which is
// no more than its declared uncompressed size or the sizes its LZMA2 chunks declare,
// and charges it to the reader's budget.
//
// A block of n bytes never reaches back further than n bytes, so a larger dictionary
// is only allocated and zeroed, never used. Without this bound a stream of empty
// blocks, each asking for 64 MiB, made the decoder allocate 64 MiB per 16 bytes of
// input while producing no output that a size limit could stop.
func (x *xzReader) dictCapacity(dict int64) (int64, error) {
	need := dict
	if x.declUncomp >= 0 {
		need = min(need, x.declUncomp)
	}
	size, err := lzma2Size(x.r, x.data.pos, x.data.end, need, &x.chunkHdr)
	if err != nil {
		return 0, err
	}
	capacity := max(min(need, size), lzma.MinDictCap)
	// The budget: all the dictionaries the reader allocates come to at most the
	// slack plus the output so far. Sized as above, a block's dictionary exceeds its
	// output only by the decoder's minimum (4 KiB), so only a flood of blocks of a
	// few bytes each reaches it.
	if x.dictAllocated+capacity > max(x.maxDict, DefaultMaxXZDict)+x.produced {
		return 0, xzError("block %d: LZMA2 dictionaries of %d bytes for %d bytes of output exceed the budget",
			len(x.records), x.dictAllocated+capacity, x.produced)
	}
	x.dictAllocated += capacity
	return capacity, nil
}

// lzma2Size walks the chunk headers of the LZMA2 data in r[pos:end) and returns the
// uncompressed size they declare, or limit as soon as that reaches limit. h is
// scratch space for the headers.
func lzma2Size(r io.ReaderAt, pos, end, limit int64, h *[6]byte) (int64, error) {
	var size int64
	for size < limit {
		c, err := readLZMA2Chunk(r, pos, end, h)
		if err != nil {
			return 0, err
		}
		if c.uncompressed == 0 { // the end marker
			return size, nil
		}
		size, pos = size+c.uncompressed, c.end
	}
	return limit, nil
}

// lzma2Chunk is an LZMA2 chunk as its header declares it.
type lzma2Chunk struct {
	data, end    int64 // where its compressed data starts and ends
	uncompressed int64 // bytes it decodes to: 0 for the end marker, at least 1 otherwise
}

// readLZMA2Chunk reads the header of the LZMA2 chunk at pos in r[:end) into h.
// (Passing h in saves an allocation per header: a buffer given to ReaderAt escapes.)
func readLZMA2Chunk(r io.ReaderAt, pos, end int64, h *[6]byte) (lzma2Chunk, error) {
	read := func(n int64) error {
		if n > end-pos {
			return xzError("LZMA2 chunk header: truncated")
		}
		if got, err := r.ReadAt(h[:n], pos); got < int(n) {
			return xzError("LZMA2 chunk header: %v", err)
		}
		return nil
	}
	if err := read(1); err != nil {
		return lzma2Chunk{}, err
	}
	switch c := h[0]; {
	case c == 0x00: // end of the LZMA2 data
		return lzma2Chunk{data: pos + 1, end: pos + 1}, nil
	case c == 0x01 || c == 0x02: // uncompressed chunk
		if err := read(3); err != nil {
			return lzma2Chunk{}, err
		}
		n := int64(binary.BigEndian.Uint16(h[1:])) + 1
		return lzma2Chunk{data: pos + 3, end: pos + 3 + n, uncompressed: n}, nil
	case c >= 0x80: // LZMA chunk; new properties from state reset 2 on
		hl := int64(5)
		if c >= 0xc0 {
			hl = 6
		}
		if err := read(hl); err != nil {
			return lzma2Chunk{}, err
		}
		n := int64(c&0x1f)<<16 | int64(binary.BigEndian.Uint16(h[1:])) + 1
		compressed := int64(binary.BigEndian.Uint16(h[3:])) + 1
		return lzma2Chunk{data: pos + hl, end: pos + hl + compressed, uncompressed: n}, nil
	}
	return lzma2Chunk{}, xzError("bad LZMA2 chunk control byte %#x", h[0])
}

// startChunk reads the header of the block's LZMA2 chunk at pos, the one the
// decoder reads next (or, for the block's first, has just read).
func (x *xzReader) startChunk(pos int64) error {
	c, err := readLZMA2Chunk(x.r, pos, x.data.end, &x.chunkHdr)
	if err != nil {
		return err
	}
	x.chunkData, x.chunkEnd, x.chunkLeft, x.chunksEnded = c.data, c.end, c.uncompressed, c.uncompressed == 0
	return nil
}

// nextChunk checks, once the decoder has produced all of the current chunk, that it
// read exactly the chunk's compressed bytes, and starts the next chunk. lzma's
// decoder reads a chunk's data through a limit, so it never reads more; but it does
// not check that it read all: it would read the next chunk's header from inside
// this chunk's data, where xz says "Compressed data is corrupt".
func (x *xzReader) nextChunk() error {
	if x.data.pos != x.chunkEnd {
		return xzError("LZMA2 chunk data at %d: its header declares %d bytes, the decoder read %d",
			x.chunkData, x.chunkEnd-x.chunkData, x.data.pos-x.chunkData)
	}
	return x.startChunk(x.chunkEnd)
}

// endBlock checks the block's sizes, padding and check once its data has ended.
func (x *xzReader) endBlock() error {
	compressed := x.data.pos - x.pos
	x.pos = x.data.pos
	x.dec, x.data = nil, nil
	if x.declComp >= 0 && compressed != x.declComp || x.declUncomp >= 0 && x.uncompressed != x.declUncomp {
		return xzError("block sizes differ from its header")
	}
	pad, err := x.read((4-(x.hdrSize+compressed)%4)%4, "block padding")
	if err != nil {
		return err
	}
	if !bytes.Equal(pad, make([]byte, len(pad))) {
		return xzError("non-zero block padding")
	}
	check, err := x.read(x.checkSize(), "block check")
	if err != nil {
		return err
	}
	if x.sum != nil {
		want := x.sum.Sum(nil)
		if x.flags[1] != 0x0a { // CRC32 and CRC64 are stored little-endian
			for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
				want[i], want[j] = want[j], want[i]
			}
		}
		if !bytes.Equal(check, want) {
			return xzError("block check mismatch")
		}
	}
	x.records = append(x.records, xzRecord{uint64(x.hdrSize + compressed + x.checkSize()), uint64(x.uncompressed)})
	return nil
}

// endStream reads the index (its indicator byte already read) and the footer.
func (x *xzReader) endStream() error {
	start := x.pos - 1
	rd := &countingByteReader{x: x}
	count, err := readVLI(rd)
	if err != nil || count != uint64(len(x.records)) {
		return xzError("index lists %d blocks, the stream has %d", count, len(x.records))
	}
	for _, rec := range x.records {
		u, err1 := readVLI(rd)
		c, err2 := readVLI(rd)
		if err1 != nil || err2 != nil || u != rec.unpadded || c != rec.uncompressed {
			return xzError("index does not match the blocks")
		}
	}
	if rd.err != nil {
		return rd.err
	}
	for (x.pos-start)%4 != 0 {
		b, err := x.read(1, "index padding")
		if err != nil {
			return err
		}
		if b[0] != 0 {
			return xzError("non-zero index padding")
		}
	}
	if x.pos-start > xzMaxIndex {
		return xzError("index of %d bytes", x.pos-start)
	}
	body := make([]byte, x.pos-start)
	if got, err := x.r.ReadAt(body, start); got < len(body) {
		return xzError("index: %v", err)
	}
	crc, err := x.read(4, "index CRC32")
	if err != nil {
		return err
	}
	if binary.LittleEndian.Uint32(crc) != crc32.ChecksumIEEE(body) {
		return xzError("index CRC32 mismatch")
	}
	f, err := x.read(xzStreamFooter, "stream footer")
	if err != nil {
		return err
	}
	indexSize := int64(len(body)) + 4
	switch {
	case string(f[10:]) != xzFooterMagic:
		return xzError("bad stream footer magic")
	case binary.LittleEndian.Uint32(f) != crc32.ChecksumIEEE(f[4:10]):
		return xzError("stream footer CRC32 mismatch")
	case int64(binary.LittleEndian.Uint32(f[4:]))+1 != indexSize/4:
		return xzError("footer's index size differs from the index")
	case f[8] != x.flags[0] || f[9] != x.flags[1]:
		return xzError("footer's stream flags differ from the header's")
	}
	return nil
}

// afterStream skips stream padding and starts the next stream, or ends the data.
func (x *xzReader) afterStream() error {
	for x.size-x.pos >= 4 {
		var b [4]byte
		if got, err := x.r.ReadAt(b[:], x.pos); got < len(b) {
			return xzError("stream padding: %v", err)
		}
		if b != [4]byte{} {
			return x.startStream()
		}
		x.pos += 4
	}
	if x.pos != x.size {
		return xzError("%d trailing bytes after the last stream", x.size-x.pos)
	}
	return io.EOF
}

// countingReaderAt reads r[pos:end) sequentially, byte by byte when asked: the
// LZMA2 decoder reads a block's data through it, and pos says where the data ended.
type countingReaderAt struct {
	r        io.ReaderAt
	pos, end int64
}

func (c *countingReaderAt) Read(p []byte) (int, error) {
	if c.pos >= c.end {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), c.end-c.pos)]
	n, err := c.r.ReadAt(p, c.pos)
	c.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (c *countingReaderAt) ReadByte() (byte, error) {
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return 0, err
	}
	return b[0], nil
}

// countingByteReader reads the index one byte at a time through x.read.
type countingByteReader struct {
	x   *xzReader
	err error
}

func (r *countingByteReader) ReadByte() (byte, error) {
	b, err := r.x.read(1, "index")
	if err != nil {
		r.err = err
		return 0, err
	}
	return b[0], nil
}

var _ io.ByteReader = (*countingByteReader)(nil)

// readVLI reads an xz multibyte integer. Unlike binary.ReadUvarint it takes only
// the shortest encoding (no final zero byte after the first) of at most 9 bytes, as
// the format asks: xz refuses the longer encodings of a value, so a reader taking
// them would decode files xz calls corrupt.
func readVLI(r io.ByteReader) (uint64, error) {
	var v uint64
	for i := range 9 {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		if i > 0 && b == 0 {
			return 0, xzError("multibyte integer not in its shortest form")
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return v, nil
		}
	}
	return 0, xzError("multibyte integer of more than 9 bytes")
}
