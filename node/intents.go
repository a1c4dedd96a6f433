package node

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/chainiac/chainiac/internal/atomicfile"
	"github.com/chainiac/chainiac/skipchain"
)

var errAlreadySigned = errors.New("already signed another block at this position")

// intents remembers, durably, which block this node signed links into at each
// position not yet stored. An honest member must never sign two different blocks at
// one position: with both signed by a threshold, the roster would have forked. The
// record is written and synced before the share leaves the node, so a crash and a
// restart cannot make it sign a second block; it is removed once a block is stored
// at that position.
type intents struct {
	dir string
	mu  sync.Mutex
}

func newIntents(dir string) (*intents, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	return &intents{dir: dir}, nil
}

func (in *intents) path(genesis skipchain.ID, index uint64) string {
	return filepath.Join(in.dir, genesis.String()+"-"+strconv.FormatUint(index, 10))
}

// record allows signing for block id at (genesis, index): it succeeds if nothing
// was signed there yet (and records id) or the same block was.
func (in *intents) record(genesis skipchain.ID, index uint64, id skipchain.ID) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	p := in.path(genesis, index)
	if old, err := os.ReadFile(p); err == nil {
		if bytes.Equal(old, id[:]) {
			return nil
		}
		var prev skipchain.ID
		copy(prev[:], old)
		return fmt.Errorf("%w %d: block %s", errAlreadySigned, index, prev.Short())
	}
	return atomicfile.WriteNew(p, id[:], 0o600)
}

func (in *intents) forget(genesis skipchain.ID, index uint64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	_ = os.Remove(in.path(genesis, index))
}
