package mar

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// CompareStripped checks that signed, with its signatures stripped, is
// byte for byte the unsigned archive: the check a witness makes that a
// shipped MAR is exactly the rebuilt one plus a signature. It streams both
// and returns a *MismatchError (wrapping ErrMismatch) locating the first
// difference. signed must carry a signature and unsigned none. A failure
// reading either archive is returned as an error that is not ErrMismatch:
// only bytes actually read and compared make a mismatch.
func CompareStripped(signed, unsigned *Archive) error {
	if len(signed.sigs) == 0 {
		return fmt.Errorf("%w: the first archive must be the signed one", ErrUnsigned)
	}
	if len(unsigned.sigs) != 0 {
		return fmt.Errorf("%w: the second archive must be unsigned", ErrSigned)
	}
	cmp := &comparer{want: io.NewSectionReader(unsigned.r, 0, unsigned.size), buf: make([]byte, bufferFor(unsigned.size)), diff: -1}
	err := Strip(cmp, signed)
	if cmp.diff >= 0 {
		return unsigned.mismatchAt(cmp.diff)
	}
	if cmp.readErr != nil {
		// Not a difference: a witness must not refuse for a reason it did not see.
		return fmt.Errorf("mar: compare: read unsigned archive at offset %d: %w", cmp.off, cmp.readErr)
	}
	if err != nil {
		return fmt.Errorf("mar: compare: read signed archive: %w", err)
	}
	if cmp.off != unsigned.size {
		return unsigned.mismatchAt(cmp.off)
	}
	return nil
}

// comparer is a writer that checks what it is given against want and
// records the first differing offset, or the error reading want.
type comparer struct {
	want    *io.SectionReader
	buf     []byte
	off     int64
	diff    int64
	readErr error
}

var errDiffers = errors.New("mar: contents differ")

func (c *comparer) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), len(c.buf))]
		n, err := c.want.ReadAt(c.buf[:len(chunk)], c.off)
		// The n bytes read are data even when err is set: a difference among them
		// is a real one.
		if !bytes.Equal(c.buf[:n], chunk[:n]) {
			for i := range n {
				if c.buf[i] != chunk[i] {
					c.diff = c.off + int64(i)
					return written + i, errDiffers
				}
			}
		}
		if n < len(chunk) {
			if c.off+int64(n) == c.want.Size() { // the unsigned archive is shorter
				c.diff = c.off + int64(n)
				return written + n, errDiffers
			}
			// A short read before the end: the source failed, or ended before
			// the size it was opened with.
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			c.off += int64(n)
			c.readErr = err
			return written + n, err
		}
		c.off += int64(n)
		written += n
		p = p[n:]
	}
	return written, nil
}

// mismatchAt names the region of a holding offset off.
func (a *Archive) mismatchAt(off int64) *MismatchError {
	e := &MismatchError{Offset: off}
	switch {
	case off >= a.size:
		e.Region = "end of file"
	case off < a.sigEnd+4:
		e.Region = "header"
	case off < a.contentStart:
		e.Region = "additional sections"
	case off >= a.indexOffset:
		e.Region = "index"
	default:
		e.Region = "gap"
		for _, en := range a.entries {
			if off >= int64(en.Offset) && off < int64(en.Offset)+int64(en.Size) {
				e.Region, e.Entry = "entry", en.Name
			}
		}
	}
	return e
}
