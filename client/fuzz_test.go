package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/stretchr/testify/require"
)

// chainTransport serves a chain without a network: the attack chain's answers,
// except body at path lie.
type chainTransport struct {
	c    *testchain.Chain
	lie  string
	body []byte

	mu    sync.Mutex
	paths []string // the paths asked for, in order
}

func (tr *chainTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	tr.mu.Lock()
	tr.paths = append(tr.paths, r.URL.Path)
	tr.mu.Unlock()
	rec := httptest.NewRecorder()
	if r.URL.Path == tr.lie {
		_, _ = rec.Write(tr.body)
	} else {
		tr.c.Handler().ServeHTTP(rec, r)
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

func fuzzClient(t testing.TB, c *testchain.Chain, tr *chainTransport, mode client.Mode, dir string) *client.Client {
	cl, err := client.New(client.Config{Genesis: c.ID(), Mirrors: []string{"http://mirror.test"}, StateDir: dir, Mode: mode,
		Clock: func() time.Time { return now }, HTTPClient: &http.Client{Transport: tr, Timeout: 5 * time.Second}})
	require.NoError(t, err)
	return cl
}

// FuzzCheckOneAnswer: a client that trusts block 3 of the attack chain is served the
// honest chain except for one answer, any bytes at any path the honest catch-up
// reads. It either reaches the honest head and release or refuses with ErrRejected,
// its state untouched; it never panics, never finds evidence, never believes
// anything else.
func FuzzCheckOneAnswer(f *testing.F) {
	c := honestChain(f)
	c.SetVisible(trusted)
	states := map[client.Mode][]byte{}
	paths := map[client.Mode][]string{}
	for _, mode := range []client.Mode{client.Express, client.Links} {
		dir := f.TempDir()
		_, err := fuzzClient(f, c, &chainTransport{c: c}, mode, dir).Check(context.Background())
		require.NoError(f, err)
		states[mode] = trustedFile(f, dir)
	}
	c.SetVisible(headIndex)
	for _, mode := range []client.Mode{client.Express, client.Links} {
		dir := f.TempDir()
		require.NoError(f, os.WriteFile(filepath.Join(dir, "trusted"), states[mode], 0o644))
		tr := &chainTransport{c: c}
		u, err := fuzzClient(f, c, tr, mode, dir).Check(context.Background())
		require.NoError(f, err)
		require.Equal(f, header(c, headIndex).ID(), u.Head.ID)
		paths[mode] = tr.paths
		for i, p := range tr.paths {
			b, err := c.Serve(p)
			require.NoError(f, err)
			f.Add(mode == client.Links, uint8(i), b)
			f.Add(mode == client.Links, uint8(i), flip(b, len(b)/2))
		}
	}

	f.Fuzz(func(t *testing.T, linksMode bool, which uint8, body []byte) {
		mode := client.Express
		if linksMode {
			mode = client.Links
		}
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "trusted"), states[mode], 0o644))
		tr := &chainTransport{c: c, lie: paths[mode][int(which)%len(paths[mode])], body: body}
		u, err := fuzzClient(t, c, tr, mode, dir).Check(context.Background())
		if err != nil {
			require.ErrorIs(t, err, client.ErrRejected)
			require.NotErrorIs(t, err, client.ErrEvidence)
			require.Equal(t, states[mode], trustedFile(t, dir))
			return
		}
		require.Equal(t, header(c, headIndex).ID(), u.Head.ID, "believed another head")
		require.Equal(t, "1.0.9", version(u))
	})
}
