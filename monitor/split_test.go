package monitor_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/monitor"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
	"github.com/stretchr/testify/require"
)

// forkOf replays healthyChain's first k blocks with the same keys, then releases
// 6.6.i: a second chain of the same genesis, validly signed by the same roster.
func forkOf(t *testing.T, k, n int) *testchain.Chain {
	c := testchain.New(t, testchain.Options{})
	for i := 1; i <= n; i++ {
		switch {
		case i > k:
			c.Release(t, fmt.Sprintf("6.6.%d", i))
		case i == 4:
			c.ChangeRoster(t, "R2", 5)
		case i < 4:
			c.Release(t, fmt.Sprintf("1.0.%d", i))
		default:
			c.Release(t, fmt.Sprintf("1.0.%d", i-1))
		}
	}
	return c
}

func TestForkBetweenMirrorsIsEvidence(t *testing.T) {
	for _, tc := range []struct {
		name   string
		k, n   int
		honest int // blocks of the honest chain
	}{
		{"same length", 2, 6, 6},
		{"fork longer", 2, 8, 6},
		{"fork shorter", 2, 4, 6},
		{"after the roster change", 5, 7, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			honest := healthyChain(t)
			fork := forkOf(t, tc.k, tc.n)
			require.Equal(t, honest.ID(), fork.ID(), "one genesis")
			require.NotEqual(t, honest.Block(uint64(tc.k+1)).ID(), fork.Block(uint64(tc.k+1)).ID())
			dir := t.TempDir()
			m := newMonitor(t, honest, dir, serve(t, honest), serve(t, fork))
			rep := run(t, m)
			require.Equal(t, monitor.Alarmed, rep.Status)
			require.Contains(t, kindsOf(rep), monitor.AlarmFork, "%+v", rep.Alarms)
			require.Len(t, rep.Evidence, 1)
			b, err := os.ReadFile(rep.Evidence[0])
			require.NoError(t, err)
			var ev client.Evidence
			require.NoError(t, json.Unmarshal(b, &ev))
			require.Equal(t, "link-fork", ev.Kind)
			fe, err := skipchain.ParseForkEvidence(mustHex(t, ev.ForkError))
			require.NoError(t, err, "anyone can check the evidence with the roster alone")
			require.Equal(t, uint64(tc.k), fe.From.Index())
			require.Equal(t, honest.Block(uint64(tc.k)).ID(), fe.From.ID())

			// The evidence stays until a person removes it, also across a restart, and
			// finding the same fork again adds no second file.
			again := run(t, m)
			require.Equal(t, monitor.Alarmed, again.Status)
			require.Equal(t, rep.Evidence, again.Evidence)
			require.NoError(t, m.Close())
			m = newMonitor(t, honest, dir, serve(t, honest), serve(t, fork))
			again = run(t, m)
			require.Equal(t, monitor.Alarmed, again.Status)
			require.Equal(t, 0, again.NewBlocks)
			require.Equal(t, rep.Evidence, again.Evidence)
			require.NoError(t, os.Remove(again.Evidence[0]))
		})
	}
}

