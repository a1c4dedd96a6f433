package monitor_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/monitor"
	"github.com/stretchr/testify/require"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// external matches a resource loaded from outside the site.
var external = regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//`)

func TestSiteHealthy(t *testing.T) {
	c := healthyChain(t)
	site := t.TempDir()
	m, err := monitor.New(monitor.Config{Genesis: c.ID(), Mirrors: []string{serve(t, c)}, StateDir: t.TempDir(),
		SiteDir: site, Clock: func() time.Time { return now }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	require.Equal(t, monitor.Healthy, run(t, m).Status)

	index := read(t, filepath.Join(site, "index.html"))
	require.Contains(t, index, "Status: healthy")
	require.NotContains(t, index, `role="alert"`)
	for i := 0; i <= 6; i++ {
		require.Contains(t, index, fmt.Sprintf(`href="blocks/%d.html"`, i))
		require.FileExists(t, filepath.Join(site, "blocks", fmt.Sprintf("%d.html", i)))
	}
	require.Contains(t, index, "1.0.2")
	require.Contains(t, index, "(new roster)", "the roster change is highlighted")
	require.Contains(t, index, "3/4", "signers k/n")
	require.Contains(t, index, "<svg", "charts")
	require.Contains(t, index, "<th scope=\"col\">index</th>")
	require.Contains(t, index, "1h0m0s old", "the newest timestamp's age")
	for _, f := range []string{"index.html", "rosters.html", "pages/0.html", "blocks/4.html"} {
		require.NotRegexp(t, external, read(t, filepath.Join(site, f)), f)
		require.NotContains(t, read(t, filepath.Join(site, f)), "<script", f)
	}
	rosters := read(t, filepath.Join(site, "rosters.html"))
	require.Equal(t, 2, strings.Count(rosters, "<h2>Roster "), "R1 then R2")

	b4 := read(t, filepath.Join(site, "blocks", "3.html"))
	require.Contains(t, b4, "Release manifest")
	require.Contains(t, b4, "linux-x86_64")
	require.Contains(t, b4, "Forward links leaving this block")

	var feed monitor.Feed
	require.NoError(t, json.Unmarshal([]byte(read(t, filepath.Join(site, "feed.json"))), &feed))
	require.Len(t, feed.Blocks, 7)
	require.Equal(t, uint64(6), feed.Blocks[0].Index, "newest first")
	var atom struct {
		Entries []struct{ Title string } `xml:"entry"`
	}
	require.NoError(t, xml.Unmarshal([]byte(read(t, filepath.Join(site, "atom.xml"))), &atom))
	require.Len(t, atom.Entries, 5, "one per release")
	_, err = monitor.ParseCheckpoint([]byte(read(t, filepath.Join(site, "checkpoint"))))
	require.NoError(t, err)

	// The chain grows: the old head's page gets its new forward link.
	require.NotContains(t, read(t, filepath.Join(site, "blocks", "6.html")), `href="7.html"`)
	c.Release(t, "3.0")
	require.Equal(t, monitor.Healthy, run(t, m).Status)
	require.Contains(t, read(t, filepath.Join(site, "blocks", "6.html")), `href="7.html"`)
}

func TestSiteAlarmFirst(t *testing.T) {
	honest := healthyChain(t)
	site := t.TempDir()
	m, err := monitor.New(monitor.Config{Genesis: honest.ID(), Mirrors: []string{serve(t, honest), serve(t, forkOf(t, 2, 6))},
		StateDir: t.TempDir(), SiteDir: site, Clock: func() time.Time { return now }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	require.Equal(t, monitor.Alarmed, run(t, m).Status)
	index := read(t, filepath.Join(site, "index.html"))
	alert, h1 := strings.Index(index, `role="alert"`), strings.Index(index, "<h1>")
	require.True(t, alert > 0 && alert < h1, "the alarm comes before anything else")
	require.Contains(t, index, "ALARM")
	require.Contains(t, index, "fork")
	for _, f := range []string{"pages/0.html", "blocks/1.html", "rosters.html"} {
		require.Contains(t, read(t, filepath.Join(site, f)), `role="alert"`, "on every page: %s", f)
	}
	require.Contains(t, read(t, filepath.Join(site, "atom.xml")), "ALARM fork")
}

// An alarm raised after the pages were written reaches the old pages too.
func TestSiteAlarmReachesOldPages(t *testing.T) {
	honest := healthyChain(t)
	site, state := t.TempDir(), t.TempDir()
	cfg := monitor.Config{Genesis: honest.ID(), Mirrors: []string{serve(t, honest)}, StateDir: state, SiteDir: site,
		Clock: func() time.Time { return now }}
	m, err := monitor.New(cfg)
	require.NoError(t, err)
	require.Equal(t, monitor.Healthy, run(t, m).Status)
	require.NotContains(t, read(t, filepath.Join(site, "blocks", "1.html")), `role="alert"`)
	require.NoError(t, m.Close())
	cfg.Mirrors = append(cfg.Mirrors, serve(t, forkOf(t, 2, 6)))
	m, err = monitor.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	require.Equal(t, monitor.Alarmed, run(t, m).Status)
	require.Contains(t, read(t, filepath.Join(site, "blocks", "1.html")), `role="alert"`)
	require.Contains(t, read(t, filepath.Join(site, "pages", "0.html")), `role="alert"`)
}

// Pages hold PageSize blocks; one page of the default size stays under 200 KB.
func TestSitePages(t *testing.T) {
	c := testchain.New(t, testchain.Options{})
	c.Releases(t, 1, 120)
	site := t.TempDir()
	m, err := monitor.New(monitor.Config{Genesis: c.ID(), Mirrors: []string{serve(t, c)}, StateDir: t.TempDir(),
		SiteDir: site, PageSize: 50, Clock: func() time.Time { return now }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	require.Equal(t, monitor.Healthy, run(t, m).Status)
	for p, rows := range []int{50, 50, 21} {
		page := read(t, filepath.Join(site, "pages", fmt.Sprintf("%d.html", p)))
		require.Equal(t, rows, strings.Count(page, "<tr><td><a href=\"../blocks/"), "page %d", p)
	}
	page := read(t, filepath.Join(site, "pages", "1.html"))
	perRow := len(page) / 50
	require.Less(t, perRow*monitor.DefaultPageSize+4096, 200<<10, "a page of %d blocks at %d bytes each", monitor.DefaultPageSize, perRow)
	require.Less(t, len(read(t, filepath.Join(site, "index.html"))), 200<<10)
}
