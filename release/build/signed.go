package build

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/chainiac/chainiac/release"
)

// FetchSignedMARs downloads every target's signed MAR from its URL (http or https
// only) into dir/<platform>/<locale>.mar, reading at most the manifest's size plus
// one byte (so that a longer file is caught by CheckRebuild's size check, not cut),
// each within timeout. It returns the files by target, as CheckRebuild takes them.
func FetchSignedMARs(ctx context.Context, client *http.Client, m *release.Manifest, dir string, timeout time.Duration) (map[release.TargetKey]string, error) {
	out := map[release.TargetKey]string{}
	for _, t := range m.Targets {
		p := filepath.Join(dir, t.Platform, t.Locale+".mar")
		if err := fetchSigned(ctx, client, t, p, timeout); err != nil {
			return nil, fmt.Errorf("signed MAR %s: %w", t.Key(), err)
		}
		out[t.Key()] = p
	}
	return out, nil
}

func fetchSigned(ctx context.Context, client *http.Client, t release.Target, path string, timeout time.Duration) error {
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("URL %q: want an http or https URL", t.URL)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", t.URL, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, io.LimitReader(resp.Body, int64(t.SignedSize)+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
