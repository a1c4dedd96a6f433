package simulation

import (
	"context"
	"fmt"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/skipchain"
	"golang.org/x/mod/sumdb/tlog"
)

// checkCost is what one update check costs the server: response bytes and requests.
type checkCost struct {
	Bytes    float64
	Requests float64
}

// chainiacSizes are the sizes of chainiac's static files, read off a real chain:
// what an express check fetches and what an export stores.
type chainiacSizes struct {
	chain       *testchain.Chain
	params      skipchain.Params
	timestamp   int // the signed timestamp
	latest      int // the latest record
	link        int // one forward link (every link of a roster has the same size)
	perLink     int // what a link adds to a served block
	genesisSize int // the genesis's served block (its roster included)
}

func measureChainiacSizes(c *testchain.Chain) (*chainiacSizes, error) {
	s := &chainiacSizes{chain: c, params: c.Block(0).Header().Params()}
	ts, err := c.Timestamp()
	if err != nil {
		return nil, err
	}
	s.timestamp = len(ts.Encode())
	head := c.Head().Header()
	s.latest = len((&api.LatestRecord{Index: head.Index(), ID: head.ID()}).Encode())
	// Block 2 has two levels: its served block with 0, 1 and 2 real links.
	b := c.Block(2)
	var links []*skipchain.ForwardLink
	for level := 0; level < 2; level++ {
		l, err := c.SignLink(2, level)
		if err != nil {
			return nil, err
		}
		links = append(links, l)
	}
	s.link = len(links[0].Encode())
	if len(links[1].Encode()) != s.link {
		return nil, fmt.Errorf("simulation: scale: links of %d and %d bytes", s.link, len(links[1].Encode()))
	}
	sizes := make([]int, 3)
	for n := range sizes {
		sizes[n] = len((&api.ServedBlock{Block: b, Links: links[:n]}).Encode())
	}
	s.perLink = sizes[1] - sizes[0]
	if sizes[2]-sizes[1] != s.perLink {
		return nil, fmt.Errorf("simulation: scale: a served block grows by %d, then %d bytes a link", s.perLink, sizes[2]-sizes[1])
	}
	s.genesisSize = len((&api.ServedBlock{Block: c.Block(0)}).Encode())
	return s, nil
}

// express is the cost of an express check from block from to block to: the
// timestamp alone when nothing is new, else the timestamp, the new head's header
// and its payload.
func (s *chainiacSizes) express(from, to uint64) checkCost {
	if from == to {
		return checkCost{Bytes: float64(s.timestamp), Requests: 1}
	}
	b := s.chain.Block(to)
	return checkCost{Bytes: float64(s.timestamp + len(b.Header().Encode()) + len(b.Payload())), Requests: 3}
}

// storage is the static export of blocks 0..n: for each block its served block
// (with the links that exist by then), its header, its payload and each link alone
// (api.BlockFiles), plus the latest record and the timestamp.
func (s *chainiacSizes) storage(n uint64) (files, bytes int64) {
	files, bytes = 2, int64(s.latest+s.timestamp)
	for i := uint64(0); i <= n; i++ {
		links := int64(0)
		for level := 0; level < int(s.params.Height(i)); level++ {
			if i+s.params.Span(level) <= n {
				links++
			}
		}
		b := s.chain.Block(i)
		served := int64(len((&api.ServedBlock{Block: b}).Encode())) + links*int64(s.perLink)
		files += 3 + links
		bytes += served + int64(len(b.Header().Encode())+len(b.Payload())) + links*int64(s.link)
	}
	return files, bytes
}

// validateExpress checks the express sizes against the real client: from block
// from, with and without a new release.
func (s *chainiacSizes) validateExpress(ctx context.Context, side *chainiacSide, from, to uint64) error {
	head := s.chain.Head().Index()
	defer s.chain.SetVisible(head)
	template, err := side.trusted(ctx, from)
	if err != nil {
		return err
	}
	for _, target := range []uint64{from, to} {
		s.chain.SetVisible(target)
		if s.timestamp != mustStampSize(s.chain) {
			return fmt.Errorf("simulation: scale: timestamps of %d and %d bytes", s.timestamp, mustStampSize(s.chain))
		}
		m, err := side.catchUp(ctx, template, client.Express, 1, target)
		if err != nil {
			return err
		}
		want := s.express(from, target)
		if m.Bytes != want.Bytes || m.RoundTrips != want.Requests {
			return fmt.Errorf("simulation: scale: the client fetched %v bytes in %v requests from %d to %d, the size model says %v in %v",
				m.Bytes, m.RoundTrips, from, target, want.Bytes, want.Requests)
		}
	}
	return nil
}

func mustStampSize(c *testchain.Chain) int {
	ts, err := c.Timestamp()
	if err != nil {
		return -1
	}
	return len(ts.Encode())
}

// logCosts are the log's costs between two tree sizes, from tlog itself.
type logCosts struct {
	ProofHashes int // consistency + inclusion
	Record      int
	ColdTiles   int // tiles a client with no cache reads
	ColdBytes   int
	WarmTiles   int // tiles a client that kept those of its last check reads
	WarmBytes   int
}

// localTiles reads tiles from the log's stored hashes, as a static tile server would
// serve them, remembering which it served.
type localTiles struct {
	l     *txlog
	n     int64
	cache map[tlog.Tile][]byte // tiles the client kept
	read  map[tlog.Tile]bool   // tiles served in this session
	bytes int
}

func (r *localTiles) Height() int { return tileHeight }

