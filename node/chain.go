package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chainiac/chainiac/internal/atomicfile"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// chain is one chain a node keeps: the verified store, the timeline state at its head
// and the newest cosigned timestamp. mu serialises every change and every proposal
// this node leads for the chain; readers of the store need no lock (the store is safe
// for concurrent use and only grows).
type chain struct {
	genesis skipchain.ID
	store   skipchain.Store // a BoltStore; a MemStore while a node checks a chain it joins
	tsPath  string          // empty for a chain being checked, which is never exported

	// snap is the head, roster and product as of the last change, for readers that
	// must not wait for the lock (status, the timestamp loop).
	snap atomic.Pointer[chainSnapshot]

	mu    sync.Mutex // held by whoever changes the chain
	state *timeline.State

	propMu sync.Mutex // held by the proposal (or timestamp renewal) this node leads

	tsMu      sync.RWMutex
	closed    bool // under tsMu: the node closed the chain, nothing more is written
	timestamp *timeline.Timestamp

	served servedCache // binary HTTP answers, emptied on every change
}

func chainFile(dir string, genesis skipchain.ID) string {
	return filepath.Join(dir, genesis.String()+".db")
}

type chainSnapshot struct {
	head    *skipchain.Header
	roster  *skipchain.Roster
	product string
}

func (c *chain) takeSnapshot() {
	c.snap.Store(&chainSnapshot{head: c.state.Head(), roster: c.state.Roster(), product: c.state.Product()})
}

func (c *chain) snapshot() *chainSnapshot { return c.snap.Load() }

// createChain stores a verified genesis block.
func createChain(dir string, genesis *skipchain.Block) (*chain, error) {
	st, err := timeline.NewState(genesis)
	if err != nil {
		return nil, err
	}
	store, err := skipchain.CreateBoltStore(chainFile(dir, genesis.ID()), genesis)
	if err != nil {
		return nil, err
	}
	c := &chain{genesis: genesis.ID(), store: store, state: st, tsPath: chainFile(dir, genesis.ID()) + ".timestamp"}
	c.takeSnapshot()
	return c, nil
}

// openChain opens a stored chain and replays its blocks through the timeline rules,
// so the state in force is rebuilt from verified data only.
func openChain(path string) (*chain, error) {
	store, err := skipchain.OpenBoltStore(path)
	if err != nil {
		return nil, err
	}
	c, err := loadChain(store, path+".timestamp")
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("node: chain %s: %w", path, err)
	}
	return c, nil
}

func loadChain(store skipchain.Store, tsPath string) (*chain, error) {
	g, err := store.Genesis()
	if err != nil {
		return nil, err
	}
	st, err := timeline.NewState(g)
	if err != nil {
		return nil, err
	}
	head, err := store.Head()
	if err != nil {
		return nil, err
	}
	for i := uint64(1); i <= head.Index(); i++ {
		b, err := store.Block(i)
		if err != nil {
			return nil, err
		}
		if _, err := st.Apply(b); err != nil {
			return nil, err
		}
	}
	c := &chain{genesis: g.ID(), store: store, state: st, tsPath: tsPath}
	c.takeSnapshot()
	if b, err := os.ReadFile(tsPath); err == nil {
		// A timestamp that does not verify against the stored chain is ignored, not
		// served: the next round makes a new one.
		if ts, err := timeline.ParseTimestamp(b); err == nil && c.verifyTimestamp(ts) == nil {
			c.timestamp = ts
		}
	}
	return c, nil
}

// openChains opens every chain stored in dir.
func openChains(dir string) (map[skipchain.ID]*chain, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.db"))
	if err != nil {
		return nil, err
	}
	out := map[skipchain.ID]*chain{}
	for _, p := range paths {
		c, err := openChain(p)
		if err != nil {
			for _, o := range out {
				o.store.Close()
			}
			return nil, err
		}
		out[c.genesis] = c
	}
	return out, nil
}

