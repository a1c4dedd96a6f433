package monitor_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chainiac/chainiac/internal/sample"
	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/monitor"
	"github.com/chainiac/chainiac/release"
	"github.com/stretchr/testify/require"
)

// fileServer is the release team's download server: the source archives and signed
// MARs of sample releases, which a test can replace, remove or make misbehave. It
// counts the requests for each path.
type fileServer struct {
	URL   string
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
	// stream, if set, is served without a Content-Length and followed by endless
	// bytes.
	stream map[string]bool
	total  atomic.Int64
}

func newFileServer(t *testing.T) *fileServer {
	fs := &fileServer{files: map[string][]byte{}, hits: map[string]int{}, stream: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(fs.serve))
	t.Cleanup(srv.Close)
	fs.URL = srv.URL
	return fs
}

func (s *fileServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	b, ok := s.files[r.URL.Path]
	s.hits[r.URL.Path]++
	stream := s.stream[r.URL.Path]
	s.mu.Unlock()
	s.total.Add(1)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if !stream {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
		return
	}
	// No Content-Length: the reader must stop on its own.
	w.Header().Set("Content-Type", "application/octet-stream")
	junk := make([]byte, 32<<10)
	if _, err := w.Write(b); err != nil {
		return
	}
	for i := 0; i < 2048; i++ { // 64 MiB at most, should the reader not stop
		if _, err := w.Write(junk); err != nil {
			return
		}
		w.(http.Flusher).Flush()
	}
}

