package mar

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"hash/crc64"
	"io"
	"sync/atomic"

	"github.com/ulikunitz/xz/lzma"
)

// The xz entry format Write produces, defined byte for byte here except the
// contents of LZMA2 chunks (docs/wire-format.md gives the same rules):
//
//	stream header   fd 37 7a 58 5a 00 | 00 04 (CRC-64) | e6 d6 b4 46 (CRC-32 of 00 04)
//	blocks          the content cut into pieces of xzBlockSize bytes, the last one
//	                shorter; an empty content is one empty piece
//	index           00 | uvarint count | per block: uvarint unpadded size, uvarint
//	                uncompressed size | zero padding to a multiple of 4 | CRC-32
//	stream footer   CRC-32 of the next 6 bytes | u32le index size/4 - 1 | 00 04 | "YZ"
//
// and each block:
//
//	header          02 00 21 01 16 00 00 00 | 74 2f e5 a3 (one LZMA2 filter, 8 MiB
//	                dictionary, no sizes recorded; the last 4 bytes are its CRC-32)
//	data            LZMA2 chunks ending in 00: those of ulikunitz/xz's lzma.Writer2
//	                with its defaults and an 8 MiB dictionary, or, for a piece that
//	                looksIncompressible, uncompressed chunks of 65536 bytes (the last
//	                one shorter): 01 (then 02 from the second) | u16be size-1 | bytes
//	padding         zeros to a multiple of 4
//	check           CRC-64 (ECMA) of the piece, little-endian
//
// Blocks are independent (each resets the LZMA2 dictionary and state), so they
// can be compressed at the same time and the bytes do not depend on how many
// are; a content of one piece gives exactly the stream xz.Writer wrote before.

const (
	// xzBlockSize is the uncompressed size of a block, and so the unit of
	// parallel work; with the 8 MiB dictionary no match can reach past it.
	xzBlockSize = 8 << 20
	xzDictSize  = 8 << 20
	// xzStoredChunk is the largest LZMA2 uncompressed chunk.
	xzStoredChunk = 1 << 16
	// progressStep is how much of a piece the encoder takes between
	// progress reports.
	progressStep = 1 << 20
)

// The fixed parts of the container, spelled out above.
const (
	xzStreamHeader     = "\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46"
	xzFixedBlockHeader = "\x02\x00\x21\x01\x16\x00\x00\x00\x74\x2f\xe5\xa3"
)

// xzEncodedBlock is one encoded block and what the index records of it.
type xzEncodedBlock struct {
	data         []byte // header, LZMA2 data, padding and check
	unpadded     uint64 // header + LZMA2 data + check
	uncompressed uint64
}

// encodeXZBlock encodes one piece of content as an xz block, adding the bytes
// done to progress if it is not nil. Its output is a function of piece (and
// literal) alone. With literal (XZLiteral) every piece is stored, so that every
// byte of the entry is defined without an encoder.
func encodeXZBlock(piece []byte, literal bool, progress *atomic.Int64) (xzEncodedBlock, error) {
	var buf bytes.Buffer
	buf.Grow(len(xzFixedBlockHeader) + len(piece) + len(piece)/xzStoredChunk*3 + 64)
	buf.WriteString(xzFixedBlockHeader)
	stored := literal || looksIncompressible(piece) || samplesIncompressible(piece)
	if stored {
		appendStoredChunks(&buf, piece)
	} else {
		w, err := lzma.Writer2Config{DictCap: encoderDictCap(len(piece))}.NewWriter2(&buf)
		if err != nil {
			return xzEncodedBlock{}, err
		}
		// Writer2's output does not depend on how its input is cut (it buffers
		// and cuts chunks itself; a test compares with the legacy stream's 32 KiB
		// writes).
		for rest := piece; len(rest) > 0; {
			n := min(len(rest), progressStep)
			if _, err := w.Write(rest[:n]); err != nil {
				return xzEncodedBlock{}, err
			}
			if rest = rest[n:]; progress != nil {
				progress.Add(int64(n))
			}
		}
		if err := w.Close(); err != nil {
			return xzEncodedBlock{}, err
		}
	}
	if stored && progress != nil {
		progress.Add(int64(len(piece)))
	}
	unpadded := uint64(buf.Len()) + 8
	for buf.Len()%4 != 0 {
		buf.WriteByte(0)
	}
	buf.Write(binary.LittleEndian.AppendUint64(nil, crc64.Checksum(piece, crc64.MakeTable(crc64.ECMA))))
	return xzEncodedBlock{data: buf.Bytes(), unpadded: unpadded, uncompressed: uint64(len(piece))}, nil
}

// encoderDictCap is the dictionary the encoder allocates for a piece of n
// bytes; the header still says 8 MiB. A piece never reaches back further than
// its own length, and the encoder's hash table has the same 2^20 slots for
// every dictionary of at least 2 MiB, so any such dictionary no smaller than
// the piece gives the same bytes as 8 MiB (a test compares), while a small
// file costs the encoder 18 MiB instead of 48 (its chain array holds 4 bytes
// per dictionary byte).
func encoderDictCap(n int) int {
	return min(max(n, 2<<20), xzDictSize)
}

