package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/monitor"
	"github.com/stretchr/testify/require"
)

// monitorChain is three releases, a roster change and a release, with timestamps
// signed at the real clock (the command has no other).
func monitorChain(t *testing.T, fork bool) *testchain.Chain {
	c := testchain.New(t, testchain.Options{Now: time.Now()})
	c.Releases(t, 1, 2)
	if fork {
		c.Release(t, "6.6.6")
	} else {
		c.Release(t, "1.0.3")
	}
	c.ChangeRoster(t, "R2", 5)
	c.Release(t, "1.0.4")
	return c
}

func serveChain(t *testing.T, c *testchain.Chain) string {
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestMonitorOnceExitCodes(t *testing.T) {
	honest := monitorChain(t, false)
	url := serveChain(t, honest)
	state := t.TempDir()
	out, err := runCLI(t, "monitor", "--genesis", honest.ID().String(), "--mirror", url, "--state", state, "--once")
	require.NoError(t, err)
	require.Contains(t, out, "healthy: block 5 "+honest.Head().ID().String())

	out, err = runCLI(t, "monitor", "--genesis", honest.ID().String(), "--mirror", url, "--state", state, "--once", "--json")
	require.NoError(t, err)
	var rep monitor.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Equal(t, monitor.Healthy, rep.Status)
	require.Equal(t, 0, rep.NewBlocks, "resumed from the state directory")

	// A second mirror serving a validly signed fork: evidence, exit 3.
	fork := serveChain(t, monitorChain(t, true))
	out, err = runCLI(t, "monitor", "--genesis", honest.ID().String(), "--mirror", url, "--mirror", fork, "--state", t.TempDir(), "--once")
	require.Error(t, err)
	require.Equal(t, exitRejected, exitCode(err))
	require.Contains(t, out, "ALARM fork")
	require.Contains(t, out, "EVIDENCE ")

	// Nothing answers: exit 4.
	_, err = runCLI(t, "monitor", "--genesis", honest.ID().String(), "--mirror", "http://127.0.0.1:1", "--state", t.TempDir(), "--once")
	require.Equal(t, exitUnreachable, exitCode(err), "%v", err)

	// Usage errors: exit 2.
	_, err = runCLI(t, "monitor", "--genesis", "zz", "--mirror", url, "--state", t.TempDir(), "--once")
	require.Equal(t, exitUsage, exitCode(err))
	_, err = runCLI(t, "monitor", "--genesis", honest.ID().String(), "--mirror", "ftp://x", "--state", t.TempDir(), "--once")
	require.Equal(t, exitUsage, exitCode(err))
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// The daemon serves the site, the checkpoint and /metrics, and stops cleanly on
// SIGTERM.
func TestMonitorDaemonServesAndStopsOnSIGTERM(t *testing.T) {
	honest := monitorChain(t, false)
	url := serveChain(t, honest)
	p := startProc(t, "monitor", "--genesis", honest.ID().String(), "--mirror", url, "--state", t.TempDir(),
		"--listen", "127.0.0.1:0", "--interval", "1h")
	base := "http://" + p.waitReady()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// The file server answers a directory listing until the site is written.
		code, page := get(t, base+"/index.html")
		if code == http.StatusOK && strings.Contains(page, "Status: ") {
			break
		}
		require.True(t, time.Now().Before(deadline), "no site after 30 s: %s", p.stderr.String())
		time.Sleep(50 * time.Millisecond)
	}
	_, page := get(t, base+"/index.html")
	require.Contains(t, page, "Status: healthy")
	_, metrics := get(t, base+"/metrics")
	require.Contains(t, metrics, "chainiac_monitor_last_verified_index 5")
	require.Contains(t, metrics, "chainiac_monitor_blocks_verified_total 5")
	code, cp := get(t, base+"/checkpoint")
	require.Equal(t, http.StatusOK, code)
	c, err := monitor.ParseCheckpoint([]byte(cp))
	require.NoError(t, err)
	require.Equal(t, uint64(5), c.Index)

	p.signal(syscall.SIGTERM)
	require.Equal(t, 0, p.wait(15*time.Second), "stderr: %s", p.stderr.String())
	require.True(t, strings.HasPrefix(p.stdout.String(), readyPrefix), fmt.Sprint(p.stdout.String()))
}
