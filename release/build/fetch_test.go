package build

import (
	"context"
	"crypto/sha256"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chainiac/chainiac/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newLocalServer listens on 127.0.0.1 only.
func newLocalServer(t *testing.T, h http.Handler) *httptest.Server {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestFetchOverHTTP(t *testing.T) {
	archive := tarGz(t, script("src/build.sh", makeMAR+"\n"))
	sum := release.Hash256(sha256.Sum256(archive))
	var requests atomic.Int32
	srv := newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		switch r.URL.Path {
		case "/src.tar.gz":
			_, _ = w.Write(archive)
		case "/huge.tar.gz":
			w.Header().Set("Content-Length", "1000000")
			_, _ = w.Write(archive)
		case "/slow.tar.gz":
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
		default:
			http.NotFound(w, r)
		}
	}))
	work := t.TempDir()
	// The configured client is the one that fetches.
	counted := &countingTransport{next: srv.Client().Transport}
	r, err := NewRunner(Config{WorkDir: work, HTTPClient: &http.Client{Transport: counted},
		Limits: Limits{MaxSourceBytes: 100_000, FetchTimeout: 500 * time.Millisecond}})
	require.NoError(t, err)

	res, err := r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), srv.URL+"/src.tar.gz")
	require.NoError(t, err)
	assert.Len(t, res.MARs, 1)
	require.NoError(t, res.Close())
	assert.Equal(t, int64(1), counted.n.Load())

	_, err = r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), srv.URL+"/missing.tar.gz")
	assert.ErrorContains(t, err, "404 Not Found")

	_, err = r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), srv.URL+"/huge.tar.gz")
	assert.ErrorIs(t, err, ErrUnsafeSource)
	assert.ErrorContains(t, err, "source is 1000000 bytes, at most 100000")

	_, err = r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), srv.URL+"/slow.tar.gz")
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	wrong := sum
	wrong[31] ^= 0xff
	_, err = r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(wrong), srv.URL+"/src.tar.gz")
	assert.ErrorIs(t, err, ErrSourceMismatch)
	requireEmptyDir(t, work)
	assert.Equal(t, int32(5), requests.Load())
}

// A body longer than the limit without a Content-Length header is cut off.
func TestFetchStopsAtSizeLimit(t *testing.T) {
	srv := newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush() // chunked: no Content-Length
		_, _ = w.Write([]byte(strings.Repeat("x", 5000)))
	}))
	work := t.TempDir()
	r, err := NewRunner(Config{WorkDir: work, HTTPClient: srv.Client(), Limits: Limits{MaxSourceBytes: 1000}})
	require.NoError(t, err)
	_, err = r.Run(context.Background(), testRecipe("true"), manifestFor(release.Hash256{1}), srv.URL+"/x")
	require.ErrorIs(t, err, ErrUnsafeSource)
	assert.ErrorContains(t, err, "larger than 1000 bytes")
	requireEmptyDir(t, work)
}

func TestFileURLSource(t *testing.T) {
	archive := tarXz(t, script("build.sh", makeMAR+"\n"))
	src, sum := writeSource(t, archive, "src.tar.xz")
	r, _ := newTestRunner(t)
	res, err := r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), "file://"+src)
	require.NoError(t, err)
	require.NoError(t, res.Close())
}

// TreeDigest is pinned: nodes and release teams must compute the same value. The
// expected digest was computed independently (a short Python script following the
// layout in TreeDigest's comment), and "b-c" sorts before "b/c" bytewise.
func TestTreeDigestKnownAnswer(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "b/c"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "a.txt"), []byte("hello\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "b/run.sh"), []byte("#!/bin/sh\n"), 0o755))
	require.NoError(t, os.Symlink("../a.txt", filepath.Join(root, "b/link")))
	require.NoError(t, os.WriteFile(filepath.Join(root, "b-c"), nil, 0o600))
	got, err := TreeDigest(root, DefaultLimits())
	require.NoError(t, err)
	assert.Equal(t, "2a910484d81c2d08e35fe72bb09b2baf5a44f35d61ee26920340868230a1e76b", got.String())

	// Content, the executable bit and link targets change it; permissions otherwise
	// and times do not.
	require.NoError(t, os.Chmod(filepath.Join(root, "a.txt"), 0o600))
	require.NoError(t, os.Chtimes(filepath.Join(root, "a.txt"), time.Unix(1, 0), time.Unix(1, 0)))
	same, err := TreeDigest(root, DefaultLimits())
	require.NoError(t, err)
	assert.Equal(t, got, same)
	require.NoError(t, os.Chmod(filepath.Join(root, "a.txt"), 0o700))
	exec, err := TreeDigest(root, DefaultLimits())
	require.NoError(t, err)
	assert.NotEqual(t, got, exec)

	_, err = TreeDigest(root, Limits{MaxFiles: 2, MaxExtractedBytes: 1 << 20})
	assert.ErrorIs(t, err, ErrUnsafeSource)
}

// countingTransport counts the requests it passes on.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(req)
}
