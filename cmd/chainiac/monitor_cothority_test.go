package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/demo"
	"github.com/chainiac/chainiac/monitor"
)

// runDemo runs the demo with 4 nodes (and the spare that joins in the rotation) in
// this process: three releases, the roster change, release 3.0, the refused tampered
// 3.1. The cothority keeps running until the test ends.
func runDemo(t *testing.T) *demo.Demo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, err := demo.Run(ctx, demo.Options{Nodes: 4, Dir: t.TempDir(), Out: io.Discard})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	return d
}

func monitorJSON(t *testing.T, args ...string) (*monitor.Report, error) {
	t.Helper()
	out, err := runCLI(t, append([]string{"monitor", "--once", "--json"}, args...)...)
	var rep monitor.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	return &rep, err
}

// A monitor against a real cothority (the demo's nodes, their HTTP APIs and node 0's
// static export): it follows the releases and the roster change, checks every MAR on
// the download server and rebuilds every release with the reference recipe (this
// test binary, see TestMain); a MAR replaced on the download server is a
// mar-mismatch alarm; every run is a new process state, so nothing done is redone.
func TestMonitorAgainstRealCothority(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cothority of 5 nodes")
	}
	d := runDemo(t)
	s := d.Summary()
	require.Len(t, s.Blocks, 5)
	state, site := t.TempDir(), t.TempDir()
	args := []string{"--genesis", s.Genesis, "--mirror", s.Nodes[0], "--mirror", s.Nodes[4], "--mirror", s.Mirror,
		"--state", state, "--site", site, "--check-mars", "--mar-recheck", "1ns",
		"--rebuild", "--source", s.Downloads + "/releases/{version}/{product}-{version}.tar.gz"}

	rep, err := monitorJSON(t, args...)
	require.NoError(t, err, "%+v", rep.Alarms)
	require.Equal(t, monitor.Healthy, rep.Status)
	require.Equal(t, uint64(5), rep.Verified)
	require.Equal(t, s.Blocks[4].ID, rep.Head.String())
	require.Equal(t, 5, rep.NewBlocks)
	for _, m := range rep.Mirrors {
		require.True(t, m.Reachable, m.URL)
		require.Empty(t, m.Error, m.URL)
		require.Equal(t, uint64(5), m.Index, "%s names the head in its timestamp", m.URL)
	}
	for _, c := range []*monitor.CheckReport{rep.MARs, rep.Rebuild} {
		require.NotNil(t, c)
		require.Equal(t, uint64(5), c.Done)
		require.Equal(t, uint64(4), c.Passed, "1.0, 1.1, 2.0, 3.0")
		require.Equal(t, 4, c.Checked)
		require.Empty(t, c.Failed)
		require.Empty(t, c.Pending)
	}
	rosters, err := os.ReadFile(filepath.Join(site, "rosters.html"))
	require.NoError(t, err)
	require.Equal(t, 2, strings.Count(string(rosters), "<h2>Roster "), "the genesis roster and the rotated one")
	index, err := os.ReadFile(filepath.Join(site, "index.html"))
	require.NoError(t, err)
	require.Contains(t, string(index), "(new roster)")
	require.Contains(t, string(index), "Status: healthy")

	// Whoever controls the download server ships another file as 3.0's MAR.
	path := "/releases/3.0/linux-x86_64/en-US.mar"
	good, ok := d.Downloaded(path)
	require.True(t, ok)
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 0xff
	d.Publish(path, bad)
	rep, err = monitorJSON(t, args...)
	require.Equal(t, exitRejected, exitCode(err), "%v", err)
	require.Equal(t, monitor.Alarmed, rep.Status)
	require.Len(t, rep.Alarms, 1, "%+v", rep.Alarms)
	a := rep.Alarms[0]
	require.Equal(t, monitor.AlarmMARMismatch, a.Kind)
	require.Equal(t, s.Downloads+path, a.Source)
	require.Contains(t, a.Summary, "block 5 (demo-browser 3.0 on release)")
	require.Contains(t, a.Summary, "target linux-x86_64/en-US")
	require.Empty(t, rep.Evidence, "a download server proves nothing against the roster")
	require.Equal(t, 0, rep.NewBlocks)
	require.Equal(t, 0, rep.Rebuild.Checked, "the restarted monitor rebuilds nothing again")
	require.Equal(t, uint64(4), rep.Rebuild.Passed)
	index, err = os.ReadFile(filepath.Join(site, "index.html"))
	require.NoError(t, err)
	require.Contains(t, string(index), `role="alert"`)

	// The right file again: healthy.
	d.Publish(path, good)
	rep, err = monitorJSON(t, args...)
	require.NoError(t, err, "%+v", rep.Alarms)
	require.Equal(t, monitor.Healthy, rep.Status)
	require.Empty(t, rep.MARs.Failed)

	// Another monitor finds 2.0's source replaced (by 1.1's) where it looks for it:
	// that release does not reproduce from it; the others do.
	sources := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/releases/2.0/demo-browser-2.0.tar.gz" {
			p = "/releases/1.1/demo-browser-1.1.tar.gz"
		}
		b, ok := d.Downloaded(p)
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(sources.Close)
	rep, err = monitorJSON(t, "--genesis", s.Genesis, "--mirror", s.Mirror, "--state", t.TempDir(),
		"--rebuild", "--source", sources.URL+"/releases/{version}/{product}-{version}.tar.gz")
	require.Equal(t, exitRejected, exitCode(err), "%v", err)
	require.Len(t, rep.Alarms, 1, "%+v", rep.Alarms)
	require.Equal(t, monitor.AlarmNotReproducible, rep.Alarms[0].Kind)
	require.Contains(t, rep.Alarms[0].Summary, "block 3 (demo-browser 2.0 on release) could not be reproduced")
	require.Contains(t, rep.Alarms[0].Summary, "source sha-256")
	require.Equal(t, uint64(3), rep.Rebuild.Passed)
}
