package node

import (
	"sync"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// exporter keeps a static copy of every chain in a directory (Config.ExportDir):
// the same paths and bytes as the HTTP API, written by api.WriteStatic, so any web
// server or CDN serves everything an updater needs. It runs in one goroutine, woken
// after each change; each chain remembers how far it was exported.
type exporter struct {
	n    *Node
	dir  string
	wake chan struct{}

	mu      sync.Mutex
	pending map[skipchain.ID]*chain
	done    map[skipchain.ID]uint64 // blocks 0..done-1 exported with the links they had
}

func newExporter(n *Node, dir string) *exporter {
	return &exporter{n: n, dir: dir, wake: make(chan struct{}, 1),
		pending: map[skipchain.ID]*chain{}, done: map[skipchain.ID]uint64{}}
}

// exportLater asks for c to be exported soon; it never blocks.
func (n *Node) exportLater(c *chain) {
	e := n.exporter
	if e == nil {
		return
	}
	e.mu.Lock()
	e.pending[c.genesis] = c
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *exporter) run() {
	defer e.n.wg.Done()
	for {
		select {
		case <-e.n.ctx.Done():
			return
		case <-e.wake:
		}
		e.mu.Lock()
		work := e.pending
		e.pending = map[skipchain.ID]*chain{}
		e.mu.Unlock()
		for _, c := range work {
			if err := e.export(c); err != nil {
				e.n.log.Warn("export failed", "genesis", c.genesis.Short(), "err", err)
			}
		}
	}
}

// export writes what changed since the last export: the new blocks, the blocks that
// gained links into them, latest and the timestamp.
func (e *exporter) export(c *chain) error {
	head, err := c.store.Head()
	if err != nil {
		return err
	}
	from := e.done[c.genesis]
	touched := map[uint64]bool{}
	for i := from; i <= head.Index(); i++ {
		touched[i] = true
		if i > 0 {
			for _, pos := range head.Params().LinksInto(i) {
				touched[pos.From] = true
			}
		}
	}
	for i := range touched {
		if err := e.writeBlock(c, i); err != nil {
			return err
		}
	}
	if ts := c.newestTimestamp(); ts != nil {
		if _, err := api.WriteStatic(e.dir, api.Timestamp(c.genesis), ts.Encode()); err != nil {
			return err
		}
	}
	latest := &api.LatestRecord{Index: head.Index(), ID: head.ID()}
	if _, err := api.WriteStatic(e.dir, api.Latest(c.genesis), latest.Encode()); err != nil {
		return err
	}
	e.done[c.genesis] = head.Index() + 1
	return nil
}

func (e *exporter) writeBlock(c *chain, i uint64) error {
	sb, err := servedBlock(c, i)
	if err != nil {
		return err
	}
	files, err := api.BlockFiles(c.genesis, sb)
	if err != nil {
		return err
	}
	for p, data := range files {
		if _, err := api.WriteStatic(e.dir, p, data); err != nil {
			return err
		}
	}
	return nil
}

// servedBlock is block i with every stored link leaving it.
func servedBlock(c *chain, i uint64) (*api.ServedBlock, error) {
	b, err := c.store.Block(i)
	if err != nil {
		return nil, err
	}
	links, err := c.store.Links(i)
	if err != nil {
		return nil, err
	}
	return &api.ServedBlock{Block: b, Links: links}, nil
}

// keepTimestamp offers ts to the chain and, if it was kept, exports it.
func (n *Node) keepTimestamp(c *chain, ts *timeline.Timestamp) (bool, error) {
	kept, err := c.offerTimestamp(ts)
	if kept {
		n.exportLater(c)
	}
	return kept, err
}
