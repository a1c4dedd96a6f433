package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/sample"
	"github.com/chainiac/chainiac/monitor"
	"github.com/chainiac/chainiac/skipchain"
)

// monitorProc runs `chainiac monitor --once --json` as a process of its own, so that
// each run is a restart on the same --state, and returns its report and exit code.
func monitorProc(t *testing.T, args ...string) (*monitor.Report, int) {
	t.Helper()
	out, errOut, code := runBin(t, append([]string{"monitor", "--once", "--json"}, args...)...)
	var rep monitor.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep), "exit %d: %s\nstderr: %s", code, out, errOut)
	return &rep, code
}

// keptAlarms are the alarms of kind in a monitor's state file.
func keptAlarms(t *testing.T, state, kind string) []monitor.Alarm {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(state, "monitor.json"))
	require.NoError(t, err)
	var st struct{ Alarms []monitor.Alarm }
	require.NoError(t, json.Unmarshal(b, &st))
	var out []monitor.Alarm
	for _, a := range st.Alarms {
		if a.Kind == kind {
			out = append(out, a)
		}
	}
	return out
}

func kinds(rep *monitor.Report) []string {
	var out []string
	for _, a := range rep.Alarms {
		out = append(out, a.Kind)
	}
	return out
}

// staticMirror exports node url's chains into a new directory and serves it as is,
// as a web server or CDN would.
func staticMirror(t *testing.T, url string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "site")
	mustRunBin(t, "export", "--node", url, "--output", dir)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// copyDir copies a stopped node's directory (configuration, key and data) with each
// file's permissions: a node refuses a key others can read.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), info.Mode().Perm())
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, info.Mode().Perm())
	}))
}

