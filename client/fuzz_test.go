package client_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/stretchr/testify/require"
)

// FuzzCheck serves fuzzed bytes in place of one resource of an honest chain (which
// one is the fuzzer's choice too) and runs a whole Check from a trusted state: it
// must never panic, and on any error the trusted state must be byte for byte what it
// was.
func FuzzCheck(f *testing.F) {
	c := testchain.New(f, testchain.Options{})
	c.Releases(f, 1, 3)
	c.ChangeRoster(f, "R2", 5)
	c.Releases(f, 4, 4)
	honest := serve(f, c.Handler())
	state := f.TempDir()
	c.SetVisible(2)
	check(f, newClient(f, c, []string{honest}, func(cfg *client.Config) { cfg.StateDir = state }))
	c.SetVisible(c.Head().Index())
	trusted, err := os.ReadFile(filepath.Join(state, "trusted"))
	require.NoError(f, err)

	resources := []func() string{
		func() string { return api.Timestamp(c.ID()) },
		func() string { return api.Header(c.ID(), c.Head().Index()) },
		func() string { return api.Payload(c.ID(), c.Head().Index()) },
		func() string { return api.Link(c.ID(), 2, 0) },
		func() string { return api.Link(c.ID(), 3, 0) },
		func() string { return api.Block(c.ID(), 4) },
		func() string { return api.Header(c.ID(), 4) },
	}
	for i, r := range resources {
		body, err := c.Serve(r())
		require.NoError(f, err)
		f.Add(uint8(i), false, body)
		f.Add(uint8(i), true, body)
	}
	var target string
	var fuzzed []byte
	mirror := serve(f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == target {
			_, _ = w.Write(fuzzed)
			return
		}
		c.Handler().ServeHTTP(w, r)
	}))
	f.Fuzz(func(t *testing.T, which uint8, links bool, body []byte) {
		target, fuzzed = resources[int(which)%len(resources)](), body
		require.NoError(t, os.WriteFile(filepath.Join(state, "trusted"), trusted, 0o644))
		mode := client.Express
		if links {
			mode = client.Links
		}
		cl := newClient(t, c, []string{mirror}, withMode(mode), func(cfg *client.Config) { cfg.StateDir = state })
		u, err := cl.Check(context.Background())
		if err == nil {
			if u.Head.ID != c.Head().ID() {
				t.Fatalf("accepted head %d %s, the chain's is %s", u.Head.Index, u.Head.ID.Short(), c.Head().ID().Short())
			}
			return
		}
		after, rerr := os.ReadFile(filepath.Join(state, "trusted"))
		require.NoError(t, rerr)
		if !bytes.Equal(after, trusted) {
			t.Fatalf("the trusted state changed on error %v", err)
		}
		_ = os.RemoveAll(filepath.Join(state, "evidence"))
	})
}
