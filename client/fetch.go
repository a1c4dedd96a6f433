package client

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/internal/boundedget"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// Stats is what one Check cost.
type Stats struct {
	Hops            int           `json:"hops"`             // forward links followed
	SignatureChecks int           `json:"signature_checks"` // collective signatures verified
	Bytes           int64         `json:"bytes"`            // response bodies received
	PayloadBytes    int64         `json:"payload_bytes"`    // of which block payloads (manifests)
	RoundTrips      int           `json:"round_trips"`      // HTTP requests made
	Duration        time.Duration `json:"duration_ns"`
}

// errNotFound is a 404: the mirror does not have the resource (yet).
var errNotFound = errors.New("not found")

// mirror fetches one chain's resources from one base URL, counting the cost.
type mirror struct {
	base    string
	genesis skipchain.ID
	params  skipchain.Params // the genesis's, once known
	http    *http.Client
	timeout time.Duration
	stats   *Stats
	roster  *skipchain.RosterCache
	// maxRequests bounds what one mirror can make the client fetch in one Check.
	maxRequests int
}

// withheld is the error for a 404 on something a verified statement names: the
// mirror hides what it must have, which is an attack (or a broken mirror), not an
// outage.
func withheld(err error) error {
	if errors.Is(err, errNotFound) {
		return rejectf("withheld: %v", err)
	}
	return err
}

// get fetches path, refusing a body over max bytes. A transport failure or a server
// error is unreachable; a 404 is errNotFound; a body over max is a rejection.
func (m *mirror) get(ctx context.Context, path string, max int) ([]byte, error) {
	if m.maxRequests > 0 && m.stats.RoundTrips >= m.maxRequests {
		return nil, rejectf("more than %d requests to one mirror in one check", m.maxRequests)
	}
	m.stats.RoundTrips++
	b, err := boundedget.Get(ctx, m.http, m.base+path, api.MediaBinary, max, m.timeout)
	m.stats.Bytes += int64(len(b))
	switch {
	case errors.Is(err, boundedget.ErrNotFound):
		return nil, fmt.Errorf("%s: %w", path, errNotFound)
	case errors.Is(err, boundedget.ErrTooLarge):
		return nil, rejectf("%s: %v", path, err)
	case err != nil:
		return nil, &unreachable{fmt.Errorf("%s: %w", path, err)}
	}
	return b, nil
}

func (m *mirror) timestamp(ctx context.Context) (*timeline.Timestamp, error) {
	b, err := m.get(ctx, api.Timestamp(m.genesis), timeline.MaxTimestampSize)
	if errors.Is(err, errNotFound) {
		return nil, &unreachable{fmt.Errorf("chain not served here: %w", err)}
	}
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
		return nil, withheld(err)
	}
	h, err := skipchain.ParseHeader(b)
	if err != nil {
		return nil, rejectf("header %d: %v", index, err)
	}
	if h.Index() != index || (index > 0 && h.Genesis() != m.genesis) {
		return nil, rejectf("header %d: block %d of chain %s", index, h.Index(), h.Genesis().Short())
	}
	if h.Params() != m.params {
		return nil, rejectf("header %d: parameters %+v, the chain's are %+v", index, h.Params(), m.params)
	}
	return h, nil
}

// payload fetches the payload of a verified header and checks its hash.
func (m *mirror) payload(ctx context.Context, h *skipchain.Header) ([]byte, error) {
	b, err := m.get(ctx, api.Payload(m.genesis, h.Index()), timeline.MaxPayloadSize)
	if err != nil {
		return nil, withheld(err)
	}
	m.stats.PayloadBytes += int64(len(b))
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
		return nil, withheld(err)
	}
	sb, err := api.ParseServedBlockOf(m.roster, b, want)
	if err != nil {
		return nil, rejectf("block %d: %v", index, err)
	}
	if sb.Block.Index() != index || sb.Block.ID() != want {
		return nil, rejectf("block %d is block %d %s, not %s", index, sb.Block.Index(), sb.Block.ID().Short(), want.Short())
	}
	return sb.Block, nil
}
