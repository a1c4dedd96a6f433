package build

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/chainiac/chainiac/release"
)

// fetchSource puts the source into ws.src, checking its digest before anything is
// extracted or run, and returns the directory the build runs in.
//
// A source is a local path or a file:// URL (an archive file or a directory), or an
// http(s) URL of an archive. Archives are copied into the workspace while they are
// hashed, and extracted from that copy, so the bytes checked are the bytes used.
func (r *Runner) fetchSource(ctx context.Context, ws *workspace, source string, want release.Hash256) (string, error) {
	var got release.Hash256
	switch {
	case strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://"):
		if err := r.download(ctx, source, ws.archive, &got); err != nil {
			return "", err
		}
	default:
		local, err := localPath(source)
		if err != nil {
			return "", err
		}
		st, err := os.Stat(local)
		if err != nil {
			return "", fmt.Errorf("build: source: %w", err)
		}
		if st.IsDir() {
			if inside(ws.dir, local) {
				return "", fmt.Errorf("%w: source directory %s contains the work dir", ErrUnsafeSource, local)
			}
			// Copy first, then digest the copy: the tree checked is the tree built.
			if err := copyTree(ctx, local, ws.src, r.limits); err != nil {
				return "", err
			}
			if got, err = TreeDigest(ws.src, r.limits); err != nil {
				return "", err
			}
			if got != want {
				return "", &SourceMismatchError{Want: want, Got: got}
			}
			return ws.src, checkSymlinks(ws.src)
		}
		if !st.Mode().IsRegular() {
			return "", fmt.Errorf("%w: %s is neither a directory nor a regular file", ErrUnsafeSource, local)
		}
		if err := r.copyArchive(local, ws.archive, &got); err != nil {
			return "", err
		}
	}
	if got != want {
		return "", &SourceMismatchError{Want: want, Got: got}
	}
	if err := extractArchive(ctx, ws.archive, ws.src, r.limits); err != nil {
		return "", err
	}
	if err := checkSymlinks(ws.src); err != nil {
		return "", err
	}
	return buildRoot(ws.src)
}

// inside reports whether path lies in or below dir, after resolving symlinks.
func inside(path, dir string) bool {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		path = p
	}
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

func localPath(source string) (string, error) {
	if !strings.HasPrefix(source, "file:") {
		if source == "" {
			return "", errors.New("build: empty source location")
		}
		return filepath.Abs(source)
	}
	u, err := url.Parse(source)
	if err != nil {
		return "", fmt.Errorf("build: source url: %w", err)
	}
	if u.Host != "" && u.Host != "localhost" || u.Path == "" {
		return "", fmt.Errorf("build: source url %q: want file:///absolute/path", source)
	}
	return u.Path, nil
}

func (r *Runner) download(ctx context.Context, src, dst string, sum *release.Hash256) error {
	ctx, cancel := context.WithTimeout(ctx, r.limits.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return fmt.Errorf("build: source url: %w", err)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("build: fetch source: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("build: fetch source: %s: %s", src, resp.Status)
	}
	if resp.ContentLength > r.limits.MaxSourceBytes {
		return fmt.Errorf("%w: source is %d bytes, at most %d", ErrUnsafeSource, resp.ContentLength, r.limits.MaxSourceBytes)
	}
	if err := r.saveHashed(resp.Body, dst, sum); err != nil {
		return fmt.Errorf("build: fetch source: %w", err)
	}
	return nil
}

func (r *Runner) copyArchive(src, dst string, sum *release.Hash256) error {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("build: source: %w", err)
	}
	defer f.Close()
	if err := r.saveHashed(f, dst, sum); err != nil {
		return fmt.Errorf("build: source: %w", err)
	}
	return nil
}

// saveHashed writes at most MaxSourceBytes of in to dst, hashing as it goes.
func (r *Runner) saveHashed(in io.Reader, dst string, sum *release.Hash256) error {
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(in, r.limits.MaxSourceBytes+1))
	if err != nil {
		return err
	}
	if n > r.limits.MaxSourceBytes {
		return fmt.Errorf("%w: source larger than %d bytes", ErrUnsafeSource, r.limits.MaxSourceBytes)
	}
	copy(sum[:], h.Sum(nil))
	return out.Close()
}

// buildRoot is where the build runs: the single top-level directory of an archive
// (as "git archive --prefix" and release tarballs have), otherwise the root.
func buildRoot(root string) (string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return "", fmt.Errorf("build: %w", err)
	}
	if len(entries) == 1 && entries[0].Type().IsDir() {
		return filepath.Join(root, entries[0].Name()), nil
	}
	return root, nil
}
