package skipchain_test

import (
	"testing"

	"github.com/chainiac/chainiac/skipchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHeight(t *testing.T) {
	p2 := skipchain.Params{Base: 2, MaxHeight: 4}
	p3 := skipchain.Params{Base: 3, MaxHeight: 32}
	for _, tc := range []struct {
		p     skipchain.Params
		index uint64
		want  uint32
	}{
		{p2, 0, 4}, {p2, 1, 1}, {p2, 2, 2}, {p2, 3, 1}, {p2, 4, 3}, {p2, 8, 4}, {p2, 16, 4}, {p2, 24, 4}, {p2, 12, 3},
		{p3, 0, 32}, {p3, 1, 1}, {p3, 3, 2}, {p3, 6, 2}, {p3, 9, 3}, {p3, 81, 5},
		{skipchain.DefaultParams(), 1 << 40, 32}, {skipchain.DefaultParams(), 1 << 20, 21},
	} {
		assert.Equal(t, tc.want, tc.p.Height(tc.index), "base %d max %d index %d", tc.p.Base, tc.p.MaxHeight, tc.index)
	}
}

func TestParamsValidate(t *testing.T) {
	require.NoError(t, skipchain.DefaultParams().Validate())
	require.NoError(t, skipchain.Params{Base: 2, MaxHeight: 64}.Validate())
	for _, p := range []skipchain.Params{
		{Base: 0, MaxHeight: 4}, {Base: 1, MaxHeight: 4}, {Base: 2, MaxHeight: 0}, {Base: 2, MaxHeight: 65},
		{Base: skipchain.MaxBase + 1, MaxHeight: 2}, {Base: 1 << 16, MaxHeight: 6},
	} {
		assert.ErrorIs(t, p.Validate(), skipchain.ErrMalformed, "%+v", p)
	}
}

func TestLinksInto(t *testing.T) {
	p := skipchain.Params{Base: 2, MaxHeight: 3}
	assert.Nil(t, p.LinksInto(0))
	assert.Equal(t, []skipchain.LinkPosition{{From: 4, Level: 0}}, p.LinksInto(5))
	assert.Equal(t, []skipchain.LinkPosition{{From: 11, Level: 0}, {From: 10, Level: 1}, {From: 8, Level: 2}}, p.LinksInto(12))
	// Capped at the maximum height: 16 is divisible by 2⁴ but has only 3 levels.
	assert.Equal(t, []skipchain.LinkPosition{{From: 15, Level: 0}, {From: 14, Level: 1}, {From: 12, Level: 2}}, p.LinksInto(16))

	// Every position names a block that has the level, and the links into a block
	// are exactly the links out of earlier blocks that land on it.
	for _, p := range []skipchain.Params{{Base: 2, MaxHeight: 5}, {Base: 3, MaxHeight: 4}, {Base: 4, MaxHeight: 32}} {
		into := map[uint64][]skipchain.LinkPosition{}
		for from := uint64(0); from < 300; from++ {
			for level := 0; level < int(p.Height(from)); level++ {
				to := from + p.Span(level)
				into[to] = append(into[to], skipchain.LinkPosition{From: from, Level: level})
			}
		}
		for i := uint64(1); i < 300; i++ {
			got := p.LinksInto(i)
			require.Len(t, got, int(p.Height(i)), "base %d index %d", p.Base, i)
			require.ElementsMatch(t, into[i], got, "base %d index %d", p.Base, i)
		}
	}
}
