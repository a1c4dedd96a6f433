package mar

import "io"

// windowReaderAt serves reads from a window of r that it refills where a read falls
// outside it. The xz reader reads its input forwards, often one byte at a time: one
// system call per byte made extracting a 32 MiB entry 7.5 times slower. Not safe for
// concurrent use.
type windowReaderAt struct {
	r     io.ReaderAt
	buf   []byte
	start int64 // offset of buf[0] in r
	n     int   // valid bytes in buf
}

func newWindowReaderAt(r io.ReaderAt, size int) *windowReaderAt {
	return &windowReaderAt{r: r, buf: make([]byte, size)}
}

func (w *windowReaderAt) ReadAt(p []byte, off int64) (int, error) {
	total := 0
	for len(p) > 0 {
		if off < w.start || off >= w.start+int64(w.n) {
			n, err := w.r.ReadAt(w.buf, off)
			w.start, w.n = off, n
			if n == 0 {
				if err == nil {
					err = io.EOF
				}
				return total, err
			}
		}
		k := copy(p, w.buf[off-w.start:w.n])
		p, off, total = p[k:], off+int64(k), total+k
	}
	return total, nil
}
