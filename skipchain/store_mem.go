package skipchain

import (
	"fmt"
	"sync"
)

// MemStore is a Store in memory, for tests and simulations. It applies exactly the
// rules BoltStore applies.
type MemStore struct {
	*chainStore
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns a store holding only genesis.
func NewMemStore(genesis *Block) (*MemStore, error) {
	if err := checkGenesis(genesis); err != nil {
		return nil, err
	}
	m := &memBackend{
		headers:  []*Header{genesis.header},
		payloads: [][]byte{genesis.payload},
		linkMap:  map[LinkPosition]*ForwardLink{},
		rosters:  map[ID][]byte{genesis.roster.id: genesis.roster.encoded},
	}
	return &MemStore{newChainStore(m, genesis)}, nil
}

func checkGenesis(g *Block) error {
	if g == nil || g.Index() != 0 {
		return fmt.Errorf("%w: a store starts from a genesis block", ErrInvalidBlock)
	}
	return nil
}

type memBackend struct {
	mu       sync.RWMutex
	closed   bool
	headers  []*Header
	payloads [][]byte
	linkMap  map[LinkPosition]*ForwardLink
	rosters  map[ID][]byte
}

func (m *memBackend) head() (uint64, ID, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return 0, ID{}, ErrClosed
	}
	return uint64(len(m.headers) - 1), m.headers[len(m.headers)-1].id, nil
}

func (m *memBackend) header(index uint64) (*Header, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	if index >= uint64(len(m.headers)) {
		return nil, fmt.Errorf("%w: block %d", ErrUnknownBlock, index)
	}
	return m.headers[index], nil
}

func (m *memBackend) payload(index uint64, _ *Header) ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	if index >= uint64(len(m.payloads)) {
		return nil, fmt.Errorf("%w: block %d", ErrUnknownBlock, index)
	}
	return m.payloads[index], nil
}

func (m *memBackend) link(from uint64, level int) (*ForwardLink, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	l, ok := m.linkMap[LinkPosition{from, level}]
	if !ok {
		return nil, fmt.Errorf("%w: from block %d at level %d", ErrUnknownLink, from, level)
	}
	return l, nil
}

func (m *memBackend) links(from uint64) ([]*ForwardLink, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	if from >= uint64(len(m.headers)) {
		return nil, fmt.Errorf("%w: block %d", ErrUnknownBlock, from)
	}
	var out []*ForwardLink
	for level := 0; level < MaxMaxHeight; level++ {
		if l, ok := m.linkMap[LinkPosition{from, level}]; ok {
			out = append(out, l)
		}
	}
	return out, nil
}

func (m *memBackend) rosterBytes(id ID) ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	b, ok := m.rosters[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownRoster, id.Short())
	}
	return b, nil
}

func (m *memBackend) commit(w *write) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if w.header != nil {
		m.headers = append(m.headers, w.header)
		m.payloads = append(m.payloads, append([]byte(nil), w.payload...))
	}
	if w.roster != nil {
		m.rosters[w.roster.id] = w.roster.encoded
	}
	for _, l := range w.links {
		m.linkMap[LinkPosition{l.link.fromIndex, l.level}] = l.link
	}
	return nil
}

func (m *memBackend) close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}
