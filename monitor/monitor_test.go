package monitor_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chainiac/chainiac/monitor"
	"github.com/stretchr/testify/require"
)

func TestHealthyReleasesAndRosterChange(t *testing.T) {
	c := healthyChain(t)
	a, b := serve(t, c), serve(t, c)
	m := newMonitor(t, c, t.TempDir(), a, b)
	rep := run(t, m)
	require.Equal(t, monitor.Healthy, rep.Status, "%+v", rep.Alarms)
	require.Equal(t, uint64(6), rep.Verified)
	require.Equal(t, c.Head().ID(), rep.Head)
	require.Equal(t, 6, rep.NewBlocks)
	require.Equal(t, t0, rep.Timestamp)
	require.Empty(t, rep.Evidence)
	for _, s := range rep.Mirrors {
		require.True(t, s.Reachable)
		require.Equal(t, uint64(6), s.Index)
	}
	cp, err := monitor.ParseCheckpoint(mustHex(t, rep.Checkpoint))
	require.NoError(t, err)
	require.Equal(t, uint64(6), cp.Index)
	require.Equal(t, c.Head().ID(), cp.Head)
	require.Equal(t, m.PublicKey(), cp.Key)

	// The chain grows: the next run verifies only the new block.
	c.Release(t, "2.0")
	rep = run(t, m)
	require.Equal(t, monitor.Healthy, rep.Status, "%+v", rep.Alarms)
	require.Equal(t, 1, rep.NewBlocks)
	require.Equal(t, uint64(7), rep.Verified)
}

func TestUnreachable(t *testing.T) {
	c := healthyChain(t)
	m := newMonitor(t, c, t.TempDir(), "http://127.0.0.1:1")
	rep := run(t, m)
	require.Equal(t, monitor.Unreachable, rep.Status)
	require.Empty(t, rep.Alarms)

	// Once the chain is stored, mirrors that stop answering are still unreachable,
	// not an alarm (until the verified timestamp grows too old).
	url := serve(t, c)
	dir := t.TempDir()
	m = newMonitor(t, c, dir, url)
	require.Equal(t, monitor.Healthy, run(t, m).Status)
	require.NoError(t, m.Close())
	m = newMonitor(t, c, dir, "http://127.0.0.1:1")
	rep = run(t, m)
	require.Equal(t, monitor.Unreachable, rep.Status, "%+v", rep.Alarms)
	require.Equal(t, uint64(6), rep.Verified)
}

func TestRestartResumes(t *testing.T) {
	c := healthyChain(t)
	url := serve(t, c)
	dir := t.TempDir()
	m := newMonitor(t, c, dir, url)
	rep := run(t, m)
	require.Equal(t, monitor.Healthy, rep.Status)
	key := m.PublicKey()
	require.NoError(t, m.Close())

	c.Release(t, "2.0")
	m2 := newMonitor(t, c, dir, url)
	require.Equal(t, key, m2.PublicKey(), "the monitor keeps its key")
	rep = run(t, m2)
	require.Equal(t, monitor.Healthy, rep.Status, "%+v", rep.Alarms)
	require.Equal(t, 1, rep.NewBlocks, "only the new block is fetched and verified")
	require.Equal(t, uint64(7), rep.Verified)
	_, err := os.Stat(filepath.Join(dir, "chain.db"))
	require.NoError(t, err)
}
