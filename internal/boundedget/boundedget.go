// Package boundedget is the one HTTP GET that the updater and the monitor make of a
// mirror: a deadline per request, a size limit checked on the announced length and
// again while reading, and errors in three classes that callers turn into their own
// verdicts (a mirror that lied, one that is down, one without the resource).
package boundedget

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The error classes of Get; use errors.Is.
var (
	ErrNotFound    = errors.New("not found")           // HTTP 404
	ErrTooLarge    = errors.New("body over its limit") // announced or read
	ErrUnavailable = errors.New("mirror unavailable")  // transport, 5xx and other statuses, a broken read
)

// Get fetches url (with Accept: accept) within timeout and returns its body, of at
// most max bytes.
func Get(ctx context.Context, client *http.Client, url, accept string, max int, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, ErrNotFound
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: HTTP %s", ErrUnavailable, resp.Status)
	case resp.ContentLength > int64(max):
		return nil, fmt.Errorf("%w: %d bytes announced, at most %d", ErrTooLarge, resp.ContentLength, max)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if len(b) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return b, nil
}
