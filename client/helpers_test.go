package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/stretchr/testify/require"
)

// now is the clock of every test client: an hour after the test chains' timestamps.
var now = time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)

// serve serves h on 127.0.0.1 until the test ends.
func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// newClient makes a client of chain c over the given mirrors, with its own state
// directory unless dir is given.
func newClient(t testing.TB, c *testchain.Chain, mirrors []string, edit ...func(*client.Config)) *client.Client {
	t.Helper()
	cfg := client.Config{Genesis: c.ID(), Mirrors: mirrors, StateDir: t.TempDir(),
		Clock: func() time.Time { return now }, RequestTimeout: 5 * time.Second}
	for _, e := range edit {
		e(&cfg)
	}
	cl, err := client.New(cfg)
	require.NoError(t, err)
	return cl
}

func check(t testing.TB, cl *client.Client) *client.Update {
	t.Helper()
	u, err := cl.Check(context.Background())
	require.NoError(t, err)
	return u
}

func version(u *client.Update) string {
	if u.Release == nil {
		return ""
	}
	return u.Release.Manifest.Version
}
