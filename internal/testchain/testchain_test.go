package testchain

import (
	"errors"
	"testing"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What the chain serves is what a node would: blocks that follow by the chain rules,
// links signed by the from block's roster, a timestamp of the visible head.
func TestServedChainVerifies(t *testing.T) {
	c := New(t, Options{})
	c.Releases(t, 1, 3)
	c.ChangeRoster(t, "R2", 5)
	c.Release(t, "2.0")
	store, err := skipchain.NewMemStore(c.Block(0))
	require.NoError(t, err)
	for i := uint64(1); i <= c.Head().Index(); i++ {
		var links []*skipchain.ForwardLink
		for _, pos := range c.Block(0).Header().Params().LinksInto(i) {
			l, err := c.SignLink(pos.From, pos.Level)
			require.NoError(t, err)
			links = append(links, l)
		}
		require.NoError(t, store.Append(c.Block(i), links...), "block %d", i)
	}
	ts, err := c.Timestamp()
	require.NoError(t, err)
	require.NoError(t, ts.Describes(c.Head().Header()))
	require.NoError(t, ts.Verify(c.Head().Roster()))

	c.SetVisible(2)
	_, err = c.SignLink(2, 0)
	assert.True(t, errors.Is(err, skipchain.ErrUnknownLink), "no link leaves the visible head")
	_, err = c.Serve(api.Header(c.ID(), 3))
	assert.ErrorIs(t, err, errNotFound)
	b, err := c.Serve(api.Latest(c.ID()))
	require.NoError(t, err)
	l, err := api.ParseLatest(b)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), l.Index)
}
