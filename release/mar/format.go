package mar

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Fixed layout of the start of a MAR: magic, index offset (u32), file size
// (u64), signature count (u32). A signature covers these 20 bytes.
const (
	magic            = "MAR1"
	offIndexOffset   = 4
	offFileSize      = 8
	offSigCount      = 16
	headerSize       = 20
	sigHeaderSize    = 8 // algorithm (u32) + length (u32)
	sectionHdrSize   = 8 // size (u32, including this header) + id (u32)
	indexEntryFixed  = 12
	productInfoID    = 1
	productInfoBytes = MaxChannelLen + 1 + MaxVersionLen + 1 // data area Mozilla's tools write
)

var be = binary.BigEndian

// readAt reads exactly n bytes at off, which the caller has checked lie
// inside the archive.
func readAt(r io.ReaderAt, off int64, n int) ([]byte, error) {
	buf := make([]byte, n)
	got, err := r.ReadAt(buf, off)
	if got == n {
		return buf, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, fmt.Errorf("mar: read %d bytes at offset %d: %w", n, off, err)
}

// appendHeader encodes the 20 signed header bytes.
func appendHeader(b []byte, indexOffset uint32, fileSize uint64, sigCount uint32) []byte {
	b = append(b, magic...)
	b = be.AppendUint32(b, indexOffset)
	b = be.AppendUint64(b, fileSize)
	return be.AppendUint32(b, sigCount)
}

// appendIndex encodes the index with every entry offset moved by shift.
func appendIndex(b []byte, entries []Entry, shift int64) []byte {
	size := 0
	for _, e := range entries {
		size += indexEntryFixed + len(e.Name) + 1
	}
	b = be.AppendUint32(b, uint32(size))
	for _, e := range entries {
		b = be.AppendUint32(b, uint32(int64(e.Offset)+shift))
		b = be.AppendUint32(b, e.Size)
		b = be.AppendUint32(b, e.Mode)
		b = append(b, e.Name...)
		b = append(b, 0)
	}
	return b
}

// printable reports whether s is non-control ASCII, as channels and
// versions are.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
