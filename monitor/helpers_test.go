package monitor_test

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/monitor"
	"github.com/stretchr/testify/require"
)

// t0 is the clock of the test chains' timestamps (testchain's default); the monitor
// runs an hour later.
var (
	t0  = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now = t0.Add(time.Hour)
)

// serve serves a chain on 127.0.0.1 until the test ends.
func serve(t *testing.T, c *testchain.Chain) string {
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// newMonitor makes a monitor of genesis c over mirrors with its state in dir.
func newMonitor(t *testing.T, c *testchain.Chain, dir string, mirrors ...string) *monitor.Monitor {
	t.Helper()
	m, err := monitor.New(monitor.Config{Genesis: c.ID(), Mirrors: mirrors, StateDir: dir,
		Clock: func() time.Time { return now }, RequestTimeout: 10 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func run(t *testing.T, m *monitor.Monitor) *monitor.Report {
	t.Helper()
	rep, err := m.Run(context.Background())
	require.NoError(t, err)
	return rep
}

func kindsOf(rep *monitor.Report) []string {
	var out []string
	for _, a := range rep.Alarms {
		out = append(out, a.Kind)
	}
	return out
}

// healthyChain is three releases, a roster change to 5 members and two more
// releases.
func healthyChain(t *testing.T) *testchain.Chain {
	c := testchain.New(t, testchain.Options{})
	c.Releases(t, 1, 3)
	c.ChangeRoster(t, "R2", 5)
	c.Releases(t, 4, 2)
	return c
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func serveHandler(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func serveB(b *testing.B, c *testchain.Chain) string {
	srv := httptest.NewServer(c.Handler())
	b.Cleanup(srv.Close)
	return srv.URL
}