// The monitor against four `chainiac node run` processes, each monitor pass a process
// of its own: a mirror that forges a block, a static export frozen on an old head,
// and a fork signed by the nodes' own keys, run twice over (the nodes, stopped after
// block 1, copied with their keys and data, and the copies started on the same
// addresses once the originals stopped, each cothority then signing its own block 2).
// Each gives its alarm, exit 3 and (for the fork) evidence, and a second pass on the
// same --state resumes without verifying anything again and keeps them.
func TestMonitorAgainstNodeProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four node processes, twice")
	}
	// Node 0 (the roster's first member) renews the timestamp every 2 s, so a live
	// node's is always fresh beside a frozen export's.
	c := newProcCluster(t, 4, [2]string{"timestamp_interval", `"2s"`})
	out := mustRunBin(t, "chain", "create", "--roster", c.group, "--policy", c.policy,
		"--product", sample.Product, "--node", c.url(0))
	c.genesis = parseID(t, out)
	g := c.genesis.String()
	c.mustAccept(0, c.release("1.0"), 1)
	c.waitSameHead(1)
	frozen := staticMirror(t, c.url(2))
	frozenAt := time.Now()

	forkDir := filepath.Join(c.work, "fork")
	originals := append([]string(nil), c.configs...)
	var copies []string
	for i := range c.procs {
		c.stop(i)
		dir := filepath.Dir(c.configs[i])
		copyDir(t, dir, filepath.Join(forkDir, filepath.Base(dir)))
		copies = append(copies, filepath.Join(forkDir, filepath.Base(dir), filepath.Base(c.configs[i])))
	}
	for i := range c.procs {
		c.start(i)
	}
	c.mustAccept(1, c.release("1.1"), 2)
	head := c.waitSameHead(2)

	t.Run("forged block", func(t *testing.T) {
		// A proxy in front of node 1 serves the link 1→2 with a byte of its signature
		// changed, in block 1 and as the link itself; everything else as the node does.
		forged := map[string]bool{api.Block(c.genesis, 1): true, api.Link(c.genesis, 1, 0): true}
		proxy := tamperingProxy(t, c.url(1), func(path string, b []byte) []byte {
			if forged[path] && len(b) > 0 {
				b = bytes.Clone(b)
				b[len(b)-1] ^= 1
			}
			return b
		})

		// Alone: nothing forged is stored; a restart asks again and finds it again.
		state := t.TempDir()
		for pass := 0; pass < 2; pass++ {
			rep, code := monitorProc(t, "--genesis", g, "--mirror", proxy, "--state", state)
			require.Equal(t, exitRejected, code)
			require.Equal(t, []string{monitor.AlarmLyingMirror}, kinds(rep), "%+v", rep.Alarms)
			require.Contains(t, rep.Alarms[0].Summary, "1→2")
			require.Equal(t, uint64(1), rep.Verified)
			require.Empty(t, rep.Evidence, "a forgery proves nothing against the roster")
		}

		// Before an honest node: block 2 is verified from it. The restarted monitor
		// fetches nothing new but asks the proxy for the block it forged, again.
		state = t.TempDir()
		args := []string{"--genesis", g, "--mirror", proxy, "--mirror", c.url(2), "--state", state}
		rep, code := monitorProc(t, args...)
		require.Equal(t, exitRejected, code)
		require.Equal(t, []string{monitor.AlarmLyingMirror}, kinds(rep), "%+v", rep.Alarms)
		require.Equal(t, proxy, rep.Alarms[0].Source)
		require.Equal(t, head, rep.Head)
		require.Equal(t, 2, rep.NewBlocks)
		rep, code = monitorProc(t, args...)
		require.Equal(t, exitRejected, code)
		require.Equal(t, []string{monitor.AlarmLyingMirror}, kinds(rep), "%+v", rep.Alarms)
		require.Equal(t, 0, rep.NewBlocks, "nothing verified twice")
		require.Equal(t, head, rep.Head)
		require.Empty(t, rep.Evidence)
		kept := keptAlarms(t, state, monitor.AlarmLyingMirror)
		require.Len(t, kept, 1, "the second pass found the same lie: %+v", kept)
		require.True(t, kept[0].Last.After(kept[0].First))
	})

	t.Run("frozen mirror", func(t *testing.T) {
		// The export taken at block 1 is older than --max-age; node 0 renews its own.
		const maxAge = 8 * time.Second
		time.Sleep(time.Until(frozenAt.Add(maxAge + time.Second)))
		state := t.TempDir()
		args := []string{"--genesis", g, "--mirror", c.url(0), "--mirror", frozen, "--state", state, "--max-age", maxAge.String()}
		for pass := 0; pass < 2; pass++ {
			rep, code := monitorProc(t, args...)
			require.Equal(t, exitRejected, code, "%+v", rep.Alarms)
			require.Equal(t, []string{monitor.AlarmFrozenMirror}, kinds(rep), "%+v", rep.Alarms)
			require.Equal(t, frozen, rep.Alarms[0].Source)
			require.Contains(t, rep.Alarms[0].Summary, "(block 1, ")
			require.Equal(t, head, rep.Head)
			require.Equal(t, 2*(1-pass), rep.NewBlocks)
			require.Empty(t, rep.Evidence)
			for _, m := range rep.Mirrors {
				require.True(t, m.Reachable, m.URL)
			}
		}
		require.Len(t, keptAlarms(t, state, monitor.AlarmFrozenMirror), 1, "one alarm, updated by the second pass")

		// Alone, the whole chain looks frozen.
		rep, code := monitorProc(t, "--genesis", g, "--mirror", frozen, "--state", t.TempDir(), "--max-age", maxAge.String())
		require.Equal(t, exitRejected, code)
		require.ElementsMatch(t, []string{monitor.AlarmFrozenMirror, monitor.AlarmFrozenChain}, kinds(rep), "%+v", rep.Alarms)
		require.Equal(t, uint64(1), rep.Verified)
	})

	t.Run("fork signed by the nodes' keys", func(t *testing.T) {
		honest := staticMirror(t, c.url(1))
		// The copies, on the same addresses, have block 1 and sign another block 2.
		for i := range c.procs {
			c.stop(i)
		}
		c.configs = copies
		for i := range c.procs {
			c.start(i)
		}
		t.Cleanup(func() { c.configs = originals })
		c.mustAccept(2, c.release("2.0"), 2)
		other := c.waitSameHead(2)
		require.NotEqual(t, head, other)
		forked := staticMirror(t, c.url(1))

		state := t.TempDir()
		args := []string{"--genesis", g, "--mirror", honest, "--mirror", forked, "--state", state}
		rep, code := monitorProc(t, args...)
		require.Equal(t, exitRejected, code)
		require.Equal(t, []string{monitor.AlarmFork}, kinds(rep), "%+v", rep.Alarms)
		require.Equal(t, forked, rep.Alarms[0].Source)
		require.Equal(t, head, rep.Head, "the first mirror's chain is verified")
		require.Len(t, rep.Evidence, 1)
		b, err := os.ReadFile(rep.Evidence[0])
		require.NoError(t, err)
		var ev client.Evidence
		require.NoError(t, json.Unmarshal(b, &ev))
		require.Equal(t, "link-fork", ev.Kind)
		raw, err := hex.DecodeString(ev.ForkError)
		require.NoError(t, err)
		fe, err := skipchain.ParseForkEvidence(raw)
		require.NoError(t, err, "anyone can check it with the roster alone")
		require.Equal(t, uint64(1), fe.From.Index())
		ids := []skipchain.ID{fe.A.To(), fe.B.To()}
		require.ElementsMatch(t, []skipchain.ID{head, other}, ids, "the two blocks 2")
		for _, l := range []*skipchain.ForwardLink{fe.A, fe.B} {
			require.GreaterOrEqual(t, l.Signature().Mask().Count(), 3, "a threshold of the four nodes signed each")
		}

		// Restarted: the same evidence file, nothing verified again.
		again, code := monitorProc(t, args...)
		require.Equal(t, exitRejected, code)
		require.Equal(t, rep.Evidence, again.Evidence)
		require.Equal(t, 0, again.NewBlocks)
		require.Equal(t, head, again.Head)

		// The fork's own timestamp is signed by the same roster: a monitor that
		// verified the fork first finds the honest chain is the other branch.
		rep, code = monitorProc(t, "--genesis", g, "--mirror", forked, "--mirror", honest, "--state", t.TempDir())
		require.Equal(t, exitRejected, code)
		require.Equal(t, []string{monitor.AlarmFork}, kinds(rep), "%+v", rep.Alarms)
		require.Equal(t, other, rep.Head)
		require.Len(t, rep.Evidence, 1)
		require.True(t, strings.HasSuffix(rep.Evidence[0], ".json"))
	})
}
