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
