package chaintest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/chainiac/chainiac/skipchain"
)

// LazyChain is a skipchain.Reader over a chain of any length with one roster. Its
// headers are computed up front (hashing only); each forward link is signed the first
// time it is read, by the roster's first Signers members, and kept. A proof over 10⁵
// blocks thus costs only the signatures on its own path. It counts its reads.
type LazyChain struct {
	t       testing.TB
	signers *Signers
	count   int
	headers []*skipchain.Header

	mu    sync.Mutex
	links map[skipchain.LinkPosition]*skipchain.ForwardLink
	reads Reads
}

// Reads counts the calls a LazyChain served, by method.
type Reads struct {
	Head, Header, Block, Link, Roster int
}

// Total is the number of calls of any kind.
func (r Reads) Total() int { return r.Head + r.Header + r.Block + r.Link + r.Roster }

var _ skipchain.Reader = (*LazyChain)(nil)

// NewLazyChain makes blocks 0..last with parameters p and roster s; count members
// sign each link (s's threshold if count is 0).
func NewLazyChain(t testing.TB, p skipchain.Params, s *Signers, last uint64, count int) *LazyChain {
	t.Helper()
	if count == 0 {
		count = s.Roster.Threshold()
	}
	g, err := skipchain.NewGenesis(p, s.Roster, PayloadKind, lazyPayload(0))
	if err != nil {
		t.Fatalf("chaintest: %v", err)
	}
	c := &LazyChain{t: t, signers: s, count: count, headers: make([]*skipchain.Header, 1, last+1),
		links: map[skipchain.LinkPosition]*skipchain.ForwardLink{}}
	c.headers[0] = g.Header()
	var back []*skipchain.Header
	for i := uint64(1); i <= last; i++ {
		back = back[:0]
		for _, pos := range p.LinksInto(i) {
			back = append(back, c.headers[pos.From])
		}
		b, err := skipchain.NewBlock(g.Header(), back, s.Roster, PayloadKind, lazyPayload(i))
		if err != nil {
			t.Fatalf("chaintest: block %d: %v", i, err)
		}
		c.headers = append(c.headers, b.Header())
	}
	return c
}

func lazyPayload(i uint64) []byte { return fmt.Appendf(nil, "block %d", i) }

// Genesis returns block 0.
func (c *LazyChain) Genesis() *skipchain.Block { return c.block(0) }

// Reads returns the reads served so far.
func (c *LazyChain) Reads() Reads {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads
}

// ResetReads sets the counters to zero.
func (c *LazyChain) ResetReads() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads = Reads{}
}

func (c *LazyChain) count1(field *int) {
	c.mu.Lock()
	*field++
	c.mu.Unlock()
}

func (c *LazyChain) Head() (*skipchain.Header, error) {
	c.count1(&c.reads.Head)
	return c.headers[len(c.headers)-1], nil
}

func (c *LazyChain) Header(index uint64) (*skipchain.Header, error) {
	c.count1(&c.reads.Header)
	if index >= uint64(len(c.headers)) {
		return nil, fmt.Errorf("%w: block %d", skipchain.ErrUnknownBlock, index)
	}
	return c.headers[index], nil
}

func (c *LazyChain) Block(index uint64) (*skipchain.Block, error) {
	c.count1(&c.reads.Block)
	if index >= uint64(len(c.headers)) {
		return nil, fmt.Errorf("%w: block %d", skipchain.ErrUnknownBlock, index)
	}
	return c.block(index), nil
}

func (c *LazyChain) block(index uint64) *skipchain.Block {
	b, err := skipchain.AssembleBlock(c.headers[index], c.signers.Roster, lazyPayload(index))
	if err != nil {
		c.t.Fatalf("chaintest: %v", err)
	}
	return b
}

func (c *LazyChain) Link(from uint64, level int) (*skipchain.ForwardLink, error) {
	c.count1(&c.reads.Link)
	if from >= uint64(len(c.headers)) || level >= int(c.headers[from].Height()) {
		return nil, fmt.Errorf("%w: from block %d at level %d", skipchain.ErrUnknownLink, from, level)
	}
	to := from + c.headers[0].Params().Span(level)
	if to >= uint64(len(c.headers)) {
		return nil, fmt.Errorf("%w: from block %d at level %d", skipchain.ErrUnknownLink, from, level)
	}
	pos := skipchain.LinkPosition{From: from, Level: level}
	c.mu.Lock()
	l, ok := c.links[pos]
	c.mu.Unlock()
	if ok {
		return l, nil
	}
	l = c.signers.Link(c.t, c.headers[from], c.headers[to], c.count)
	c.mu.Lock()
	c.links[pos] = l
	c.mu.Unlock()
	return l, nil
}

func (c *LazyChain) Roster(id skipchain.ID) (*skipchain.Roster, error) {
	c.count1(&c.reads.Roster)
	if id != c.signers.Roster.ID() {
		return nil, fmt.Errorf("%w: %s", skipchain.ErrUnknownRoster, id.Short())
	}
	return c.signers.Roster, nil
}
