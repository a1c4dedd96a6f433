package monitor_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chainiac/chainiac/internal/sample"
	"github.com/chainiac/chainiac/monitor"
	"github.com/chainiac/chainiac/release/build"
	"github.com/stretchr/testify/require"
)

func sourcePath(v string) string {
	return "/releases/" + v + "/" + sample.Product + "-" + v + ".tar.gz"
}

// rebuildConfig rebuilds with the reference recipe (this test binary, see TestMain)
// from the chain's download server.
func rebuildConfig(t *testing.T, c *releaseChain) *monitor.RebuildConfig {
	exe, err := os.Executable()
	require.NoError(t, err)
	runner, err := build.NewRunner(build.Config{WorkDir: t.TempDir()})
	require.NoError(t, err)
	return &monitor.RebuildConfig{Runner: runner, Recipes: map[string]build.Recipe{build.ReferenceRecipeName: build.ReferenceRecipe(exe)},
		Source: c.files.URL + "/releases/{version}/{product}-{version}.tar.gz"}
}

func rebuildMonitor(t *testing.T, c *releaseChain, dir string, rc *monitor.RebuildConfig, checkMARs bool) *monitor.Monitor {
	t.Helper()
	m, err := monitor.New(monitor.Config{Genesis: c.ID(), Mirrors: []string{serve(t, c.Chain)}, StateDir: dir,
		SiteDir: filepath.Join(dir, "site"), Rebuild: rc, CheckMARs: checkMARs, Clock: func() time.Time { return now }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// Honest releases rebuild, once: not again in the next run nor after a restart.
func TestRebuildHonestReleasesOnce(t *testing.T) {
	c := newReleaseChain(t)
	dir := t.TempDir()
	rc := rebuildConfig(t, c)
	m := rebuildMonitor(t, c, dir, rc, false)
	rep := run(t, m)
	require.Equal(t, monitor.Healthy, rep.Status, "%+v", rep.Alarms)
	require.NotNil(t, rep.Rebuild)
	require.Equal(t, 3, rep.Rebuild.Checked)
	require.Equal(t, uint64(3), rep.Rebuild.Passed)
	require.Equal(t, uint64(4), rep.Rebuild.Done)
	require.Empty(t, rep.Rebuild.Failed)
	require.Empty(t, rep.Rebuild.Pending)
	for _, v := range []string{"1.0", "1.1", "2.0"} {
		require.Equal(t, 1, c.files.count(sourcePath(v)), v)
		require.Equal(t, 1, c.files.count(marPath(v, sample.Targets()[0])), "the rebuild fetches the signed MARs it compares")
	}
	rep = run(t, m)
	require.Equal(t, 0, rep.Rebuild.Checked)
	require.NoError(t, m.Close())
	m = rebuildMonitor(t, c, dir, rc, false)
	rep = run(t, m)
	require.Equal(t, monitor.Healthy, rep.Status, "%+v", rep.Alarms)
	require.Equal(t, 0, rep.Rebuild.Checked, "nothing rebuilt again after a restart")
	require.Equal(t, uint64(3), rep.Rebuild.Passed)
	require.Equal(t, 1, c.files.count(sourcePath("2.0")))
	require.Contains(t, read(t, filepath.Join(dir, "site", "index.html")), "Independent rebuild from source")

	// The chain grows: only the new release is rebuilt.
	r := c.add(t, "2.1", false)
	require.NotNil(t, r)
	rep = run(t, m)
	require.Equal(t, monitor.Healthy, rep.Status, "%+v", rep.Alarms)
	require.Equal(t, 1, rep.Rebuild.Checked)
	require.Equal(t, uint64(5), rep.Rebuild.Done)
	require.Equal(t, uint64(4), rep.Rebuild.Passed)
}

// A release whose MAR was built from another source than the manifest names (the
// cothority signed it without rebuilding) is not reproducible: an alarm naming the
// target and the check, in every run, without building it again.
func TestRebuildNotReproducible(t *testing.T) {
	c := newReleaseChain(t, "1.1")
	dir := t.TempDir()
	rc := rebuildConfig(t, c)
	m := rebuildMonitor(t, c, dir, rc, true)
	rep := run(t, m)
	require.Equal(t, monitor.Alarmed, rep.Status)
	require.Equal(t, []string{monitor.AlarmNotReproducible}, kindsOf(rep), "%+v", rep.Alarms)
	a := rep.Alarms[0]
	require.Contains(t, a.Summary, "block 2 ")
	require.Contains(t, a.Summary, "1.1")
	require.Contains(t, a.Summary, "target "+sample.Targets()[0].String())
	require.Contains(t, a.Summary, string(build.CheckUnsignedSize)+": rebuilt MAR is")
	require.Equal(t, c.files.URL+sourcePath("1.1"), a.Source)
	require.Empty(t, rep.MARs.Failed, "its MARs are the manifest's: only the rebuild shows the difference")
	require.Len(t, rep.Rebuild.Failed, 1)
	require.Equal(t, uint64(2), rep.Rebuild.Passed)
	require.Equal(t, 1.0, gauge(t, m, "chainiac_monitor_release_checks", "check", "rebuild", "result", "failed"))
	require.Equal(t, 2.0, gauge(t, m, "chainiac_monitor_release_checks", "check", "rebuild", "result", "passed"))
	require.Equal(t, 3.0, gauge(t, m, "chainiac_monitor_release_checks", "check", "mars", "result", "passed"))
	require.Equal(t, 4.0, gauge(t, m, "chainiac_monitor_release_checks_done_index", "check", "rebuild"))
	index := read(t, filepath.Join(dir, "site", "index.html"))
	require.Contains(t, index, "<strong>not-reproducible</strong>")
	require.Contains(t, index, "<strong>not reproducible</strong>")

	require.NoError(t, m.Close())
	m = rebuildMonitor(t, c, dir, rc, true)
	rep = run(t, m)
	require.Equal(t, []string{monitor.AlarmNotReproducible}, kindsOf(rep), "the alarm stays after a restart")
	require.Equal(t, 0, rep.Rebuild.Checked, "a release that did not rebuild is not built again")
	require.Equal(t, 1, c.files.count(sourcePath("1.1")))
}

func TestRebuildSourceProblems(t *testing.T) {
	c := newReleaseChain(t)
	k := sample.Targets()[1]
	goodSource, goodMAR := c.files.files[sourcePath("1.1")], c.releases["2.0"].SignedMARs[k]
	c.files.set(sourcePath("1.1"), nil, false)                              // not published (yet)
	c.files.set(sourcePath("1.0"), c.files.files[sourcePath("2.0")], false) // another release's source
	bad := append([]byte(nil), goodMAR...)
	bad[10] ^= 1
	c.files.set(marPath("2.0", k), bad, false) // the download server's MAR is not the manifest's
	dir := t.TempDir()
	rc := rebuildConfig(t, c)
	m := rebuildMonitor(t, c, dir, rc, false)
	rep := run(t, m)
	require.Equal(t, []string{monitor.AlarmNotReproducible}, kindsOf(rep), "%+v", rep.Alarms)
	require.Contains(t, rep.Alarms[0].Summary, "block 1 ")
	require.Contains(t, rep.Alarms[0].Summary, "source sha-256")
	require.Len(t, rep.Rebuild.Pending, 2, "%+v", rep.Rebuild.Pending)
	require.Equal(t, uint64(2), rep.Rebuild.Pending[0].Index)
	require.Contains(t, rep.Rebuild.Pending[0].Reason, "404")
	require.Equal(t, uint64(4), rep.Rebuild.Pending[1].Index)
	require.Contains(t, rep.Rebuild.Pending[1].Reason, string(build.CheckSignedSHA512), "a bad download is no proof against the release")

	// Fixed on the server: both rebuild in the next run.
	c.files.set(sourcePath("1.1"), goodSource, false)
	c.files.set(marPath("2.0", k), goodMAR, false)
	rep = run(t, m)
	require.Equal(t, []string{monitor.AlarmNotReproducible}, kindsOf(rep))
	require.Equal(t, 2, rep.Rebuild.Checked)
	require.Empty(t, rep.Rebuild.Pending)
	require.Equal(t, uint64(2), rep.Rebuild.Passed)
}

// A recipe the monitor does not know leaves the release pending; MaxPerRun bounds a
// run's rebuilds.
func TestRebuildRecipesAndBudget(t *testing.T) {
	c := newReleaseChain(t)
	rc := rebuildConfig(t, c)
	recipes := rc.Recipes
	rc.Recipes = nil
	m := rebuildMonitor(t, c, t.TempDir(), rc, false)
	rep := run(t, m)
	require.Equal(t, monitor.Healthy, rep.Status, "%+v", rep.Alarms)
	require.Len(t, rep.Rebuild.Pending, 3)
	require.Contains(t, rep.Rebuild.Pending[0].Reason, `recipe "reference/v2": no such recipe configured`)

	rc = rebuildConfig(t, c)
	rc.Recipes, rc.MaxPerRun = recipes, 2
	m = rebuildMonitor(t, c, t.TempDir(), rc, false)
	rep = run(t, m)
	require.Equal(t, 2, rep.Rebuild.Checked)
	require.Equal(t, uint64(2), rep.Rebuild.Done)
	rep = run(t, m)
	require.Equal(t, 1, rep.Rebuild.Checked)
	require.Equal(t, uint64(4), rep.Rebuild.Done)
	require.Equal(t, uint64(3), rep.Rebuild.Passed)

	for _, src := range []string{"relative/{version}.tar.gz", "https://x/no-version.tar.gz", "ftp://x/{version}"} {
		rc := rebuildConfig(t, c)
		rc.Source = src
		_, err := monitor.New(monitor.Config{Genesis: c.ID(), Mirrors: []string{"http://127.0.0.1:1"}, StateDir: t.TempDir(), Rebuild: rc})
		require.Error(t, err, src)
	}
}

// gauge reads the gauge name with the given label pairs from the monitor's metrics.
func gauge(t *testing.T, m *monitor.Monitor, name string, labels ...string) float64 {
	t.Helper()
	families, err := m.Metrics().Registry().Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, mt := range f.GetMetric() {
			for i := 0; i < len(labels); i += 2 {
				found := false
				for _, l := range mt.GetLabel() {
					found = found || l.GetName() == labels[i] && l.GetValue() == labels[i+1]
				}
				if !found {
					continue metrics
				}
			}
			return mt.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s %v", name, labels)
	return 0
}
