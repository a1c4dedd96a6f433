package node

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
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