func (r *localTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		if d, ok := r.cache[t]; ok {
			out[i] = d
			continue
		}
		d, err := tlog.ReadTileData(t, r.l.reader(r.n))
		if err != nil {
			return nil, err
		}
		if !r.read[t] {
			r.read[t] = true
			r.bytes += len(d)
		}
		out[i] = d
	}
	return out, nil
}

func (r *localTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {
	for i, t := range tiles {
		r.cache[t] = data[i]
	}
}

// tileSession reads through tiles what a catch-up from old to tree needs (old = 0:
// only the newest record's inclusion), starting from cache, and returns the tiles
// it read and the cache after.
func tileSession(l *txlog, tree tlog.Tree, old int64, cache map[tlog.Tile][]byte) (*localTiles, error) {
	r := &localTiles{l: l, n: tree.N, cache: cache, read: map[tlog.Tile]bool{}}
	hr := tlog.TileHashReader(tree, r)
	if old > 0 && old < tree.N {
		if _, err := tlog.ProveTree(tree.N, old, hr); err != nil {
			return nil, err
		}
	}
	if _, err := tlog.ProveRecord(tree.N, tree.N-1, hr); err != nil {
		return nil, err
	}
	return r, nil
}

// logBetween is the cost of a catch-up from tree size from to tree size to (from <
// to), computed with tlog on the real tree.
func logBetween(l *txlog, from, to int64) (logCosts, error) {
	tree, err := l.treeAt(to)
	if err != nil {
		return logCosts{}, err
	}
	tp, err := tlog.ProveTree(to, from, l.reader(to))
	if err != nil {
		return logCosts{}, err
	}
	rp, err := tlog.ProveRecord(to, to-1, l.reader(to))
	if err != nil {
		return logCosts{}, err
	}
	c := logCosts{ProofHashes: len(tp) + len(rp), Record: len(l.records[to-1])}
	cold, err := tileSession(l, tree, from, map[tlog.Tile][]byte{})
	if err != nil {
		return logCosts{}, err
	}
	c.ColdTiles, c.ColdBytes = len(cold.read), cold.bytes
	// What the client kept from its last check, at tree size from.
	prev, err := l.treeAt(from)
	if err != nil {
		return logCosts{}, err
	}
	kept := map[tlog.Tile][]byte{}
	if _, err := tileSession(l, prev, 0, kept); err != nil {
		return logCosts{}, err
	}
	warm, err := tileSession(l, tree, from, kept)
	if err != nil {
		return logCosts{}, err
	}
	c.WarmTiles, c.WarmBytes = len(warm.read), warm.bytes
	return c, nil
}

// Log designs of the scale scenario.
const (
	scaleLog       = "log"            // proofs from a log server
	scaleTiles     = "log-tiles"      // static tiles, the client keeping its last check's tiles
	scaleTilesCold = "log-tiles-cold" // static tiles, no cache
	scaleChainiac  = "chainiac-static"
)

// logCheck is a check's cost for a log design with a checkpoint of cp bytes.
func logCheck(design string, c logCosts, cp int, same bool) checkCost {
	if same {
		return checkCost{Bytes: float64(cp), Requests: 1}
	}
	switch design {
	case scaleLog:
		return checkCost{Bytes: float64(cp + tlog.HashSize*c.ProofHashes + 4 + c.Record), Requests: 3}
	case scaleTiles:
		return checkCost{Bytes: float64(cp + c.WarmBytes + c.Record), Requests: float64(2 + c.WarmTiles)}
	}
	return checkCost{Bytes: float64(cp + c.ColdBytes + c.Record), Requests: float64(2 + c.ColdTiles)}
}

// validateLog checks the log's cost model against the HTTP log client (proofs and
// cold tiles) from one tree size to another.
func validateLog(ctx context.Context, lc func(tiles bool) *logClient, l *txlog, w int, from, to int64) error {
	trusted, err := l.treeAt(from)
	if err != nil {
		return err
	}
	if _, err := l.set(to, w); err != nil {
		return err
	}
	cp := len(l.checkpoint)
	costs, err := logBetween(l, from, to)
	if err != nil {
		return err
	}
	for _, d := range []string{scaleLog, scaleTilesCold} {
		c := lc(d == scaleTilesCold)
		if _, err := c.catchUp(ctx, trusted); err != nil {
			return err
		}
		want := logCheck(d, costs, cp, false)
		if float64(c.stats.Bytes) != want.Bytes || float64(c.stats.RoundTrips) != want.Requests {
			return fmt.Errorf("simulation: scale: the %s client fetched %d bytes in %d requests from %d to %d, the model says %v in %v",
				d, c.stats.Bytes, c.stats.RoundTrips, from, to, want.Bytes, want.Requests)
		}
	}
	return nil
}

// logStorage is the static tile log of n records: every hash tile of the tree
// (tlog.NewTiles, partial tiles at the right edge included), every record as its own
// file and the checkpoint; and the log server's database: its stored hashes and
// records.
func logStorage(l *txlog, n int64, checkpoint int) (tileFiles, tileBytes, dbBytes int64) {
	var records int64
	for _, r := range l.records[:n] {
		records += int64(len(r))
	}
	tiles := tlog.NewTiles(tileHeight, 0, n)
	for _, t := range tiles {
		tileBytes += int64(t.W * tlog.HashSize)
	}
	tileFiles = int64(len(tiles)) + n + 1
	tileBytes += records + int64(checkpoint)
	dbBytes = tlog.StoredHashCount(n)*tlog.HashSize + records + int64(checkpoint)
	return tileFiles, tileBytes, dbBytes
}
