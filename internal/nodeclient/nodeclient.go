package nodeclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chainiac/chainiac/api"
)

// MaxStatusSize bounds a node's /v1/status answer and MaxResultSize its answer to a
// genesis request: JSON for a few chains with their recent rounds.
const (
	MaxStatusSize = 8 << 20
	MaxResultSize = 4 << 20
	maxErrorSize  = 4 << 10
)

// Client talks to one node's HTTP API. It reads every answer with a size bound
// and never follows a node's error text past one line.
type Client struct {
	base string // "http://host:port", no trailing slash
	http *http.Client
}

// ErrNotFound is a 404 from the node: a missing chain, block or timestamp.
var ErrNotFound = errors.New("not found")

// ErrUnreachable wraps a failure to reach the node at all (connection refused, time
// out, DNS), as opposed to an answer.
var ErrUnreachable = errors.New("node unreachable")

// New accepts an http(s) URL or a bare HOST:PORT (as `node run` prints it).
func New(raw string, timeout time.Duration) (*Client, error) {
	if raw == "" {
		return nil, errors.New("--node: want the node's HTTP URL, e.g. http://127.0.0.1:7771")
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--node %q: want an http(s) URL such as http://127.0.0.1:7771", raw)
	}
	return &Client{base: strings.TrimSuffix(u.String(), "/"), http: &http.Client{Timeout: timeout}}, nil
}

// Get fetches path (a path of package api, or /v1/status) with the given Accept
// header, reading at most max bytes.
func (c *Client) Get(ctx context.Context, path, accept string, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg := readErrorText(resp.Body)
		if resp.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("GET %s: %w (%s)", path, ErrNotFound, msg)
		}
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, msg)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, accept) {
		return nil, fmt.Errorf("GET %s: content type %q, want %s", path, ct, accept)
	}
	b, err := ReadAtMost(resp.Body, max)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return b, nil
}

// Status fetches and decodes GET /v1/status.
func (c *Client) Status(ctx context.Context) (*api.Status, []byte, error) {
	b, err := c.Get(ctx, "/v1/status", api.MediaJSON, MaxStatusSize)
	if err != nil {
		return nil, nil, err
	}
	var st api.Status
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, nil, fmt.Errorf("GET /v1/status: %w", err)
	}
	return &st, b, nil
}

// PostResult posts a binary body to path and decodes the node's ProposalResult. A
// node answers a request it could not parse with a line of text instead: that is
// returned as the error.
func (c *Client) PostResult(ctx context.Context, path string, body []byte) (*api.ProposalResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", api.MediaBinary)
	req.Header.Set("Accept", api.MediaJSON)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), api.MediaJSON) {
		return nil, fmt.Errorf("POST %s: %s: %s", path, resp.Status, readErrorText(resp.Body))
	}
	b, err := ReadAtMost(resp.Body, MaxResultSize)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	var res api.ProposalResult
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("POST %s: %s: %w", path, resp.Status, err)
	}
	return &res, nil
}

// ReadAtMost reads r to its end, refusing more than max bytes.
func ReadAtMost(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("answer over %d bytes", max)
	}
	return b, nil
}

// readErrorText is the first line of an error body, bounded, for an error message.
func readErrorText(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, maxErrorSize))
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if line == "" {
		return "no message"
	}
	return line
}
