package mar

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"sync/atomic"
)

// File is one entry to write: its name in the archive, its Unix
// permission bits, and how to open its (uncompressed) content.
type File struct {
	Name string
	Mode uint32
	Open func() (io.ReadCloser, error)
}

// WriteOptions tune Write. The zero value compresses with xz.
type WriteOptions struct {
	Compression Compression
	// Workers bounds the xz blocks compressed at once; 0 means
	// runtime.GOMAXPROCS(0). The output does not depend on it.
	Workers int
	// Progress, if set, counts the content bytes (uncompressed) done: Write
	// adds to it as it goes, from its workers, in steps of at most 1 MiB for
	// xz. Another goroutine may read it while Write runs.
	Progress *atomic.Int64
}

// contentStart is where Write puts the first entry: header (20 bytes),
// section count, and a product information block padded like Mozilla's.
const contentStart = headerSize + 4 + sectionHdrSize + productInfoBytes

// Write writes an unsigned MAR with the product information info and the
// given files, in the order given, each compressed on its own. The layout
// is Mozilla's: header, empty signature block, one product information
// block padded to 104 bytes, contents, index at the end. The output is a
// pure function of the arguments and the file contents (no timestamps),
// so the same inputs give the same bytes. w is written from its current
// position; Write seeks back once to fill in the index offset and size.
func Write(w io.WriteSeeker, info ProductInfo, files []File, opts WriteOptions) error {
	if err := checkWriteInput(info, files, opts); err != nil {
		return err
	}
	start, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("mar: write: %w", err)
	}
	bw := bufio.NewWriterSize(w, copyBufferSize)
	head := appendHeader(nil, 0, 0, 0) // index offset and size filled in at the end
	head = be.AppendUint32(head, 1)
	head = be.AppendUint32(head, sectionHdrSize+productInfoBytes)
	head = be.AppendUint32(head, productInfoID)
	pib := make([]byte, productInfoBytes)
	copy(pib, info.Channel)
	copy(pib[len(info.Channel)+1:], info.Version)
	if _, err := bw.Write(append(head, pib...)); err != nil {
		return fmt.Errorf("mar: write: %w", err)
	}

	var entries []Entry
	pos := int64(contentStart)
	if opts.Compression == XZ || opts.Compression == XZLiteral {
		entries, pos, err = writeXZEntries(bw, pos, files, opts)
		if err != nil {
			return err
		}
	} else {
		for _, f := range files {
			cw := &countingWriter{w: bw, left: MaxFileSize - pos}
			if err := writeEntry(cw, f, opts.Compression, opts.Progress); err != nil {
				return err
			}
			entries = append(entries, Entry{Name: f.Name, Offset: uint32(pos), Size: uint32(cw.n), Mode: f.Mode})
			pos += cw.n
		}
	}
	index := appendIndex(nil, entries, 0)
	size := pos + int64(len(index))
	if size > MaxFileSize || pos > math.MaxUint32 {
		return fmt.Errorf("mar: write: archive of %d bytes exceeds %d", size, MaxFileSize)
	}
	if _, err := bw.Write(index); err != nil {
		return fmt.Errorf("mar: write: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("mar: write: %w", err)
	}
	var fields [12]byte
	be.PutUint32(fields[:], uint32(pos))
	be.PutUint64(fields[4:], uint64(size))
	if _, err := w.Seek(start+offIndexOffset, io.SeekStart); err != nil {
		return fmt.Errorf("mar: write: %w", err)
	}
	if _, err := w.Write(fields[:]); err != nil {
		return fmt.Errorf("mar: write: %w", err)
	}
	if _, err := w.Seek(start+size, io.SeekStart); err != nil {
		return fmt.Errorf("mar: write: %w", err)
	}
	return nil
}

func checkWriteInput(info ProductInfo, files []File, opts WriteOptions) error {
	if info.Channel == "" || len(info.Channel) > MaxChannelLen || !printable(info.Channel) {
		return fmt.Errorf("mar: write: channel must be 1 to %d printable ASCII characters", MaxChannelLen)
	}
	if info.Version == "" || len(info.Version) > MaxVersionLen || !printable(info.Version) {
		return fmt.Errorf("mar: write: version must be 1 to %d printable ASCII characters", MaxVersionLen)
	}
	if opts.Compression < XZ || opts.Compression > XZLiteral {
		return fmt.Errorf("mar: write: unknown compression %d", int(opts.Compression))
	}
	if len(files) > MaxEntries {
		return fmt.Errorf("mar: write: %d files exceed %d", len(files), MaxEntries)
	}
	seen := make(map[string]bool, len(files))
	indexSize := 0
	for _, f := range files {
		if err := CheckName(f.Name); err != nil {
			return err
		}
		if seen[f.Name] {
			return fmt.Errorf("mar: write: duplicate name %q", f.Name)
		}
		seen[f.Name] = true
		if f.Mode > 0o777 {
			return fmt.Errorf("mar: write: %q: mode %#o has bits beyond 0777", f.Name, f.Mode)
		}
		if f.Open == nil {
			return fmt.Errorf("mar: write: %q: no Open function", f.Name)
		}
		indexSize += indexEntryFixed + len(f.Name) + 1
	}
	if indexSize > MaxIndexSize {
		return fmt.Errorf("mar: write: index of %d bytes exceeds %d", indexSize, MaxIndexSize)
	}
	return nil
}

// writeEntry writes f compressed with c, adding the bytes read to progress.
func writeEntry(w io.Writer, f File, c Compression, progress *atomic.Int64) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("mar: write: open %q: %w", f.Name, err)
	}
	var src io.Reader = rc
	if progress != nil {
		src = &progressReader{r: rc, progress: progress}
	}
	err = compress(w, src, c)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("mar: write: %q: %w", f.Name, err)
	}
	return nil
}

type progressReader struct {
	r        io.Reader
	progress *atomic.Int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.progress.Add(int64(n))
	return n, err
}

var errArchiveTooLarge = errors.New("archive would exceed the maximum file size")

// countingWriter counts bytes and refuses to pass a limit.
type countingWriter struct {
	w    io.Writer
	n    int64
	left int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > c.left {
		return 0, errArchiveTooLarge
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.left -= int64(n)
	return n, err
}
