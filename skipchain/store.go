package skipchain

import (
	"errors"
	"fmt"
	"sync"
)

// Store keeps one chain durably. Every write is checked with the chain rules before
// it is made: a block must be a valid successor of the head and arrive with its
// level-0 link, every link must be validly signed by its from block's roster. A
// stored block never changes; only forward links are added. A different block or
// link at a stored position returns a *ForkError when the new one is validly signed
// (evidence of a misbehaving roster), and an error otherwise.
type Store interface {
	Reader
	// Genesis returns the first block.
	Genesis() (*Block, error)
	// Links returns the stored forward links from index, lowest level first.
	Links(from uint64) ([]*ForwardLink, error)
	// Append adds the block that follows the head, with the links into it (at least
	// the level-0 link; see Params.LinksInto), in one atomic write. Appending a
	// stored block again adds the links into it that it carries and that are not
	// yet stored; a link that does not lead into the block is refused.
	Append(b *Block, links ...*ForwardLink) error
	// AddLink adds a forward link between two stored blocks.
	AddLink(l *ForwardLink) error
	// Close releases the store.
	Close() error
}

// backend is the storage under a store: reads of single records and one atomic
// write. chainStore holds every rule, so MemStore and BoltStore behave alike.
type backend interface {
	head() (uint64, ID, error)
	header(index uint64) (*Header, error)
	payload(index uint64, h *Header) ([]byte, error)
	link(from uint64, level int) (*ForwardLink, error)
	links(from uint64) ([]*ForwardLink, error)
	rosterBytes(id ID) ([]byte, error)
	commit(w *write) error
	close() error
}

// write is one atomic change: at most one new block (with its roster when new) and
// any number of links.
type write struct {
	header  *Header
	payload []byte
	roster  *Roster
	links   []linkAt
}

type linkAt struct {
	level int
	link  *ForwardLink
}

// chainStore implements Store over a backend. Writers are serialised by mu, so the
// checks and the write see the same head; readers go straight to the backend.
type chainStore struct {
	mu      sync.Mutex
	b       backend
	genesis *Block

	rosterMu sync.Mutex
	rosters  map[ID]*Roster // parsed once: parsing validates keys, weights are cached
}

func newChainStore(b backend, genesis *Block) *chainStore {
	c := &chainStore{b: b, genesis: genesis, rosters: map[ID]*Roster{}}
	c.rosters[genesis.roster.id] = genesis.roster
	return c
}

func (c *chainStore) Genesis() (*Block, error) { return c.genesis, nil }

func (c *chainStore) Head() (*Header, error) {
	i, id, err := c.b.head()
	if err != nil {
		return nil, err
	}
	h, err := c.header(i)
	if err != nil {
		return nil, err
	}
	if h.ID() != id {
		return nil, fmt.Errorf("%w: head block %d is %s, the store's head record says %s", ErrCorrupt, i, h.ID().Short(), id.Short())
	}
	return h, nil
}

func (c *chainStore) Header(index uint64) (*Header, error) { return c.header(index) }

// header reads a stored header. A header missing at or below the head is damage,
// not an unknown block: callers that fetch unknown blocks from peers must not be sent
// after blocks the store already vouched for.
func (c *chainStore) header(index uint64) (*Header, error) {
	h, err := c.b.header(index)
	if errors.Is(err, ErrUnknownBlock) {
		if head, _, herr := c.b.head(); herr == nil && index <= head {
			return nil, fmt.Errorf("%w: block %d is missing below the head %d", ErrCorrupt, index, head)
		}
	}
	return h, err
}

func (c *chainStore) Block(index uint64) (*Block, error) {
	h, err := c.header(index)
	if err != nil {
		return nil, err
	}
	r, err := c.Roster(h.rosterID)
	if err != nil {
		return nil, err
	}
	p, err := c.b.payload(index, h)
	if err != nil {
		return nil, err
	}
	return &Block{header: h, roster: r, payload: p}, nil
}

