package mar

import (
	"bufio"
	"fmt"
	"io"
	"math"
)

// copyBufferSize is the chunk in which entry contents stream through; it
// bounds the memory of Strip, AddSignatures, Sign and Verify.
const copyBufferSize = 256 << 10

// bufferFor is the copy buffer for an archive of the given size: copyBufferSize,
// or less for a small archive, which would not fill it.
func bufferFor(size int64) int {
	return int(max(min(size, copyBufferSize), 4096))
}

// writeWithSignatures writes a's header, additional sections, contents and
// index with sigs in place of a's own signature block, shifting the index
// offset, the file size and every entry offset by the change in the
// block's length. With withData false the signature bytes are left out,
// which gives exactly the bytes those signatures cover.
func (a *Archive) writeWithSignatures(dst io.Writer, sigs []Signature, withData bool) error {
	if len(sigs) > MaxSignatures {
		return fmt.Errorf("mar: %d signatures exceed %d", len(sigs), MaxSignatures)
	}
	newBlock := int64(headerSize)
	for i, s := range sigs {
		if len(s.Data) == 0 || len(s.Data) > MaxSignatureSize {
			return fmt.Errorf("mar: signature %d length %d outside [1, %d]", i, len(s.Data), MaxSignatureSize)
		}
		newBlock += sigHeaderSize + int64(len(s.Data))
	}
	shift := newBlock - a.sigEnd
	newIndexOffset, newSize := a.indexOffset+shift, a.size+shift
	if newSize > MaxFileSize || newIndexOffset > math.MaxUint32 {
		return fmt.Errorf("mar: resulting archive of %d bytes exceeds %d", newSize, MaxFileSize)
	}

	w := bufio.NewWriterSize(dst, bufferFor(newSize))
	head := appendHeader(make([]byte, 0, headerSize), uint32(newIndexOffset), uint64(newSize), uint32(len(sigs)))
	if _, err := w.Write(head); err != nil {
		return err
	}
	for _, s := range sigs {
		var h [sigHeaderSize]byte
		be.PutUint32(h[:], uint32(s.Algorithm))
		be.PutUint32(h[4:], uint32(len(s.Data)))
		if _, err := w.Write(h[:]); err != nil {
			return err
		}
		if withData {
			if _, err := w.Write(s.Data); err != nil {
				return err
			}
		}
	}
	body := io.NewSectionReader(a.r, a.sigEnd, a.indexOffset-a.sigEnd)
	n, err := w.ReadFrom(body)
	if err != nil {
		return fmt.Errorf("mar: copy contents: %w", err)
	}
	if n != body.Size() {
		// The source ended before the size it was opened with: writing the index
		// now would shift it, and a comparison would report a difference never seen.
		return fmt.Errorf("mar: copy contents: read %d of %d bytes: %w", n, body.Size(), io.ErrUnexpectedEOF)
	}
	if _, err := w.Write(appendIndex(nil, a.entries, shift)); err != nil {
		return err
	}
	return w.Flush()
}

// signedRanges are the byte ranges of a that its signatures cover: the 20
// header bytes, each signature's algorithm and length fields, and
// everything after the signature block.
func (a *Archive) signedRanges() []*io.SectionReader {
	ranges := []*io.SectionReader{io.NewSectionReader(a.r, 0, headerSize)}
	for _, off := range a.sigHeaders {
		ranges = append(ranges, io.NewSectionReader(a.r, off, sigHeaderSize))
	}
	return append(ranges, io.NewSectionReader(a.r, a.sigEnd, a.size-a.sigEnd))
}

// Strip writes the archive without its signatures: the signature count
// becomes 0 and the index offset, file size and entry offsets move down by
// the signature block's length. Memory use is independent of the size.
func Strip(dst io.Writer, a *Archive) error {
	return a.writeWithSignatures(dst, nil, true)
}

// AddSignatures writes the unsigned archive a with the given signature
// block; it is the inverse of Strip. It does not check the signatures.
func AddSignatures(dst io.Writer, a *Archive, sigs []Signature) error {
	if len(a.sigs) != 0 {
		return fmt.Errorf("%w; strip it before adding signatures", ErrSigned)
	}
	return a.writeWithSignatures(dst, sigs, true)
}