// verifyTimestamp checks a timestamp against the stored chain: it names a stored
// block, with that block's roster, and a threshold of that roster signed it.
func (c *chain) verifyTimestamp(ts *timeline.Timestamp) error {
	if ts.Genesis != c.genesis {
		return fmt.Errorf("%w: timestamp of another chain", timeline.ErrInvalidTimestamp)
	}
	h, err := c.store.Header(ts.Index)
	if err != nil {
		return err
	}
	if err := ts.Describes(h); err != nil {
		return err
	}
	b, err := c.store.Block(ts.Index)
	if err != nil {
		return err
	}
	return ts.Verify(b.Roster())
}

// newestTimestamp returns the newest verified timestamp, or nil.
func (c *chain) newestTimestamp() *timeline.Timestamp {
	c.tsMu.RLock()
	defer c.tsMu.RUnlock()
	return c.timestamp
}

// errClosed is offerTimestamp's answer once the node closed the chain: a round still
// finishing in onet's goroutines must not write into a data directory being removed.
var errClosed = errors.New("node: chain closed")

// closeTimestamps makes every later offerTimestamp fail; one in progress finishes first.
func (c *chain) closeTimestamps() {
	c.tsMu.Lock()
	c.closed = true
	c.tsMu.Unlock()
}

// offerTimestamp keeps ts if it verifies and is newer than the one kept (a later
// block, or the same block at a later time), and writes it to disk atomically.
func (c *chain) offerTimestamp(ts *timeline.Timestamp) (bool, error) {
	if err := c.verifyTimestamp(ts); err != nil {
		return false, err
	}
	c.tsMu.Lock()
	defer c.tsMu.Unlock()
	if c.closed {
		return false, errClosed
	}
	if old := c.timestamp; old != nil && (ts.Index < old.Index || ts.Index == old.Index && !ts.Time.After(old.Time)) {
		return false, nil
	}
	if c.tsPath != "" {
		if err := atomicfile.WriteBytes(c.tsPath, ts.Encode(), 0o644); err != nil {
			return false, err
		}
	}
	c.timestamp = ts
	c.served.clear()
	return true, nil
}

// lock takes the chain's mutex, giving up when ctx ends first.
func (c *chain) lock(ctx context.Context) error { return lockCtx(ctx, &c.mu) }

// back returns the headers a block at index links back to, lowest level first.
func (c *chain) back(index uint64) ([]*skipchain.Header, error) {
	var out []*skipchain.Header
	for _, pos := range c.state.Genesis().Params().LinksInto(index) {
		h, err := c.store.Header(pos.From)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// validate checks that b may follow the head by every rule but the rebuild: the
// skipchain rules and the timeline rules. Called with mu held.
func (c *chain) validate(b *skipchain.Block) error {
	back, err := c.back(b.Index())
	if err != nil {
		return err
	}
	if err := skipchain.CheckSuccessor(c.state.Genesis(), back, b.Header()); err != nil {
		return err
	}
	_, err = c.state.Check(b)
	return err
}

// appendBlock stores b with the links into it, after every check (the store verifies
// the link signatures), and moves the state forward. Called with mu held.
func (c *chain) appendBlock(b *skipchain.Block, links []*skipchain.ForwardLink) error {
	if err := c.validate(b); err != nil {
		return err
	}
	err := c.store.Append(b, links...)
	c.served.clear() // even a failed append may have added links to a stored block
	if err != nil {
		return err
	}
	_, err = c.state.Apply(b)
	c.takeSnapshot()
	if err != nil {
		// Unreachable: validate ran the same check. Stop rather than serve a store
		// and a state that disagree.
		return fmt.Errorf("node: chain %s: state does not follow the store: %w", c.genesis.Short(), err)
	}
	return nil
}

var errUnknownChain = errors.New("node: unknown chain")

// lockCtx takes mu, giving up when ctx ends first.
func lockCtx(ctx context.Context, mu *sync.Mutex) error {
	for {
		if mu.TryLock() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node: waiting for the chain: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}
