package node

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	"go.dedis.ch/onet/v3"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/skipchain"
)

// servedCache keeps the binary answers of one chain's GET paths with their ETags, so
// a busy node answers from memory: served blocks are read, checked and encoded once,
// not on every request. Any change of the chain (a block stored, a timestamp kept)
// empties it; such changes come once per release or timestamp interval.
type servedCache struct {
	mu      sync.RWMutex
	gen     uint64 // counts the changes, so an answer computed before one is not kept
	entries map[string]*cachedAnswer
}

type cachedAnswer struct {
	body  []byte
	etag  string
	cache string // Cache-Control
}

const maxCachedAnswers = 4096

func newCachedAnswer(body []byte, cache string) *cachedAnswer {
	sum := sha256.Sum256(body)
	return &cachedAnswer{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, cache: cache}
}

func (s *servedCache) get(path string) *cachedAnswer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.entries[path]
}

// generation is read before an answer is computed and given back to put.
func (s *servedCache) generation() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.gen
}

// put keeps a for path, unless the chain changed since generation gen.
func (s *servedCache) put(path string, a *cachedAnswer, gen uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen != s.gen {
		return
	}
	if s.entries == nil || len(s.entries) >= maxCachedAnswers {
		s.entries = map[string]*cachedAnswer{}
	}
	s.entries[path] = a
}

func (s *servedCache) clear() {
	s.mu.Lock()
	s.entries = nil
	s.gen++
	s.mu.Unlock()
}

// verdicts caches a node's decision on proposed blocks, so the links at several
// levels into one block cost one rebuild. Bounded: the oldest decisions go first.
type verdicts struct {
	mu    sync.Mutex
	order []verdictKey
	m     map[verdictKey]error
}

// verdictKey names a rebuild: the same block rebuilt from another source is another
// rebuild.
type verdictKey struct {
	block  skipchain.ID
	source string
}

const maxVerdicts = 64

func newVerdicts() *verdicts { return &verdicts{m: map[verdictKey]error{}} }

func (v *verdicts) get(id verdictKey) (error, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	err, ok := v.m[id]
	return err, ok
}

func (v *verdicts) put(id verdictKey, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.m[id]; !ok {
		v.order = append(v.order, id)
		if len(v.order) > maxVerdicts {
			delete(v.m, v.order[0])
			v.order = v.order[1:]
		}
	}
	v.m[id] = err
}

// KeyCache is shared by the nodes of one process (Options.Keys): a key validated
// by one of them need not be validated again by the others.
type KeyCache struct{ r rosters }

// NewKeyCache returns an empty cache.
func NewKeyCache() *KeyCache {
	return &KeyCache{r: rosters{blocks: skipchain.NewRosterCache(skipchain.DefaultRosterCacheSize)}}
}

// rosters caches, for the rosters rounds are signed by, their validated keys and their
// BDN weights, both by a hash of the keys' encodings that this node computes itself:
// validating a key costs a subgroup check, far more than a round.
type rosters struct {
	blocks *skipchain.RosterCache // parsed skipchain rosters, for blocks from peers

	mu   sync.Mutex // guards m and keys
	m    map[[32]byte]*cosi.Roster
	keys map[[32]byte][]cosi.PublicKey
}

// keysOf returns the cosi keys of an onet roster's members (a node's onet identity is
// its cosi key), validated once per roster.
func (r *rosters) keysOf(or *onet.Roster) ([]cosi.PublicKey, error) {
	raw := make([][]byte, len(or.List))
	h := sha256.New()
	for i, si := range or.List {
		b, err := si.Public.MarshalBinary()
		if err != nil {
			return nil, err
		}
		raw[i] = b
		h.Write(b)
	}
	var id [32]byte
	h.Sum(id[:0])
	r.mu.Lock()
	if k, ok := r.keys[id]; ok {
		r.mu.Unlock()
		return k, nil
	}
	r.mu.Unlock()
	keys := make([]cosi.PublicKey, len(raw))
	for i, b := range raw {
		var err error
		if keys[i], err = cosi.ParsePublicKey(b); err != nil {
			return nil, fmt.Errorf("node: tree member %d: %w", i, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys == nil || len(r.keys) >= maxRosters {
		r.keys = map[[32]byte][]cosi.PublicKey{}
	}
	r.keys[id] = keys
	return keys, nil
}

const maxRosters = 16

func (r *rosters) get(keys []cosi.PublicKey) (*cosi.Roster, error) {
	h := sha256.New()
	for _, k := range keys {
		h.Write(k.Bytes())
	}
	var id [32]byte
	h.Sum(id[:0])
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.m[id]; ok {
		return c, nil
	}
	c, err := cosi.NewRoster(keys)
	if err != nil {
		return nil, err
	}
	if r.m == nil || len(r.m) >= maxRosters {
		r.m = map[[32]byte]*cosi.Roster{}
	}
	r.m[id] = c
	return c, nil
}

// pendingGeneses are geneses this node checked and agreed to cosign, kept in memory
// until a timestamp signed by their roster shows the round succeeded. Bounded: the
// oldest go first.
type pendingGeneses struct {
	mu    sync.Mutex
	order []skipchain.ID
	m     map[skipchain.ID]*skipchain.Block
}

const maxPendingGeneses = 8

func (p *pendingGeneses) add(g *skipchain.Block) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[skipchain.ID]*skipchain.Block{}
	}
	if _, ok := p.m[g.ID()]; ok {
		return
	}
	p.order = append(p.order, g.ID())
	p.m[g.ID()] = g
	if len(p.order) > maxPendingGeneses {
		delete(p.m, p.order[0])
		p.order = p.order[1:]
	}
}

func (p *pendingGeneses) get(id skipchain.ID) *skipchain.Block {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[id]
}
