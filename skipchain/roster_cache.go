package skipchain

import (
	"container/list"
	"sync"
)

// DefaultRosterCacheSize is the number of rosters NewRosterCache keeps when asked
// for no particular size. A parsed and weighted roster takes about 1 KB per member,
// so the largest rosters (4096 members) take about 4 MB each.
const DefaultRosterCacheSize = 16

// RosterCache keeps parsed rosters by ID, so that a roster seen once is neither
// parsed (its keys validated, about 0.5 ms per key) nor weighted (its BDN weights,
// about 0.2 ms per key) again, however often it comes back in blocks, proofs or fork
// evidence. An ID is the SHA-256 of the roster's canonical encoding, so equal IDs
// mean equal rosters. The cache holds a bounded number of rosters and drops the
// least recently used one first; it is safe for concurrent use, and meant to be
// shared by everything in a process that parses rosters from peers (a node, an
// updater, a monitor). A nil *RosterCache caches nothing: its methods then parse
// every time.
type RosterCache struct {
	mu   sync.Mutex
	max  int
	lru  *list.List // of *Roster, most recently used first
	byID map[ID]*list.Element
}

// NewRosterCache returns a cache of at most max rosters; max < 1 means
// DefaultRosterCacheSize.
func NewRosterCache(max int) *RosterCache {
	if max < 1 {
		max = DefaultRosterCacheSize
	}
	return &RosterCache{max: max, lru: list.New(), byID: map[ID]*list.Element{}}
}

// Get returns the cached roster with that ID.
func (c *RosterCache) Get(id ID) (*Roster, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[id]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(e)
	return e.Value.(*Roster), true
}

// Add caches r and returns the roster the cache holds for r's ID: r itself, or the
// roster cached before it (with its weights, if already computed). Callers keep the
// roster Add returns.
func (c *RosterCache) Add(r *Roster) *Roster {
	if c == nil {
		return r
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[r.id]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*Roster)
	}
	c.byID[r.id] = c.lru.PushFront(r)
	for c.lru.Len() > c.max {
		last := c.lru.Back()
		c.lru.Remove(last)
		delete(c.byID, last.Value.(*Roster).id)
	}
	return r
}

// Len is the number of rosters cached.
func (c *RosterCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// ParseRoster is ParseRoster through the cache: bytes whose hash names a cached
// roster return that roster without being decoded.
func (c *RosterCache) ParseRoster(b []byte) (*Roster, error) {
	if len(b) > MaxRosterEncodedSize {
		return ParseRoster(b) // refused on its size, before hashing
	}
	return c.parseRosterWithID(b, hashOf(b))
}

// parseRosterWithID parses b, whose SHA-256 is id, or returns the cached roster.
func (c *RosterCache) parseRosterWithID(b []byte, id ID) (*Roster, error) {
	if r, ok := c.Get(id); ok {
		return r, nil
	}
	r, err := ParseRoster(b)
	if err != nil {
		return nil, err
	}
	return c.Add(r), nil
}

// ParseBlock is ParseBlock with the block's roster taken from, or added to, the cache.
func (c *RosterCache) ParseBlock(b []byte) (*Block, error) { return parseBlock(b, c) }

// ParseForkEvidence is ParseForkEvidence with the roster taken from, or added to, the
// cache.
func (c *RosterCache) ParseForkEvidence(b []byte) (*ForkError, error) {
	return parseForkEvidence(b, c)
}

// VerifyProof is p.Verify(trusted, roster), taking the rosters the proof carries
// from the cache, and adding those it had not seen once their signatures verify.
func (c *RosterCache) VerifyProof(p *Proof, trusted *Header, roster *Roster) (*Header, *Roster, error) {
	return p.verify(trusted, roster, c)
}