func (c *chainStore) Link(from uint64, level int) (*ForwardLink, error) {
	l, err := c.b.link(from, level)
	if err != nil {
		return nil, err
	}
	return l, c.checkStoredLink(l, level)
}

func (c *chainStore) Links(from uint64) ([]*ForwardLink, error) {
	links, err := c.b.links(from)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		if err := c.checkStoredLink(l, -1); err != nil {
			return nil, err
		}
	}
	return links, nil
}

// checkStoredLink checks that a link read back has a valid level, and the level it
// is stored at unless that is -1.
func (c *chainStore) checkStoredLink(l *ForwardLink, level int) error {
	got, err := l.Level(c.genesis.header.params)
	if err != nil {
		return fmt.Errorf("%w: stored link: %w", ErrCorrupt, err)
	}
	if level >= 0 && got != level {
		return fmt.Errorf("%w: link stored at level %d of block %d spans level %d", ErrCorrupt, level, l.fromIndex, got)
	}
	return nil
}

func (c *chainStore) Roster(id ID) (*Roster, error) {
	c.rosterMu.Lock()
	r, ok := c.rosters[id]
	c.rosterMu.Unlock()
	if ok {
		return r, nil
	}
	raw, err := c.b.rosterBytes(id)
	if err != nil {
		return nil, err
	}
	if hashOf(raw) != id {
		return nil, fmt.Errorf("%w: roster %s: stored bytes hash to %s", ErrCorrupt, id.Short(), hashOf(raw).Short())
	}
	r, err = ParseRoster(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: roster %s: %w", ErrCorrupt, id.Short(), err)
	}
	c.rosterMu.Lock()
	defer c.rosterMu.Unlock()
	if cached, ok := c.rosters[id]; ok {
		return cached, nil
	}
	c.rosters[id] = r
	return r, nil
}

// signer returns the header and roster of a stored block, without its payload:
// what checking a link from it needs.
func (c *chainStore) signer(index uint64) (*Block, error) {
	h, err := c.header(index)
	if err != nil {
		return nil, err
	}
	r, err := c.Roster(h.rosterID)
	if err != nil {
		return nil, err
	}
	return &Block{header: h, roster: r}, nil
}

func (c *chainStore) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.close()
}

func (c *chainStore) Append(b *Block, links ...*ForwardLink) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	head, _, err := c.b.head()
	if err != nil {
		return err
	}
	idx := b.Index()
	switch {
	case idx == 0:
		if b.ID() != c.genesis.ID() {
			return fmt.Errorf("%w: genesis %s, the store holds %s", ErrGenesisMismatch, b.ID().Short(), c.genesis.ID().Short())
		}
		if len(links) != 0 {
			return fmt.Errorf("%w: links into the genesis", ErrInvalidLink)
		}
		return nil
	case idx <= head:
		return c.appendKnown(b, links)
	case idx > head+1:
		return fmt.Errorf("%w: block %d, the head is block %d", ErrGap, idx, head)
	}
	positions := b.header.params.LinksInto(idx)
	back := make([]*Header, len(positions))
	for i, pos := range positions {
		if back[i], err = c.header(pos.From); err != nil {
			return err
		}
	}
	if err := CheckSuccessor(c.genesis.header, back, b.header); err != nil {
		return err
	}
	w := &write{header: b.header, payload: b.payload}
	if _, err := c.b.rosterBytes(b.roster.id); errors.Is(err, ErrUnknownRoster) {
		w.roster = b.roster
	} else if err != nil {
		return err
	}
	seen := make(map[int]bool, len(links))
	for _, l := range links {
		level, err := l.Level(b.header.params)
		if err != nil {
			return err
		}
		if seen[level] {
			return fmt.Errorf("%w: two links into block %d at level %d", ErrInvalidLink, idx, level)
		}
		seen[level] = true
		from, err := c.signer(l.fromIndex)
		if err != nil {
			return err
		}
		if err := CheckLink(from, b.header, l); err != nil {
			return err
		}
		w.links = append(w.links, linkAt{level, l})
	}
	if !seen[0] {
		return fmt.Errorf("%w: block %d arrives without the level-0 link from block %d", ErrInvalidBlock, idx, idx-1)
	}
	if err := c.b.commit(w); err != nil {
		return err
	}
	c.rosterMu.Lock()
	if _, ok := c.rosters[b.roster.id]; !ok {
		c.rosters[b.roster.id] = b.roster
	}
	c.rosterMu.Unlock()
	return nil
}