func (s *fileServer) publish(files map[string][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, b := range files {
		s.files[p] = b
	}
}

func (s *fileServer) set(path string, b []byte, stream bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b == nil {
		delete(s.files, path)
	} else {
		s.files[path] = b
	}
	s.stream[path] = stream
}

func (s *fileServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// releaseChain is a chain of sample releases whose MARs are real (the reference
// builder, signed with an RSA key) and published on a download server: 1.0 and 1.1,
// a roster change, then 2.0. tamper names versions whose first target's MAR is built
// from another source than the manifest names (the rebuild refuses them; their MARs
// still match the manifest).
type releaseChain struct {
	*testchain.Chain
	files    *fileServer
	releases map[string]*sample.Release
	key      *rsa.PrivateKey
	work     string
}

var marKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

func newReleaseChain(t *testing.T, tamper ...string) *releaseChain {
	key, err := marKey()
	require.NoError(t, err)
	c := &releaseChain{Chain: testchain.New(t, testchain.Options{Product: sample.Product}), files: newFileServer(t),
		releases: map[string]*sample.Release{}}
	c.key, c.work = key, t.TempDir()
	c.add(t, "1.0", contains(tamper, "1.0"))
	c.add(t, "1.1", contains(tamper, "1.1"))
	c.ChangeRoster(t, "R2", 5)
	c.add(t, "2.0", contains(tamper, "2.0"))
	return c
}

// add makes release v, publishes its files and appends it.
func (c *releaseChain) add(t *testing.T, v string, tamper bool) *sample.Release {
	r, err := sample.Make(context.Background(), sample.Options{Version: v, Channel: "release", BaseURL: c.files.URL,
		MARKey: c.key, Developers: c.Devs()[:2], WorkDir: c.work, Tamper: tamper})
	require.NoError(t, err)
	c.files.publish(r.Files)
	c.releases[v] = r
	c.Append(t, r.Signed, nil)
	return r
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// marPath is the server path of version v's MAR of target k.
func marPath(v string, k release.TargetKey) string {
	return "/releases/" + v + "/" + k.Platform + "/" + k.Locale + ".mar"
}

// clock is a settable clock for the monitor.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func marMonitor(t *testing.T, c *releaseChain, dir string, clk *clock) *monitor.Monitor {
	t.Helper()
	m, err := monitor.New(monitor.Config{Genesis: c.ID(), Mirrors: []string{serve(t, c.Chain)}, StateDir: dir,
		SiteDir: filepath.Join(dir, "site"), CheckMARs: true, Clock: clk.now, RequestTimeout: 10 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func TestMARCheckHealthyOnceAndDurable(t *testing.T) {
	c := newReleaseChain(t)
	dir := t.TempDir()
	clk := &clock{t: now}
	m := marMonitor(t, c, dir, clk)
	rep := run(t, m)
	require.Equal(t, monitor.Healthy, rep.Status, "%+v", rep.Alarms)
	require.NotNil(t, rep.MARs)
	require.Equal(t, 3, rep.MARs.Checked)
	require.Equal(t, uint64(4), rep.MARs.Done)
	require.Equal(t, uint64(3), rep.MARs.Passed)
	require.Empty(t, rep.MARs.Failed)
	require.Empty(t, rep.MARs.Pending)
	for _, v := range []string{"1.0", "1.1", "2.0"} {
		for _, k := range sample.Targets() {
			require.Equal(t, 1, c.files.count(marPath(v, k)), "%s %s fetched once", v, k)
		}
	}

	// Nothing is fetched again, in this process or after a restart, until the
	// newest release is due for its re-check.
	rep = run(t, m)
	require.Equal(t, 0, rep.MARs.Checked)
	require.NoError(t, m.Close())
	m = marMonitor(t, c, dir, clk)
	rep = run(t, m)
	require.Equal(t, monitor.Healthy, rep.Status, "%+v", rep.Alarms)
	require.Equal(t, 0, rep.MARs.Checked)
	require.Equal(t, uint64(3), rep.MARs.Passed)
	require.Equal(t, 1, c.files.count(marPath("2.0", sample.Targets()[0])))

	clk.add(monitor.DefaultMARRecheck)
	rep = run(t, m)
	require.Equal(t, monitor.Healthy, rep.Status, "%+v", rep.Alarms)
	require.Equal(t, 1, rep.MARs.Checked, "the newest release of the channel, again")
	require.Equal(t, 2, c.files.count(marPath("2.0", sample.Targets()[0])))
	require.Equal(t, 1, c.files.count(marPath("1.1", sample.Targets()[0])))
	require.Equal(t, uint64(3), rep.MARs.Passed, "a re-check that passes is not counted again")

	// Off, nothing is fetched and nothing reported.
	before := c.files.total.Load()
	m2 := newMonitor(t, c.Chain, t.TempDir(), serve(t, c.Chain))
	rep = run(t, m2)
	require.Equal(t, monitor.Healthy, rep.Status)
	require.Nil(t, rep.MARs)
	require.Equal(t, before, c.files.total.Load())
}

func TestMARMismatchIsAnAlarmNamingTheTarget(t *testing.T) {
	k := sample.Targets()[1]
	for _, tc := range []struct {
		name   string
		serve  func(c *releaseChain, good []byte)
		reason string
	}{
		{"one byte changed", func(c *releaseChain, good []byte) {
			bad := append([]byte(nil), good...)
			bad[len(bad)/2] ^= 1
			c.files.set(marPath("1.1", k), bad, false)
		}, "SHA-512"},
		{"one byte more", func(c *releaseChain, good []byte) {
			c.files.set(marPath("1.1", k), append(append([]byte(nil), good...), 0), false)
		}, "bytes announced"},
		{"endless, no length", func(c *releaseChain, good []byte) {
			c.files.set(marPath("1.1", k), good, true)
		}, "more than the"},
		{"cut short", func(c *releaseChain, good []byte) {
			c.files.set(marPath("1.1", k), good[:len(good)-1], false)
		}, "bytes, the manifest says"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newReleaseChain(t)
			good := c.releases["1.1"].SignedMARs[k]
			tc.serve(c, good)
			clk := &clock{t: now}
			dir := t.TempDir()
			m := marMonitor(t, c, dir, clk)
			rep := run(t, m)
			require.Equal(t, monitor.Alarmed, rep.Status)
			require.Equal(t, []string{monitor.AlarmMARMismatch}, kindsOf(rep), "%+v", rep.Alarms)
			a := rep.Alarms[0]
			require.Equal(t, c.files.URL+marPath("1.1", k), a.Source)
			require.Contains(t, a.Summary, "target "+k.String())
			require.Contains(t, a.Summary, "block 2 ")
			require.Contains(t, a.Summary, tc.reason)
			require.Empty(t, rep.Evidence, "a download server proves nothing against the roster")
			require.Len(t, rep.MARs.Failed, 1)
			require.Equal(t, uint64(2), rep.MARs.Passed, "1.0 and 2.0")
			require.Equal(t, uint64(4), rep.MARs.Done)
			index := read(t, filepath.Join(dir, "site", "index.html"))
			require.Contains(t, index, `role="alert"`)
			require.Contains(t, index, "<strong>mar-mismatch</strong>")
			require.Regexp(t, `<tr class="failed"><td><a href="blocks/2.html">2</a></td><td>1.1</td><td>release</td><td>`+k.String()+`</td><td><strong>does not match</strong>`, index)

			// The alarm stays, across a restart, while the file is wrong; it goes
			// when the file is right again.
			require.NoError(t, m.Close())
			m = marMonitor(t, c, dir, clk)
			rep = run(t, m)
			require.Equal(t, []string{monitor.AlarmMARMismatch}, kindsOf(rep))
			require.Equal(t, 1, rep.MARs.Checked, "only the failed release is fetched again")
			c.files.set(marPath("1.1", k), good, false)
			rep = run(t, m)
			require.Equal(t, monitor.Healthy, rep.Status, "%+v", rep.Alarms)
			require.Empty(t, rep.MARs.Failed)
			require.Equal(t, uint64(3), rep.MARs.Passed)
		})
	}
}

// A MAR that cannot be fetched is pending, not an alarm: it is tried again.
func TestMARUnavailableIsPending(t *testing.T) {
	c := newReleaseChain(t)
	k := sample.Targets()[0]
	good := c.releases["2.0"].SignedMARs[k]
	c.files.set(marPath("2.0", k), nil, false)
	dir := t.TempDir()
	m := marMonitor(t, c, dir, &clock{t: now})
	rep := run(t, m)
	require.Equal(t, monitor.Healthy, rep.Status, "%+v", rep.Alarms)
	require.Len(t, rep.MARs.Pending, 1)
	p := rep.MARs.Pending[0]
	require.Equal(t, uint64(4), p.Index)
	require.Equal(t, k.String(), p.Target)
	require.Contains(t, p.Reason, "404")
	require.Equal(t, uint64(2), rep.MARs.Passed)
	require.Contains(t, read(t, filepath.Join(dir, "site", "index.html")), "<td>not checked yet</td><td>HTTP 404")

	c.files.set(marPath("2.0", k), good, false)
	rep = run(t, m)
	require.Equal(t, monitor.Healthy, rep.Status)
	require.Empty(t, rep.MARs.Pending)
	require.Equal(t, uint64(3), rep.MARs.Passed)
	require.Equal(t, 1, rep.MARs.Checked)
}

// A run stopped while it fetches MARs records nothing it did not finish.
func TestMARCheckCancelled(t *testing.T) {
	c := newReleaseChain(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	m, err := monitor.New(monitor.Config{Genesis: c.ID(), Mirrors: []string{serve(t, c.Chain)}, StateDir: dir, CheckMARs: true,
		Clock:      func() time.Time { return now },
		HTTPClient: &http.Client{Transport: &cancelAfter{cancel: cancel, next: http.DefaultTransport, path: "/releases/1.1/"}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	rep, err := m.Run(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(1), rep.MARs.Done, "1.0 checked, 1.1 interrupted")
	require.Equal(t, uint64(1), rep.MARs.Passed)
	require.Empty(t, rep.MARs.Pending)
	rep = run(t, m)
	require.Equal(t, monitor.Healthy, rep.Status, "%+v", rep.Alarms)
	require.Equal(t, uint64(4), rep.MARs.Done)
	require.Equal(t, uint64(3), rep.MARs.Passed)
	require.FileExists(t, filepath.Join(dir, "monitor.json"))
}

// cancelAfter cancels a context at the first request for a path under path.
type cancelAfter struct {
	done   atomic.Bool
	path   string
	cancel func()
	next   http.RoundTripper
}

func (c *cancelAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, c.path) && !c.done.Swap(true) {
		c.cancel()
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	return c.next.RoundTrip(r)
}