// appendStoredChunks writes piece as LZMA2 uncompressed chunks and the end
// marker. The first chunk resets the dictionary, as a block's first must.
func appendStoredChunks(buf *bytes.Buffer, piece []byte) {
	control := byte(0x01)
	for len(piece) > 0 {
		n := min(len(piece), xzStoredChunk)
		buf.WriteByte(control)
		buf.Write(binary.BigEndian.AppendUint16(nil, uint16(n-1)))
		buf.Write(piece[:n])
		piece, control = piece[n:], 0x02
	}
	buf.WriteByte(0x00)
}

// appendXZIndex appends the index of blocks and the stream footer.
func appendXZIndex(b []byte, blocks []xzRecord) []byte {
	start := len(b)
	b = append(b, 0x00)
	b = binary.AppendUvarint(b, uint64(len(blocks)))
	for _, r := range blocks {
		b = binary.AppendUvarint(b, r.unpadded)
		b = binary.AppendUvarint(b, r.uncompressed)
	}
	for (len(b)-start)%4 != 0 {
		b = append(b, 0)
	}
	b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
	indexSize := len(b) - start
	var footer [12]byte
	binary.LittleEndian.PutUint32(footer[4:], uint32(indexSize/4-1))
	footer[8], footer[9] = 0x00, 0x04
	footer[10], footer[11] = 'Y', 'Z'
	binary.LittleEndian.PutUint32(footer[:4], crc32.ChecksumIEEE(footer[4:10]))
	return append(b, footer[:]...)
}

// Below this size a piece is always compressed: LZMA on it is cheap, and the
// statistics of looksIncompressible need enough bytes.
const minStoredPiece = 1 << 20

// looksIncompressible reports whether piece is indistinguishable from random
// bytes by two chi-square tests, on its byte frequencies and on the
// frequencies of its overlapping byte pairs. LZMA cannot shrink such data:
// its literal coder needs skewed byte or pair frequencies and its matches
// need repeats, and repeating even a few percent of a piece inflates the
// pair statistic past its bound. On such data the encoder spends several
// seconds per MiB to find that out, so the piece is stored instead.
//
// The bounds are far above what random data gives (the statistics follow
// chi-square laws with 255 and 65535 degrees of freedom: mean 255 and
// 65535, standard deviations about 23 and 362), and far below what text,
// code, executables or already compressed formats such as gzip, PNG or
// JPEG give. Integer arithmetic only, so the decision is the same on every
// machine.
func looksIncompressible(piece []byte) bool {
	n := uint64(len(piece))
	if n < minStoredPiece || n > xzBlockSize {
		return false
	}
	var freq [256]uint64
	for _, c := range piece {
		freq[c]++
	}
	var sum uint64
	for _, c := range freq {
		sum += c * c
	}
	// chi2 = 256·Σc²/n − n ≤ 255 + 256
	if 256*sum > n*(n+255+256) {
		return false
	}
	pairs := make([]uint32, 1<<16)
	for i := 1; i < len(piece); i++ {
		pairs[uint16(piece[i-1])<<8|uint16(piece[i])]++
	}
	m := n - 1
	sum = 0
	for _, c := range pairs {
		sum += uint64(c) * uint64(c)
	}
	// chi2 = 65536·Σc²/m − m ≤ 65535 + 2048
	return 65536*sum <= m*(m+65535+2048)
}

// xzEntryWriter assembles one entry's stream from its blocks in order.
type xzEntryWriter struct {
	w       io.Writer
	records []xzRecord
}

func (e *xzEntryWriter) start() error {
	_, err := io.WriteString(e.w, xzStreamHeader)
	return err
}

func (e *xzEntryWriter) block(b xzEncodedBlock) error {
	e.records = append(e.records, xzRecord{unpadded: b.unpadded, uncompressed: b.uncompressed})
	_, err := e.w.Write(b.data)
	return err
}

func (e *xzEntryWriter) finish() error {
	_, err := e.w.Write(appendXZIndex(nil, e.records))
	return err
}

// sampleSize is the size of each of the three samples samplesIncompressible tries.
const sampleSize = 32 << 10

// samplesIncompressible reports whether LZMA gains less than 3% on each of three
// samples of piece (its start, middle and end), each compressed alone: data already
// compressed (gzip, JPEG, deflated zip entries) is not random enough for
// looksIncompressible, yet the encoder spends seconds per MiB on it to gain about
// 1%. Trying 96 KiB costs a few percent of compressing the piece; a piece whose
// samples miss its compressible parts is stored, at that price in size. The
// decision depends on the piece alone (and this package's encoder settings).
func samplesIncompressible(piece []byte) bool {
	n := len(piece)
	if n < minStoredPiece || n > xzBlockSize {
		return false
	}
	for _, off := range []int{0, (n - sampleSize) / 2, n - sampleSize} {
		var out countingSink
		w, err := lzma.Writer2Config{DictCap: encoderDictCap(sampleSize)}.NewWriter2(&out)
		if err != nil {
			return false
		}
		if _, err := w.Write(piece[off : off+sampleSize]); err != nil {
			return false
		}
		if err := w.Close(); err != nil {
			return false
		}
		if 100*out.n < 97*sampleSize {
			return false
		}
	}
	return true
}

// countingSink counts what is written to it.
type countingSink struct{ n int }

func (c *countingSink) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }
