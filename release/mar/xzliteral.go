package mar

import (
	"encoding/binary"
	"hash/crc32"
	"hash/crc64"
	"io"
)

// The XZLiteral encoding: one xz stream whose LZMA2 data are uncompressed chunks
// only. Every byte follows from the content alone (docs/wire-format.md spells them
// out), so an independent implementation writes the same entry without any
// particular LZMA encoder; the price is no compression at all.

// literalChunk is the largest LZMA2 uncompressed chunk (its size is stored minus one
// in 16 bits).
const literalChunk = 1 << 16

var (
	// literalStreamHeader: magic, flags 00 04 (CRC-64 check), CRC-32 of the flags.
	literalStreamHeader = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00, 0x00, 0x04, 0xe6, 0xd6, 0xb4, 0x46}
	// literalBlockHeader: header size byte (2 → 12 bytes), block flags 00 (one filter, no
	// sizes), filter 21 (LZMA2), 1 property byte, 16 (8 MiB dictionary), padding, CRC-32.
	literalBlockHeader = []byte{0x02, 0x00, 0x21, 0x01, 0x16, 0x00, 0x00, 0x00, 0x74, 0x2f, 0xe5, 0xa3}
	crc64Table         = crc64.MakeTable(crc64.ECMA)
)

const (
	lzma2End                 = 0x00 // end of the LZMA2 data
	lzma2UncompressedReset   = 0x01 // uncompressed chunk, dictionary reset: the first
	lzma2UncompressedNoReset = 0x02 // uncompressed chunk: every later one
	xzCheckSize              = 8    // CRC-64
)

// writeXZLiteral copies src to dst as an XZLiteral xz stream.
func writeXZLiteral(dst io.Writer, src io.Reader) error {
	if _, err := dst.Write(literalStreamHeader); err != nil {
		return err
	}
	if _, err := dst.Write(literalBlockHeader); err != nil {
		return err
	}
	check := crc64.New(crc64Table)
	buf := make([]byte, 3+literalChunk)
	var size, compressed uint64
	for control := byte(lzma2UncompressedReset); ; control = lzma2UncompressedNoReset {
		n, err := io.ReadFull(src, buf[3:])
		if n > 0 {
			buf[0] = control
			binary.BigEndian.PutUint16(buf[1:3], uint16(n-1))
			if _, werr := dst.Write(buf[:3+n]); werr != nil {
				return werr
			}
			check.Write(buf[3 : 3+n])
			size += uint64(n)
			compressed += uint64(3 + n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return err
		}
	}
	compressed++ // the end marker
	tail := []byte{lzma2End}
	// Block padding: the block header and the LZMA2 data to a multiple of four bytes.
	for (uint64(len(literalBlockHeader))+compressed+uint64(len(tail)-1))%4 != 0 {
		tail = append(tail, 0)
	}
	tail = binary.LittleEndian.AppendUint64(tail, check.Sum64())
	unpadded := uint64(len(literalBlockHeader)) + compressed + xzCheckSize
	tail = append(tail, xzIndex(unpadded, size)...)
	_, err := dst.Write(tail)
	return err
}

// xzIndex returns the index of a one-block stream and the stream footer.
func xzIndex(unpadded, size uint64) []byte {
	idx := []byte{0x00, 0x01} // index indicator, one record
	idx = binary.AppendUvarint(idx, unpadded)
	idx = binary.AppendUvarint(idx, size)
	for len(idx)%4 != 0 {
		idx = append(idx, 0)
	}
	idx = binary.LittleEndian.AppendUint32(idx, crc32.ChecksumIEEE(idx))
	footer := binary.LittleEndian.AppendUint32(nil, uint32(len(idx)/4-1)) // backward size
	footer = append(footer, 0x00, 0x04)                                   // stream flags again
	footer = append(binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(footer)), footer...)
	footer = append(footer, 'Y', 'Z')
	return append(idx, footer...)
}
