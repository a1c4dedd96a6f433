package build

import (
	"math"
	"sync"
)

// tailBuffer keeps the last max bytes written and counts what it dropped. It never
// blocks or fails, so a noisy build cannot stall on a full pipe.
type tailBuffer struct {
	mu      sync.Mutex
	max     int
	buf     []byte
	dropped int64
}

// newTailBuffer keeps the last max bytes. A limit beyond what memory could hold is
// clamped, so that trimming at twice the limit cannot overflow (a recipe may set
// MaxLogBytes to math.MaxInt64 to mean "everything").
func newTailBuffer(max int64) *tailBuffer {
	return &tailBuffer{max: int(min(max, math.MaxInt/2))}
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	// Trim only when twice over, so trimming is amortised O(1) per byte.
	if len(b.buf) > 2*b.max {
		cut := len(b.buf) - b.max
		b.dropped += int64(cut)
		b.buf = append(b.buf[:0], b.buf[cut:]...)
	}
	return len(p), nil
}

// snapshot returns the kept tail (at most max bytes) and the total dropped count.
func (b *tailBuffer) snapshot() ([]byte, int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out, dropped := b.buf, b.dropped
	if len(out) > b.max {
		dropped += int64(len(out) - b.max)
		out = out[len(out)-b.max:]
	}
	return append([]byte(nil), out...), dropped
}
