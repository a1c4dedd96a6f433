package client

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// Stats is what one Check cost.
type Stats struct {
	Hops            int           `json:"hops"`             // forward links followed
	SignatureChecks int           `json:"signature_checks"` // collective signatures verified
	Bytes           int64         `json:"bytes"`            // response bodies received
	RoundTrips      int           `json:"round_trips"`      // HTTP requests made
	Duration        time.Duration `json:"duration_ns"`
}

// errNotFound is a 404: the mirror does not have the resource (yet). get wraps it in
// ErrRejected: a mirror without the chain, or without a block it named, convinces
// nobody, and it did answer.
var errNotFound = errors.New("not found")

// mirror fetches one chain's resources from one base URL, counting the cost.
type mirror struct {
	base    string
	genesis skipchain.ID
	http    *http.Client
	timeout time.Duration
	stats   *Stats
	roster  *skipchain.RosterCache
}

// get fetches path, refusing a body over max bytes. A transport failure or a server
// error is unreachable; a 404 is errNotFound, a rejection; a body over max is a
// rejection.
func (m *mirror) get(ctx context.Context, path string, max int) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", api.MediaBinary)
	m.stats.RoundTrips++
	resp, err := m.http.Do(req)
	if err != nil {
		return nil, &unreachable{err}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%w: %s: %w", ErrRejected, path, errNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, &unreachable{fmt.Errorf("%s: HTTP %s", path, resp.Status)}
	case resp.ContentLength > int64(max):
		return nil, rejectf("%s: body of %d bytes, at most %d", path, resp.ContentLength, max)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(max)+1))
	m.stats.Bytes += int64(len(b))
	if err != nil {
		return nil, &unreachable{fmt.Errorf("%s: %w", path, err)}
	}
	if len(b) > max {
		return nil, rejectf("%s: body over %d bytes", path, max)
	}
	return b, nil
}

func (m *mirror) timestamp(ctx context.Context) (*timeline.Timestamp, error) {
	b, err := m.get(ctx, api.Timestamp(m.genesis), timeline.MaxTimestampSize)
	if err != nil {
		return nil, err
	}
	ts, err := timeline.ParseTimestamp(b)
	if err != nil {
		return nil, rejectf("timestamp: %v", err)
	}
	return ts, nil
}

// header fetches the header at index and checks that it is the block with ID want.
func (m *mirror) header(ctx context.Context, index uint64, want skipchain.ID) (*skipchain.Header, error) {
	h, err := m.anyHeader(ctx, index)
	if err != nil {
		return nil, err
	}
	if h.ID() != want {
		return nil, rejectf("header %d is block %s, not %s", index, h.ID().Short(), want.Short())
	}
	return h, nil
}

// anyHeader fetches the header at index, not yet trusted.
func (m *mirror) anyHeader(ctx context.Context, index uint64) (*skipchain.Header, error) {
	b, err := m.get(ctx, api.Header(m.genesis, index), skipchain.MaxHeaderSize)
	if err != nil {
		return nil, err
	}
	h, err := skipchain.ParseHeader(b)
	if err != nil {
		return nil, rejectf("header %d: %v", index, err)
	}
	if h.Index() != index || (index > 0 && h.Genesis() != m.genesis) {
		return nil, rejectf("header %d: block %d of chain %s", index, h.Index(), h.Genesis().Short())
	}
	return h, nil
}

// payload fetches the payload of a verified header and checks its hash.
func (m *mirror) payload(ctx context.Context, h *skipchain.Header) ([]byte, error) {
	b, err := m.get(ctx, api.Payload(m.genesis, h.Index()), skipchain.MaxPayloadSize)
	if err != nil {
		return nil, err
	}
	if skipchain.ID(sha256.Sum256(b)) != h.PayloadHash() {
		return nil, rejectf("payload %d does not hash to its header's payload hash", h.Index())
	}
	return b, nil
}

// link fetches the link leaving block index at level; it is not yet verified.
func (m *mirror) link(ctx context.Context, index uint64, level int) (*skipchain.ForwardLink, error) {
	b, err := m.get(ctx, api.Link(m.genesis, index, level), skipchain.MaxLinkSize)
	if err != nil {
		return nil, err
	}
	l, err := skipchain.ParseForwardLink(b)
	if err != nil {
		return nil, rejectf("link %d level %d: %v", index, level, err)
	}
	return l, nil
}

// block fetches the full block at index and checks its ID.
func (m *mirror) block(ctx context.Context, index uint64, want skipchain.ID) (*skipchain.Block, error) {
	b, err := m.get(ctx, api.Block(m.genesis, index), api.MaxServedBlockSize)
	if err != nil {
		return nil, err
	}
	sb, err := api.ParseServedBlockWith(m.roster, b)
	if err != nil {
		return nil, rejectf("block %d: %v", index, err)
	}
	if sb.Block.Index() != index || sb.Block.ID() != want {
		return nil, rejectf("block %d is block %d %s, not %s", index, sb.Block.Index(), sb.Block.ID().Short(), want.Short())
	}
	return sb.Block, nil
}
