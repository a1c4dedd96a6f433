package mar

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// Whatever the order of reads (the xz reader goes back once per stream, to hash the
// index), the window returns what the underlying reader holds, and io.EOF at the end.
func TestWindowReaderAtMatchesUnderlying(t *testing.T) {
	data := make([]byte, 10_000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	want := bytes.NewReader(data)
	w := newWindowReaderAt(bytes.NewReader(data), 64)
	for range 2000 {
		off := rng.Int64N(int64(len(data)) + 10)
		size := rng.IntN(300)
		got, exp := make([]byte, size), make([]byte, size)
		n, err := w.ReadAt(got, off)
		m, _ := want.ReadAt(exp, off)
		require.Equal(t, m, n, "read of %d at %d", size, off)
		require.Equal(t, exp[:m], got[:n])
		if m < size {
			require.ErrorIs(t, err, io.EOF)
		} else {
			require.NoError(t, err)
		}
	}
}

// countingReads counts the reads of the reader it wraps.
type countingReads struct {
	r     io.ReaderAt
	reads int
}

func (c *countingReads) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	return c.r.ReadAt(p, off)
}

// Reads inside the window, in any order and again at its first byte, cost no read of
// the underlying reader; one just past it costs one.
func TestWindowReaderAtReadsOncePerWindow(t *testing.T) {
	data := pseudoRandom(1000, 15)
	under := &countingReads{r: bytes.NewReader(data)}
	w := newWindowReaderAt(under, 64)
	b := make([]byte, 1)
	for _, off := range []int64{0, 1, 63, 0, 10, 0, 62} {
		n, err := w.ReadAt(b, off)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Equal(t, data[off], b[0])
	}
	require.Equal(t, 1, under.reads)
	_, err := w.ReadAt(b, 64)
	require.NoError(t, err)
	require.Equal(t, data[64], b[0])
	require.Equal(t, 2, under.reads)
}

// errorReaderAt returns err and nothing.
type errorReaderAt struct{ err error }

func (f errorReaderAt) ReadAt([]byte, int64) (int, error) { return 0, f.err }

// The window passes on the underlying reader's error, and says io.EOF for a reader
// that returns nothing without saying why.
func TestWindowReaderAtErrors(t *testing.T) {
	b := make([]byte, 4)
	n, err := newWindowReaderAt(errorReaderAt{errBroken}, 64).ReadAt(b, 0)
	require.Zero(t, n)
	require.ErrorIs(t, err, errBroken)
	n, err = newWindowReaderAt(errorReaderAt{nil}, 64).ReadAt(b, 0)
	require.Zero(t, n)
	require.ErrorIs(t, err, io.EOF)
}