func TestForgedBlock(t *testing.T) {
	honest := healthyChain(t)
	fork := forkOf(t, 2, 6)
	evil := chaintest.NewSigners(t, "EVIL", 4)
	// The forged mirror serves the fork with every link from block 2 on signed by
	// keys outside the roster.
	// forger serves c with every link from block 2 on signed by keys outside the
	// roster, unless mended.
	var mended atomic.Bool
	forger := func(c *testchain.Chain) http.Handler {
		resign := func(l *skipchain.ForwardLink) *skipchain.ForwardLink {
			if l.FromIndex() < 2 {
				return l
			}
			f, err := testchain.LinkWith(evil, c.Block(l.FromIndex()).Header(), c.Block(l.ToIndex()).Header(), 0)
			require.NoError(t, err)
			return f
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := api.ParsePath(r.URL.Path)
			body, serr := c.Serve(r.URL.Path)
			if err != nil || serr != nil || mended.Load() {
				c.Handler().ServeHTTP(w, r)
				return
			}
			switch p.Resource {
			case api.ResLink:
				l, err := skipchain.ParseForwardLink(body)
				require.NoError(t, err)
				body = resign(l).Encode()
			case api.ResBlock:
				sb, err := api.ParseServedBlock(body)
				require.NoError(t, err)
				for i, l := range sb.Links {
					sb.Links[i] = resign(l)
				}
				body = sb.Encode()
			}
			_, _ = w.Write(body)
		})
	}
	// The forged mirror serves the fork: links and its timestamp name other blocks.
	srv := serveHandler(t, forger(fork))

	t.Run("alone", func(t *testing.T) {
		m := newMonitor(t, honest, t.TempDir(), srv)
		rep := run(t, m)
		require.Equal(t, monitor.Alarmed, rep.Status)
		require.Equal(t, []string{monitor.AlarmLyingMirror}, kindsOf(rep), "%+v", rep.Alarms)
		require.Equal(t, uint64(2), rep.Verified, "nothing forged is stored")
		require.Empty(t, rep.Evidence, "a forgery proves nothing against the roster")
	})
	t.Run("before an honest mirror", func(t *testing.T) {
		m := newMonitor(t, honest, t.TempDir(), srv, serve(t, honest))
		rep := run(t, m)
		require.Equal(t, monitor.Alarmed, rep.Status)
		require.Equal(t, []string{monitor.AlarmLyingMirror}, kindsOf(rep), "%+v", rep.Alarms)
		require.Equal(t, srv, rep.Alarms[0].Source)
		require.Equal(t, uint64(6), rep.Verified, "the honest mirror's chain is verified")
		require.Equal(t, honest.Head().ID(), rep.Head)
	})
	t.Run("after a restart", func(t *testing.T) {
		// This one serves the honest blocks and timestamp, only the links are
		// forged: once the honest mirror's blocks are verified, nothing but the block
		// it forged shows its lie.
		srv := serveHandler(t, forger(honest))
		dir := t.TempDir()
		m := newMonitor(t, honest, dir, srv, serve(t, honest))
		first := run(t, m)
		require.Equal(t, []string{monitor.AlarmLyingMirror}, kindsOf(first), "%+v", first.Alarms)
		require.NoError(t, m.Close())
		// The block it forged is verified now, so no sync asks for it again: the
		// restarted monitor asks the mirror that lied.
		m = newMonitor(t, honest, dir, srv, serve(t, honest))
		rep := run(t, m)
		require.Equal(t, 0, rep.NewBlocks)
		require.Equal(t, uint64(6), rep.Verified)
		require.Equal(t, []string{monitor.AlarmLyingMirror}, kindsOf(rep), "%+v", rep.Alarms)
		require.Equal(t, srv, rep.Alarms[0].Source)
		// Once it serves the verified chain it is forgiven.
		mended.Store(true)
		t.Cleanup(func() { mended.Store(false) })
		rep = run(t, m)
		require.Equal(t, monitor.Healthy, rep.Status, "%+v", rep.Alarms)
		state, err := os.ReadFile(filepath.Join(dir, "monitor.json"))
		require.NoError(t, err)
		require.NotContains(t, string(state), `"lies"`)
	})
}

func TestFrozenMirror(t *testing.T) {
	honest := healthyChain(t)
	// The same chain, replayed, frozen at block 3 with a timestamp two days old.
	frozen := testchain.New(t, testchain.Options{})
	frozen.Releases(t, 1, 3)
	frozen.SetNow(t0.Add(-48 * time.Hour))

	m := newMonitor(t, honest, t.TempDir(), serve(t, honest), serve(t, frozen))
	rep := run(t, m)
	require.Equal(t, monitor.Alarmed, rep.Status)
	require.Equal(t, []string{monitor.AlarmFrozenMirror}, kindsOf(rep), "%+v", rep.Alarms)
	require.Equal(t, uint64(6), rep.Verified)
	require.Empty(t, rep.Evidence)

	// A mirror behind, with a fresh timestamp, is only late: no alarm.
	frozen.SetNow(t0)
	m2 := newMonitor(t, honest, t.TempDir(), serve(t, honest), serve(t, frozen))
	rep = run(t, m2)
	require.Equal(t, monitor.Healthy, rep.Status, "%+v", rep.Alarms)

	// The whole chain frozen: every timestamp is old.
	honest.SetNow(t0.Add(-48 * time.Hour))
	m3 := newMonitor(t, honest, t.TempDir(), serve(t, honest))
	rep = run(t, m3)
	require.Equal(t, monitor.Alarmed, rep.Status)
	require.ElementsMatch(t, []string{monitor.AlarmFrozenMirror, monitor.AlarmFrozenChain}, kindsOf(rep))
}
