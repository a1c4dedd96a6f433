package mar

import "io"

// NewXZReader decodes the whole xz file r[0:size) (one or more streams) with the
// checks OpenEntry's xz reader makes: a single LZMA2 filter per block, no dictionary
// over maxDict (the decoder allocates it up front, and a block header may ask for
// 4 GiB), and every CRC, block check, size, index and padding the format defines.
// Errors wrap ErrCompression. The reader reads r forwards, often a byte at a time:
// give it a buffered io.ReaderAt for a file.
func NewXZReader(r io.ReaderAt, size, maxDict int64) (io.Reader, error) {
	return newXZReader(r, size, maxDict)
}
