package build

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTailBufferKeepsTheEnd(t *testing.T) {
	for _, max := range []int64{1, 7, 64, 1 << 20, math.MaxInt64} {
		b := newTailBuffer(max)
		var all strings.Builder
		for i := range 500 {
			line := strings.Repeat(string(rune('a'+i%26)), i%13) + "\n"
			all.WriteString(line)
			n, err := b.Write([]byte(line))
			require.NoError(t, err)
			require.Equal(t, len(line), n)
		}
		got, dropped := b.snapshot()
		want := all.String()
		keep := int(min(max, int64(len(want))))
		assert.Equal(t, want[len(want)-keep:], string(got), "limit %d", max)
		assert.Equal(t, int64(len(want)-keep), dropped, "limit %d", max)
	}
}
