package mar

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// The xz decoder allocates each block's LZMA2 dictionary up front, sized
// by a byte in the block header. A few hundred hostile bytes could ask for
// 4 GiB, so before decoding we walk the container (from the end, through
// each stream's index, to every block header) and check every block's
// filter chain and dictionary size. The decoder then re-reads and checks
// everything itself (CRCs, index against blocks).

const (
	xzHeaderMagic  = "\xfd7zXZ\x00"
	xzFooterMagic  = "YZ"
	xzStreamHdr    = 12
	xzStreamFooter = 12
	xzMaxIndex     = 1 << 20
	xzFilterLZMA2  = 0x21
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

// checkXZ checks that the xz data in r (size bytes, possibly several
// concatenated streams with padding) uses only the LZMA2 filter with
// dictionaries of at most maxDict bytes.
func checkXZ(r io.ReaderAt, size, maxDict int64) error {
	pos := size
	streams := 0
	for pos > 0 {
		// Stream padding: groups of four zero bytes after a stream.
		for pos >= 4 {
			b, err := readAt(r, pos-4, 4)
			if err != nil {
				return err
			}
			if !bytes.Equal(b, []byte{0, 0, 0, 0}) {
				break
			}
			pos -= 4
		}
		start, err := checkXZStream(r, pos, maxDict)
		if err != nil {
			return err
		}
		pos = start
		streams++
	}
	if streams == 0 {
		return xzError("no stream")
	}
	return nil
}

// checkXZStream checks the stream that ends at end and returns its start.
func checkXZStream(r io.ReaderAt, end, maxDict int64) (int64, error) {
	if end < xzStreamHdr+xzStreamFooter {
		return 0, xzError("stream of %d bytes too short", end)
	}
	footer, err := readAt(r, end-xzStreamFooter, xzStreamFooter)
	if err != nil {
		return 0, err
	}
	if string(footer[10:]) != xzFooterMagic {
		return 0, xzError("bad stream footer magic")
	}
	indexSize := (int64(binary.LittleEndian.Uint32(footer[4:8])) + 1) * 4
	indexStart := end - xzStreamFooter - indexSize
	if indexSize > xzMaxIndex || indexStart < xzStreamHdr {
		return 0, xzError("index of %d bytes does not fit", indexSize)
	}
	index, err := readAt(r, indexStart, int(indexSize))
	if err != nil {
		return 0, err
	}
	blocks, err := parseXZIndex(index)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, b := range blocks {
		total += b
	}
	start := indexStart - total - xzStreamHdr
	if total > indexStart || start < 0 {
		return 0, xzError("blocks of %d bytes do not fit before the index", total)
	}
	hdr, err := readAt(r, start, xzStreamHdr)
	if err != nil {
		return 0, err
	}
	if string(hdr[:6]) != xzHeaderMagic {
		return 0, xzError("bad stream header magic at %d", start)
	}
	pos := start + xzStreamHdr
	for i, b := range blocks {
		if err := checkXZBlockHeader(r, pos, b, maxDict); err != nil {
			return 0, fmt.Errorf("%w (block %d)", err, i)
		}
		pos += b
	}
	return start, nil
}

// parseXZIndex returns the padded size of every block the index lists.
func parseXZIndex(index []byte) ([]int64, error) {
	if index[0] != 0 {
		return nil, xzError("index indicator %#x", index[0])
	}
	rd := bytes.NewReader(index[1:])
	count, err := binary.ReadUvarint(rd)
	if err != nil || count > uint64(len(index))/2 {
		return nil, xzError("bad index record count")
	}
	blocks := make([]int64, 0, count)
	for range count {
		unpadded, err1 := binary.ReadUvarint(rd)
		_, err2 := binary.ReadUvarint(rd) // uncompressed size
		if err1 != nil || err2 != nil || unpadded < 5 || unpadded > MaxFileSize {
			return nil, xzError("bad index record")
		}
		blocks = append(blocks, int64(unpadded+3)&^3)
	}
	return blocks, nil
}

// checkXZBlockHeader checks the filter chain of the block at pos.
func checkXZBlockHeader(r io.ReaderAt, pos, blockSize, maxDict int64) error {
	first, err := readAt(r, pos, 1)
	if err != nil {
		return err
	}
	hdrSize := (int64(first[0]) + 1) * 4
	if first[0] == 0 || hdrSize > blockSize {
		return xzError("bad block header size")
	}
	hdr, err := readAt(r, pos, int(hdrSize))
	if err != nil {
		return err
	}
	flags := hdr[1]
	rd := bytes.NewReader(hdr[2 : hdrSize-4])
	for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} {
		if present {
			if _, err := binary.ReadUvarint(rd); err != nil {
				return xzError("bad block size field")
			}
		}
	}
	filters := int(flags&3) + 1
	for i := range filters {
		id, err := binary.ReadUvarint(rd)
		if err != nil {
			return xzError("bad filter id")
		}
		propSize, err := binary.ReadUvarint(rd)
		if err != nil || propSize > uint64(rd.Len()) {
			return xzError("bad filter properties size")
		}
		props := make([]byte, propSize)
		_, _ = rd.Read(props)
		if id != xzFilterLZMA2 {
			return xzError("unsupported filter %s (only a single LZMA2 filter is supported)", xzFilterName(id))
		}
		if i != filters-1 || propSize != 1 {
			return xzError("malformed LZMA2 filter")
		}
		dict, err := lzma2DictSize(props[0])
		if err != nil {
			return err
		}
		if dict > maxDict {
			return xzError("LZMA2 dictionary of %d bytes exceeds limit %d", dict, maxDict)
		}
	}
	return nil
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
