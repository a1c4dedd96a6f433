package client

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chainiac/chainiac/internal/atomicfile"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/mar"
)

// Download fetches target's signed MAR into dir and returns its path. The manifest's
// size is a hard cap on what is read; the file must have exactly the signed SHA-512,
// strip to exactly the unsigned SHA-256 and size (the MAR the cothority rebuilt),
// carry the manifest's channel and version in its product information, and, when
// Config.MARKeys is set, be signed by one of them. It is written under a hidden
// temporary name and renamed into place only after every check, so nothing
// unverified stays in dir; an existing file of that name is replaced.
func (c *Client) Download(ctx context.Context, target Target, dir string) (string, error) {
	if dir == "" {
		return "", fmt.Errorf("client: download: no directory")
	}
	name, err := fileName(target)
	if err != nil {
		return "", err
	}
	removeStaleDownloads(dir)
	u, err := url.Parse(target.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", rejectf("target %s: URL %q is not http or https", target.Key(), target.URL)
	}
	tmp, err := os.CreateTemp(dir, downloadPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("client: download: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := c.fetchMAR(ctx, target, tmp); err != nil {
		return "", err
	}
	if err := checkMAR(target, tmp, c.cfg.MARKeys); err != nil {
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("client: download: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("client: download: %w", err)
	}
	dst := filepath.Join(dir, name)
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("client: download: %w", err)
	}
	keep = true
	if err := atomicfile.SyncDir(dir); err != nil {
		return "", fmt.Errorf("client: download: %w", err)
	}
	c.log.Info("downloaded", "target", target.Key().String(), "version", target.Version, "path", dst)
	return dst, nil
}

// downloadPrefix names the temporary files of downloads in progress.
const downloadPrefix = ".chainiac-download-"

// removeStaleDownloads deletes temporary files that a crashed download left in dir
// more than an hour ago (a download in progress elsewhere keeps its file fresh).
func removeStaleDownloads(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), downloadPrefix) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Hour {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// fileName is product-version-channel-platform-locale.mar, from fields the manifest
// validated.
func fileName(t Target) (string, error) {
	name := fmt.Sprintf("%s-%s-%s-%s-%s.mar", t.Product, t.Version, t.Channel, t.Platform, t.Locale)
	if err := t.Key().Validate(); err != nil || filepath.Base(name) != name || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("client: target %s: no safe file name", t.Key())
	}
	return name, nil
}

// fetchMAR writes the body at target.URL into f, reading at most SignedSize+1 bytes
// and hashing as it goes.
func (c *Client) fetchMAR(ctx context.Context, t Target, f *os.File) error {
	if t.SignedSize > release.MaxMARSize {
		return rejectf("target %s: %d bytes, over the limit", t.Key(), t.SignedSize)
	}
	// A large MAR takes longer than a chain request: instead of a total deadline, the
	// download is given up when one RequestTimeout window brings less than
	// MinDownloadRate (the first window, for the headers, nothing at all).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	body := &rateReader{window: c.cfg.RequestTimeout, min: int64(MinDownloadRate * c.cfg.RequestTimeout.Seconds()), cancel: cancel}
	body.start()
	defer body.stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		return err
	}
	client := *c.cfg.HTTPClient
	client.Timeout = 0
	resp, err := client.Do(req)
	if err != nil {
		return &unreachable{fmt.Errorf("download %s: %w", t.URL, err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &unreachable{fmt.Errorf("download %s: HTTP %s", t.URL, resp.Status)}
	}
	if resp.ContentLength > int64(t.SignedSize) {
		return rejectf("download %s: %d bytes announced, the manifest says %d", t.URL, resp.ContentLength, t.SignedSize)
	}
	h := sha512.New()
	body.r = resp.Body
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(body, int64(t.SignedSize)+1))
	if err != nil {
		return &unreachable{fmt.Errorf("download %s: %w", t.URL, err)}
	}
	if uint64(n) != t.SignedSize {
		return rejectf("download %s: %d bytes, the manifest says %d", t.URL, n, t.SignedSize)
	}
	if release.Hash512(h.Sum(nil)) != t.SignedSHA512 {
		return rejectf("download %s: SHA-512 differs from the manifest's", t.URL)
	}
	return nil
}

// checkMAR checks a signed MAR, whose size and SHA-512 match t, as a MAR against the
// manifest: signed, stripping to the unsigned MAR, carrying the channel and version,
// and signed by one of keys if any are given.
func checkMAR(t Target, f io.ReaderAt, keys []*rsa.PublicKey) error {
	a, err := mar.Open(f, int64(t.SignedSize))
	if err != nil {
		return rejectf("target %s: %v", t.Key(), err)
	}
	if len(a.Signatures()) == 0 {
		return rejectf("target %s: the signed MAR carries no signature", t.Key())
	}
	h, n := sha256.New(), &countWriter{}
	if err := mar.Strip(io.MultiWriter(h, n), a); err != nil {
		return rejectf("target %s: strip: %v", t.Key(), err)
	}
	if release.Hash256(h.Sum(nil)) != t.UnsignedSHA256 || uint64(n.n) != t.UnsignedSize {
		return rejectf("target %s: the signed MAR without its signatures is not the unsigned MAR the cothority rebuilt", t.Key())
	}
	if a.Channel() != t.Channel || a.Version() != t.Version {
		return rejectf("target %s: MAR says channel %q version %q, the manifest %q %q", t.Key(), a.Channel(), a.Version(), t.Channel, t.Version)
	}
	if len(keys) > 0 {
		if err := mar.Verify(a, keys...); err != nil {
			return rejectf("target %s: %v", t.Key(), err)
		}
	}
	return nil
}

// MinDownloadRate is the slowest download, in bytes per second, that Download waits
// for: a server dripping a 100 MB MAR at a few bytes a second would otherwise hold it
// for years.
const MinDownloadRate = 16 << 10

// rateReader cancels the download at the end of any window but the first (which may
// go to the server's headers) that brought fewer than min bytes.
type rateReader struct {
	r      io.Reader
	window time.Duration
	min    int64
	cancel func()
	got    atomic.Int64 // bytes in the current window
	timer  *time.Timer
	first  atomic.Bool // the first window (headers) has passed
}

func (r *rateReader) start() {
	r.timer = time.AfterFunc(r.window, r.tick)
}

func (r *rateReader) tick() {
	got := r.got.Swap(0)
	if !r.first.Swap(true) || got >= r.min {
		r.timer.Reset(r.window)
		return
	}
	r.cancel()
}

func (r *rateReader) stop() { r.timer.Stop() }

func (r *rateReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.got.Add(int64(n))
	return n, err
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }
