package testrand

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReproducibleAndSeedDependent(t *testing.T) {
	read := func(seed string, chunks ...int) []byte {
		r := New(seed)
		var out []byte
		for _, n := range chunks {
			b := make([]byte, n)
			_, err := io.ReadFull(r, b)
			require.NoError(t, err)
			out = append(out, b...)
		}
		return out
	}
	a := read("seed", 100)
	require.Equal(t, a, read("seed", 7, 33, 60), "chunking does not change the stream")
	require.NotEqual(t, a, read("other", 100))
	require.False(t, bytes.Equal(a[:32], a[32:64]), "blocks differ")
}
