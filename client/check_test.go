package client_test

import (
	"context"
	"testing"

	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/timeline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func modes(t *testing.T, f func(t *testing.T, mode client.Mode)) {
	for _, m := range []client.Mode{client.Express, client.Links} {
		t.Run(m.String(), func(t *testing.T) { f(t, m) })
	}
}

func withMode(m client.Mode) func(*client.Config) { return func(c *client.Config) { c.Mode = m } }

func TestCheckFollowsReleases(t *testing.T) {
	modes(t, func(t *testing.T, mode client.Mode) {
		c := testchain.New(t, testchain.Options{})
		cl := newClient(t, c, []string{serve(t, c.Handler())}, withMode(mode))

		u := check(t, cl)
		assert.Nil(t, u.Release, "the genesis has no release")
		assert.Equal(t, uint64(0), u.Head.Index)

		c.Releases(t, 1, 9)
		u = check(t, cl)
		assert.Equal(t, "1.0.9", version(u))
		assert.Equal(t, uint64(9), u.Head.Index)
		assert.True(t, u.Moved)
		if mode == client.Express {
			assert.Equal(t, 1, u.Stats.SignatureChecks, "express: one signature whatever was missed")
			assert.Zero(t, u.Stats.Hops)
		} else {
			assert.Equal(t, u.Stats.Hops+1, u.Stats.SignatureChecks, "links: one per hop and the timestamp")
			assert.LessOrEqual(t, u.Stats.Hops, 4)
		}

		again := check(t, cl)
		assert.False(t, again.Moved)
		assert.Equal(t, u.Head, again.Head)

		last, err := cl.Last()
		require.NoError(t, err)
		assert.Equal(t, u.Head, last.Head)
		assert.Equal(t, "1.0.9", version(last))
	})
}

func TestCheckFollowsRosterAndPolicyChanges(t *testing.T) {
	modes(t, func(t *testing.T, mode client.Mode) {
		c := testchain.New(t, testchain.Options{})
		cl := newClient(t, c, []string{serve(t, c.Handler())}, withMode(mode))
		c.Releases(t, 1, 3)
		check(t, cl)

		c.ChangeRoster(t, "R2", 7)
		c.Releases(t, 4, 2)
		devs := testchain.Developers(t, 5)[3:] // two new developers
		c.ChangePolicy(t, devs, 2)
		c.Releases(t, 6, 3)
		c.ChangeRoster(t, "R3", 5)
		c.ChangePolicy(t, devs[:1], 1)
		u := check(t, cl)
		assert.Equal(t, c.Head().Index(), u.Head.Index)
		assert.Equal(t, timeline.KindPolicyChange, u.Head.Kind)
		assert.Equal(t, "1.0.8", version(u), "the newest release, reached through back-links")

		c.Release(t, "2.0")
		u = check(t, cl)
		assert.Equal(t, "2.0", version(u), "signed by the one developer the newest policy needs")
	})
}

func TestCheckTriesEveryMirror(t *testing.T) {
	c := testchain.New(t, testchain.Options{})
	c.Releases(t, 1, 2)
	down := serve(t, c.Handler())
	srvURL := down
	cl := newClient(t, c, []string{"http://127.0.0.1:1", srvURL})
	u := check(t, cl)
	assert.Equal(t, "1.0.2", version(u))
	assert.Equal(t, srvURL, u.Mirror)
}

func TestCheckUnreachable(t *testing.T) {
	c := testchain.New(t, testchain.Options{})
	cl := newClient(t, c, []string{"http://127.0.0.1:1", "http://127.0.0.1:2"})
	_, err := cl.Check(context.Background())
	require.ErrorIs(t, err, client.ErrUnreachable)
	assert.NotErrorIs(t, err, client.ErrRejected)
}

// Clients in several goroutines (as in several processes: the lock is a file lock)
// share one state directory: every Check succeeds, and the state ends at the head.
func TestConcurrentClientsShareAState(t *testing.T) {
	c := testchain.New(t, testchain.Options{})
	c.Releases(t, 1, 5)
	mirror := serve(t, c.Handler())
	dir := t.TempDir()
	errs := make(chan error, 8)
	for i := 0; i < cap(errs); i++ {
		mode := client.Express
		if i%2 == 1 {
			mode = client.Links
		}
		cl := newClient(t, c, []string{mirror}, withMode(mode), func(cfg *client.Config) { cfg.StateDir = dir })
		go func() {
			_, err := cl.Check(context.Background())
			errs <- err
		}()
	}
	for i := 0; i < cap(errs); i++ {
		require.NoError(t, <-errs)
	}
	last, err := newClient(t, c, []string{mirror}, func(cfg *client.Config) { cfg.StateDir = dir }).Last()
	require.NoError(t, err)
	assert.Equal(t, c.Head().Index(), last.Head.Index)
	assert.Equal(t, "1.0.5", version(last))
}
