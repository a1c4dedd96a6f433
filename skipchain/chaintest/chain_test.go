package chaintest

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/chainiac/chainiac/skipchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuild(t *testing.T) {
	c := Build(t, `
		params 2 4
		roster R1 4    # four members
		genesis
		b1; b2
		roster R2 3
		b3
		b4 missing-link 2->4 missing-link 0->4
		fork b4
		b5 signed-by R1 signers 4
		blocks 6..8
	`)
	require.Len(t, c.Blocks, 9)
	assert.Equal(t, skipchain.Params{Base: 2, MaxHeight: 4}, c.Params)
	assert.Equal(t, c.Rosters["R2"].Roster.ID(), c.Blocks[3].Header().RosterID())
	assert.Equal(t, c.Rosters["R1"].Roster.ID(), c.Blocks[2].Header().RosterID())
	assert.Equal(t, 3, c.Rosters["R2"].Roster.Len())

	// Block 4 keeps only its level-0 link.
	require.Len(t, c.Into[4], 1)
	assert.Equal(t, uint64(3), c.Into[4][0].FromIndex())
	require.NoError(t, skipchain.CheckLink(c.Blocks[3], c.Blocks[4].Header(), c.Into[4][0]))

	// The fork is a different, validly signed block 4.
	f := c.Forks[4]
	require.NotNil(t, f)
	assert.NotEqual(t, c.Blocks[4].ID(), f.Block.ID())
	for _, l := range f.Into {
		require.NoError(t, skipchain.CheckLink(c.Blocks[l.FromIndex()], f.Block.Header(), l))
	}

	// Block 5's link is signed by all of R1 instead of block 4's roster R2.
	require.Len(t, c.Into[5], 1)
	assert.Equal(t, 4, c.Into[5][0].Signature().Mask().Count())
	require.ErrorIs(t, skipchain.CheckLink(c.Blocks[4], c.Blocks[5].Header(), c.Into[5][0]), skipchain.ErrInvalidLink)

	// The same script gives the same bytes.
	again := Build(t, "params 2 4; roster R1 4; genesis; b1")
	assert.Equal(t, c.Blocks[1].Encode(), again.Blocks[1].Encode())
	assert.True(t, c.Into[1][0].Equal(again.Into[1][0]))
}

// fatalTB records the first Fatalf and stops the goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestBuildRefusesBadScripts(t *testing.T) {
	for _, script := range []string{
		"genesis",                // no roster yet
		"roster R1; genesis; b2", // not the next index
		"roster R1; genesis; b1 missing-link 0->2",
		"roster R1; genesis; b1 signed-by R9", // unknown roster
		"roster R1; genesis; fork b1",         // nothing at 1 yet
		"roster R1; genesis; params 2 4",      // params after genesis
		"roster R1; genesis; blocks 3..1",
		"roster R1; genesis; frobnicate",
		"params 1 4",
	} {
		tb := &fatalTB{TB: t}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			Build(tb, script)
		}()
		wg.Wait()
		assert.Contains(t, tb.msg, "chaintest: line 1", "script %q", script)
	}
}

func TestLazyChain(t *testing.T) {
	s := NewSigners(t, "lazy", 1)
	c := NewLazyChain(t, skipchain.DefaultParams(), s, 40, 0)
	head, err := c.Head()
	require.NoError(t, err)
	assert.Equal(t, uint64(40), head.Index())
	l, err := c.Link(32, 3)
	require.NoError(t, err)
	b32, err := c.Block(32)
	require.NoError(t, err)
	require.NoError(t, skipchain.CheckLink(b32, c.headers[40], l))
	_, err = c.Link(32, 4) // 32 + 16 = 48 is past the head
	require.ErrorIs(t, err, skipchain.ErrUnknownLink)
	assert.Equal(t, Reads{Head: 1, Link: 2, Block: 1}, c.Reads())
}

// Asking for more blocks than the script made fails the test with a message, not
// with an index out of range.
func TestAppendToPastTheScript(t *testing.T) {
	c := Build(t, "roster R1 1; genesis; blocks 1..3")
	store, err := skipchain.NewMemStore(c.Genesis())
	require.NoError(t, err)
	for _, run := range []func(tb testing.TB){
		func(tb testing.TB) { c.MemStore(tb, 4) },
		func(tb testing.TB) { c.AppendTo(tb, store, 2, 9) },
	} {
		tb := &fatalTB{TB: t}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(tb)
		}()
		wg.Wait()
		assert.Contains(t, tb.msg, "chaintest: append blocks")
		assert.Contains(t, tb.msg, "the script made blocks 0..3")
	}
	s := c.MemStore(t, 3)
	head, err := s.Head()
	require.NoError(t, err)
	assert.Equal(t, uint64(3), head.Index())
}
