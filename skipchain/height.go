package skipchain

import (
	"fmt"
	"math"
	"math/bits"
)

// The defaults were chosen by measurement (docs/skipchain.md and
// BenchmarkPathModel): base 2 gives the shortest update proofs in hops and in bytes
// for every gap from 10 to 10⁵ blocks, and a maximum height of 32 lets a link span up
// to 2³¹ blocks, so paths stay logarithmic for any chain a release timeline reaches.
const (
	DefaultBase      = 2
	DefaultMaxHeight = 32
)

// Limits on the parameters, so that B^(H−1) fits in a u64 and a header's back-links
// stay few.
const (
	MaxBase      = 1 << 16
	MaxMaxHeight = 64
)

// Params fixes the shape of a chain: every block's height, and so which links it has,
// is a pure function of its index and these two numbers. They are set in the genesis
// and repeated, unchanged, in every header.
type Params struct {
	Base      uint32 // B: a block whose index is divisible by B^ℓ has a link at level ℓ
	MaxHeight uint32 // H: the genesis's height and the cap on every other height
}

// DefaultParams returns base 2 and maximum height 32.
func DefaultParams() Params { return Params{Base: DefaultBase, MaxHeight: DefaultMaxHeight} }

// Validate checks that B ≥ 2, 1 ≤ H ≤ 64 and that B^(H−1), the longest link, fits
// in a u64.
func (p Params) Validate() error {
	if p.Base < 2 || p.Base > MaxBase {
		return fmt.Errorf("%w: base %d, want 2 to %d", ErrMalformed, p.Base, MaxBase)
	}
	if p.MaxHeight < 1 || p.MaxHeight > MaxMaxHeight {
		return fmt.Errorf("%w: maximum height %d, want 1 to %d", ErrMalformed, p.MaxHeight, MaxMaxHeight)
	}
	if _, ok := p.span(int(p.MaxHeight) - 1); !ok {
		return fmt.Errorf("%w: base %d to the power %d overflows", ErrMalformed, p.Base, p.MaxHeight-1)
	}
	return nil
}

// span returns B^level, and false if it overflows a u64.
func (p Params) span(level int) (uint64, bool) {
	s := uint64(1)
	for i := 0; i < level; i++ {
		hi, lo := bits.Mul64(s, uint64(p.Base))
		if hi != 0 {
			return 0, false
		}
		s = lo
	}
	return s, true
}

// Height is 1 plus the number of times B divides index, capped at H; the genesis
// (index 0) has height H. A block of height h has forward and back links at levels
// 0..h−1, and the level-ℓ link spans B^ℓ blocks. p must be valid.
func (p Params) Height(index uint64) uint32 {
	if index == 0 {
		return p.MaxHeight
	}
	h := uint32(1)
	for h < p.MaxHeight && index%uint64(p.Base) == 0 {
		index /= uint64(p.Base)
		h++
	}
	return h
}

// Span returns B^level, the number of blocks a link at that level jumps. level must
// be below H.
func (p Params) Span(level int) uint64 {
	s, ok := p.span(level)
	if !ok || level < 0 || level >= int(p.MaxHeight) {
		panic(fmt.Sprintf("skipchain: span of level %d with base %d and maximum height %d", level, p.Base, p.MaxHeight))
	}
	return s
}

// LinkPosition names a forward link by the index it leaves from and its level.
type LinkPosition struct {
	From  uint64
	Level int
}

// LinksInto lists the forward links a new block at index needs, lowest level first:
// for each level ℓ below the block's height, the link from index − B^ℓ. Level 0 is
// the link from the previous block. All of them are signed when the block is added,
// each by the roster of the block it leaves from, so update proofs never have to fall
// back to walking one block at a time. The same positions, read backwards, are the
// block's back-links.
func (p Params) LinksInto(index uint64) []LinkPosition {
	if index == 0 {
		return nil
	}
	h := int(p.Height(index))
	out := make([]LinkPosition, 0, h)
	for level := 0; level < h; level++ {
		// index is divisible by B^level for every level below its height, so
		// index − B^level ≥ 0 and that block's height exceeds level.
		out = append(out, LinkPosition{From: index - p.Span(level), Level: level})
	}
	return out
}

// levelOf returns ℓ such that to − from = B^ℓ and ℓ is below the height of from (and
// so of to), or false.
func (p Params) levelOf(from, to uint64) (int, bool) {
	if to <= from {
		return 0, false
	}
	gap := to - from
	h := int(p.Height(from))
	for level := 0; level < h; level++ {
		s, ok := p.span(level)
		if !ok || s > gap {
			return 0, false
		}
		if s == gap {
			return level, from%s == 0
		}
	}
	return 0, false
}

// target returns from + B^level, checking that the level exists at from and that the
// sum fits.
func (p Params) target(from uint64, level int) (uint64, bool) {
	if level < 0 || level >= int(p.Height(from)) {
		return 0, false
	}
	s, ok := p.span(level)
	if !ok || from > math.MaxUint64-s {
		return 0, false
	}
	return from + s, true
}
