package mar

import (
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"

	dsnetbzip2 "github.com/dsnet/compress/bzip2"
)

// Compression selects how Write stores each entry's content. Mozilla's
// convention is that each entry is compressed on its own.
type Compression int

const (
	// XZ compresses each entry as one xz stream (LZMA2, 8 MiB dictionary,
	// CRC-64 check, one block per 8 MiB of content; xzwriter.go gives the
	// bytes). It is the zero value.
	XZ Compression = iota
	// BZip2 compresses each entry as one bzip2 stream (900 kB blocks).
	BZip2
	// Stored writes each content as given: for contents the caller has
	// already compressed, as Mozilla's packaging scripts do.
	Stored
	// XZLiteral stores each entry as an xz stream of uncompressed LZMA2 chunks:
	// no compression, but every byte is defined by the content alone, so any
	// implementation of the format writes the same entry (the reference
	// builder's choice; see xzwriter.go).
	XZLiteral
)

func (c Compression) String() string {
	switch c {
	case XZ:
		return "xz"
	case BZip2:
		return "bzip2"
	case Stored:
		return "stored"
	case XZLiteral:
		return "xz-literal"
	}
	return fmt.Sprintf("compression(%d)", int(c))
}

// compress writes src to dst compressed with c. The output is a pure
// function of the input: no timestamps or names go into either format.
func compress(dst io.Writer, src io.Reader, c Compression) error {
	var zw io.WriteCloser
	var err error
	switch c {
	case XZ, XZLiteral:
		_, _, err = writeXZEntries(dst, 0, []File{{Name: "content", Open: func() (io.ReadCloser, error) {
			return io.NopCloser(src), nil
		}}}, WriteOptions{Compression: c, Workers: 1})
		return err
	case BZip2:
		zw, err = dsnetbzip2.NewWriter(dst, &dsnetbzip2.WriterConfig{Level: 9})
	case Stored:
		_, err = io.Copy(dst, src)
		return err
	default:
		return fmt.Errorf("mar: unknown compression %d", int(c))
	}
	if err != nil {
		return err
	}
	if _, err := io.Copy(zw, src); err != nil {
		return err
	}
	return zw.Close()
}

// detectCompression names the format of an entry from its magic bytes, as
// Mozilla's updater does.
func detectCompression(head []byte) (Compression, bool) {
	switch {
	case bytes.HasPrefix(head, []byte(xzHeaderMagic)):
		return XZ, true
	case len(head) >= 4 && string(head[:3]) == "BZh" && head[3] >= '1' && head[3] <= '9':
		return BZip2, true
	}
	return 0, false
}

// Limits bound decompression. A zero field takes its default.
type Limits struct {
	MaxEntrySize int64 // decompressed bytes of one entry (DefaultMaxEntrySize)
	MaxTotalSize int64 // decompressed bytes of all entries, for Extract (DefaultMaxTotalSize)
	MaxXZDict    int64 // LZMA2 dictionary an xz entry may ask for (DefaultMaxXZDict)
}

func (l Limits) withDefaults() Limits {
	if l.MaxEntrySize <= 0 {
		l.MaxEntrySize = DefaultMaxEntrySize
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = DefaultMaxTotalSize
	}
	if l.MaxXZDict <= 0 {
		l.MaxXZDict = DefaultMaxXZDict
	}
	return l
}

// OpenEntry returns a reader of the decompressed content of e, an entry of
// a. The format is detected from the magic bytes (xz or bzip2); the reader
// fails with ErrTooLarge past lim.MaxEntrySize bytes and with
// ErrCompression on corrupt data.
func (a *Archive) OpenEntry(e Entry, lim Limits) (io.Reader, error) {
	lim = lim.withDefaults()
	if int64(e.Offset) < a.contentStart || int64(e.Offset)+int64(e.Size) > a.indexOffset {
		return nil, fmt.Errorf("mar: entry %q [%d, +%d) is not in this archive's content area", e.Name, e.Offset, e.Size)
	}
	raw := a.Raw(e)
	head := make([]byte, 6)
	n, _ := raw.ReadAt(head, 0)
	kind, ok := detectCompression(head[:n])
	if !ok {
		return nil, fmt.Errorf("%w: entry %q: neither xz nor bzip2 magic", ErrCompression, e.Name)
	}
	var dec io.Reader
	switch kind {
	case XZ:
		r, err := newXZReader(raw, raw.Size(), lim.MaxXZDict)
		if err != nil {
			return nil, fmt.Errorf("%w (entry %q)", err, e.Name)
		}
		dec = r
	case BZip2:
		dec = bzip2.NewReader(raw)
	}
	return &limitedDecoder{name: e.Name, r: dec, limit: lim.MaxEntrySize, left: lim.MaxEntrySize}, nil
}

// limitedDecoder stops a decompressor at a size limit and labels its errors.
type limitedDecoder struct {
	name  string
	r     io.Reader
	limit int64
	left  int64
	err   error
}

func (d *limitedDecoder) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > d.left+1 {
		p = p[:d.left+1]
	}
	n, err := d.r.Read(p)
	if int64(n) > d.left {
		d.err = fmt.Errorf("%w: entry %q is larger than %d bytes", ErrTooLarge, d.name, d.limit)
		n, d.left = int(d.left), 0
		return n, d.err
	}
	d.left -= int64(n)
	switch {
	case err == io.EOF:
		d.err = io.EOF
	case errors.Is(err, ErrCompression):
		d.err = fmt.Errorf("%w (entry %q)", err, d.name)
	case err != nil:
		d.err = fmt.Errorf("%w: entry %q: %v", ErrCompression, d.name, err)
	}
	return n, d.err
}