// appendKnown handles a block at a stored index: the same block adds its new links;
// a different one is a fork if one of its links is validly signed. Either way every
// link carried must lead into the block it comes with: links elsewhere go through
// AddLink, so that re-sending a block cannot slip in links the caller never meant.
func (c *chainStore) appendKnown(b *Block, links []*ForwardLink) error {
	for _, l := range links {
		if l.toIndex != b.Index() || l.to != b.ID() {
			return fmt.Errorf("%w: link %d→%d (to %s) carried with block %d (%s) does not lead into it",
				ErrInvalidLink, l.fromIndex, l.toIndex, l.to.Short(), b.Index(), b.ID().Short())
		}
	}
	stored, err := c.header(b.Index())
	if err != nil {
		return err
	}
	if stored.ID() == b.ID() {
		for _, l := range links {
			if err := c.addLink(l); err != nil {
				return err
			}
		}
		return nil
	}
	var firstErr error
	for _, l := range links {
		err := c.addLink(l)
		var fork *ForkError
		if errors.As(err, &fork) {
			return err
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = errors.New("it carries no link")
	}
	return fmt.Errorf("%w: block %d (%s) differs from the stored block %s and is not validly signed: %w",
		ErrInvalidBlock, b.Index(), b.ID().Short(), stored.ID().Short(), firstErr)
}

func (c *chainStore) AddLink(l *ForwardLink) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addLink(l)
}

// addLink stores l after checking it, or returns the fork it reveals. Storing a
// link already there (with any set of signers) is a no-op: the first is kept.
func (c *chainStore) addLink(l *ForwardLink) error {
	from, err := c.signer(l.fromIndex)
	if err != nil {
		return err
	}
	to, err := c.header(l.toIndex)
	if err != nil {
		return err
	}
	level, err := l.Level(from.header.params)
	if err != nil {
		return err
	}
	existing, err := c.b.link(l.fromIndex, level)
	if err != nil && !errors.Is(err, ErrUnknownLink) {
		return err
	}
	if l.to != to.ID() || l.rosterID != to.rosterID {
		// It names another block at a stored index: a fork if validly signed.
		if l.from != from.header.ID() {
			return fmt.Errorf("%w: leaves block %d (%s), the stored block is %s", ErrInvalidLink, l.fromIndex, l.from.Short(), from.header.ID().Short())
		}
		if err := VerifyLinkSignature(from.roster, l); err != nil {
			return err
		}
		if existing == nil {
			return fmt.Errorf("%w: validly signed link %d→%d to %s, the stored block is %s, but no stored link at level %d to compare it with",
				ErrInvalidLink, l.fromIndex, l.toIndex, l.to.Short(), to.ID().Short(), level)
		}
		return forkOf(from, existing, l)
	}
	if err := CheckLink(from, to, l); err != nil {
		return err
	}
	if existing != nil {
		if existing.sameStatement(l) {
			return nil
		}
		return forkOf(from, existing, l)
	}
	return c.b.commit(&write{links: []linkAt{{level, l}}})
}

// forkOf returns the verified *ForkError for two conflicting links, or the reason
// they are not evidence.
func forkOf(from *Block, a, b *ForwardLink) error {
	fork, err := NewForkError(from, a, b)
	if err != nil {
		return err
	}
	return fork
}
