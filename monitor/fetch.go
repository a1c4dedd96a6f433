package monitor

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

// errNotFound is a 404: the mirror does not have the resource.
var errNotFound = errors.New("not found")

// unreachable marks a transport failure or server error: nothing was learned about
// the mirror's honesty.
type unreachable struct{ err error }

func (u *unreachable) Error() string { return u.err.Error() }
func (u *unreachable) Unwrap() error { return u.err }

func isUnreachable(err error) bool {
	var u *unreachable
	return errors.As(err, &u)
}

// lie marks a mirror answer that does not verify: something unsigned, badly signed,
// malformed, or withheld although a verified statement names it.
type lie struct{ err error }

func (l *lie) Error() string { return l.err.Error() }
func (l *lie) Unwrap() error { return l.err }

func lief(format string, args ...any) error { return &lie{fmt.Errorf(format, args...)} }

func isLie(err error) bool {
	var l *lie
	return errors.As(err, &l)
}

// fetcher gets one chain's resources from one base URL.
type fetcher struct {
	base    string
	genesis skipchain.ID
	http    *http.Client
	timeout time.Duration
	rosters *skipchain.RosterCache
	bytes   int64
}

// get fetches base+path, refusing a body over max bytes.
func (f *fetcher) get(ctx context.Context, path string, max int) ([]byte, error) {
	b, err := boundedget.Get(ctx, f.http, f.base+path, api.MediaBinary, max, f.timeout)
	f.bytes += int64(len(b))
	switch {
	case errors.Is(err, boundedget.ErrNotFound):
		return nil, fmt.Errorf("%s: %w", path, errNotFound)
	case errors.Is(err, boundedget.ErrTooLarge):
		return nil, lief("%s: %v", path, err)
	case err != nil:
		return nil, &unreachable{fmt.Errorf("%s: %w", path, err)}
	}
	return b, nil
}

// withheld turns a 404 on something the mirror must have into a lie.
func withheld(err error) error {
	if errors.Is(err, errNotFound) {
		return &lie{fmt.Errorf("withheld: %w", err)}
	}
	return err
}

// timestamp fetches and decodes the newest timestamp, not yet verified. A chain the
// mirror does not serve at all is unreachable, not a lie.
func (f *fetcher) timestamp(ctx context.Context) (*timeline.Timestamp, error) {
	b, err := f.get(ctx, api.Timestamp(f.genesis), timeline.MaxTimestampSize)
	if errors.Is(err, errNotFound) {
		return nil, &unreachable{fmt.Errorf("chain not served here: %w", err)}
	}
	if err != nil {
		return nil, err
	}
	ts, err := timeline.ParseTimestamp(b)
	if err != nil {
		return nil, lief("timestamp: %v", err)
	}
	if ts.Genesis != f.genesis {
		return nil, lief("timestamp of chain %s, not %s", ts.Genesis, f.genesis)
	}
	return ts, nil
}

// served fetches the served block at index: the block (checked against its header)
// and the links leaving it (decoded, not verified). notFound is returned as is.
func (f *fetcher) served(ctx context.Context, index uint64) (*api.ServedBlock, error) {
	b, err := f.get(ctx, api.Block(f.genesis, index), api.MaxServedBlockSize)
	if err != nil {
		return nil, err
	}
	sb, err := api.ParseServedBlockWith(f.rosters, b)
	if err != nil {
		return nil, lief("block %d: %v", index, err)
	}
	if sb.Block.Index() != index || (index > 0 && sb.Block.Header().Genesis() != f.genesis) ||
		(index == 0 && sb.Block.ID() != f.genesis) {
		return nil, lief("block %d: served block %d %s of chain %s", index, sb.Block.Index(), sb.Block.ID().Short(), sb.Block.Header().Genesis().Short())
	}
	return sb, nil
}

// header fetches the header at index, not yet trusted.
func (f *fetcher) header(ctx context.Context, index uint64) (*skipchain.Header, error) {
	b, err := f.get(ctx, api.Header(f.genesis, index), skipchain.MaxHeaderSize)
	if err != nil {
		return nil, err
	}
	h, err := skipchain.ParseHeader(b)
	if err != nil {
		return nil, lief("header %d: %v", index, err)
	}
	if h.Index() != index || h.Genesis() != f.genesis && index > 0 {
		return nil, lief("header %d: block %d of chain %s", index, h.Index(), h.Genesis().Short())
	}
	return h, nil
}

// link fetches the forward link leaving block index at level, not yet verified.
func (f *fetcher) link(ctx context.Context, index uint64, level int) (*skipchain.ForwardLink, error) {
	b, err := f.get(ctx, api.Link(f.genesis, index, level), skipchain.MaxLinkSize)
	if err != nil {
		return nil, err
	}
	l, err := skipchain.ParseForwardLink(b)
	if err != nil {
		return nil, lief("link %d level %d: %v", index, level, err)
	}
	return l, nil
}

// payloadMatches fetches the payload of a verified header and reports whether the
// mirror serves the bytes the header commits to.
func (f *fetcher) payloadMatches(ctx context.Context, h *skipchain.Header) error {
	b, err := f.get(ctx, api.Payload(f.genesis, h.Index()), timeline.MaxPayloadSize)
	if err != nil {
		return withheld(err)
	}
	if skipchain.ID(sha256.Sum256(b)) != h.PayloadHash() {
		return lief("payload %d does not hash to its header's payload hash", h.Index())
	}
	return nil
}

// checkpoint fetches a peer monitor's signed checkpoint from url.
func getCheckpoint(ctx context.Context, hc *http.Client, timeout time.Duration, url string) (*Checkpoint, error) {
	f := &fetcher{http: hc, timeout: timeout}
	b, err := f.get(ctx, url, MaxCheckpointSize)
	if err != nil {
		return nil, err
	}
	c, err := ParseCheckpoint(b)
	if err != nil {
		return nil, &lie{err}
	}
	return c, nil
}
