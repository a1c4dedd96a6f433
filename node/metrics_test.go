package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// needTool returns the path of a tool the test needs: test.sh installs it, so in CI a
// missing tool fails the test; elsewhere it is skipped.
func needTool(t *testing.T, name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (test.sh installs Debian's prometheus package)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

func getBody(t testing.TB, url string) []byte {
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

// The node's /metrics passes promtool's lint, and a real Prometheus scrapes it and
// sees the chain's height and the rounds.
func TestMetricsWithPrometheus(t *testing.T) {
	promtool := needTool(t, "promtool")
	prometheus := needTool(t, "prometheus")
	c := newCluster(t, 4)
	c.createChain(0, 0, 1, 2, 3)
	code, res := c.propose(0, releaseProposal(c.release("1.0", false)))
	require.Equal(t, http.StatusOK, code, "%+v", res)
	getBody(t, c.url(0)+"/v1/status") // one more request counted

	body := getBody(t, c.url(0)+"/metrics")
	for _, want := range []string{"chainiac_rounds_total", "chainiac_round_duration_seconds", "chainiac_rebuilds_total",
		"chainiac_rebuild_duration_seconds", "chainiac_chain_height", "chainiac_timestamp_age_seconds",
		"chainiac_peers_reachable", "chainiac_http_requests_total"} {
		require.Contains(t, string(body), want)
	}
	lint := exec.Command(promtool, "check", "metrics")
	lint.Stdin = bytes.NewReader(body)
	out, err := lint.CombinedOutput()
	require.NoError(t, err, "promtool check metrics:\n%s", out)

	dir := t.TempDir()
	promAddr := freeAddr(t)
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: chainiac\n    static_configs:\n      - targets: [%q]\n", c.nodes[0].HTTPAddr())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, prometheus, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr)
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	defer func() {
		cancel()
		_ = cmd.Wait()
	}()
	query := func(q string) (string, bool) {
		resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return "", false
		}
		defer resp.Body.Close()
		var r struct {
			Data struct {
				Result []struct {
					Value []any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if json.NewDecoder(resp.Body).Decode(&r) != nil || len(r.Data.Result) == 0 {
			return "", false
		}
		v, _ := r.Data.Result[0].Value[1].(string)
		return v, true
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		h, ok := query(`chainiac_chain_height`)
		if ok {
			require.Equal(t, "1", h)
			break
		}
		if !time.Now().Before(deadline) {
			t.Fatalf("prometheus never scraped the node:\n%s", logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	signed, ok := query(`sum(chainiac_rounds_total{outcome="signed"})`)
	require.True(t, ok)
	require.NotEqual(t, "0", signed)
	up, ok := query(`up{job="chainiac"}`)
	require.True(t, ok)
	require.Equal(t, "1", strings.TrimSpace(up))
}

// lockedBuffer collects a child process's output, safe to read while it writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
