package skipchain_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
)

// benchGaps are the numbers of missed blocks in docs/performance.md.
var benchGaps = []uint64{10, 100, 1000, 10_000, 100_000}

// benchLast is the head of the benchmark chain: 2¹⁷, so that every gap up to 10⁵
// has tens of thousands of possible starting blocks.
const benchLast = 1 << 17

var (
	benchMu     sync.Mutex
	benchChains = map[int]*chaintest.LazyChain{}
)

// benchChain is a chain of 2¹⁷+1 blocks with one roster of n members, each link
// signed by exactly the threshold (the most absentees Verify has to subtract).
func benchChain(b *testing.B, n int) *chaintest.LazyChain {
	benchMu.Lock()
	defer benchMu.Unlock()
	if c, ok := benchChains[n]; ok {
		return c
	}
	s := chaintest.NewSigners(b, fmt.Sprintf("bench%d", n), n)
	c := chaintest.NewLazyChain(b, skipchain.DefaultParams(), s, benchLast, 0)
	benchChains[n] = c
	return c
}

// headView is a chain seen as if its head were an earlier block.
type headView struct {
	*chaintest.LazyChain
	head uint64
}

func (v headView) Head() (*skipchain.Header, error) { return v.LazyChain.Header(v.head) }

// worstStart returns, over every pair of blocks k apart in the benchmark chain, the
// mean number of hops and the start of a pair that needs the most.
func worstStart(p skipchain.Params, k uint64) (mean float64, worst uint64) {
	most, sum := -1, 0
	for from := uint64(0); from+k <= benchLast; from++ {
		h := greedyHops(p, from, from+k)
		sum += h
		if h > most {
			most, worst = h, from
		}
	}
	return float64(sum) / float64(benchLast-k+1), worst
}

// BenchmarkProof measures, for a client k blocks behind the head, the update proof
// (without payload) on the worst pair of blocks k apart: its hops, its bytes, and the
// time to parse and verify it, with the client's roster weights already computed.
// mean-hops is the average over every pair k apart.
func BenchmarkProof(b *testing.B) {
	for _, n := range []int{16, 128} {
		c := benchChain(b, n)
		for _, k := range benchGaps {
			mean, from := worstStart(skipchain.DefaultParams(), k)
			p, err := skipchain.BuildProof(headView{c, from + k}, from, false)
			if err != nil {
				b.Fatal(err)
			}
			enc := p.Encode()
			trusted, err := c.Header(from)
			if err != nil {
				b.Fatal(err)
			}
			roster := c.Genesis().Roster()
			if _, err := roster.Cosi(); err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("roster=%d/k=%d", n, k), func(b *testing.B) {
				b.ReportMetric(mean, "mean-hops")
				b.ReportMetric(float64(len(p.Hops())), "hops")
				b.ReportMetric(float64(len(enc)), "proof-bytes")
				for i := 0; i < b.N; i++ {
					parsed, err := skipchain.ParseProof(enc)
					if err != nil {
						b.Fatal(err)
					}
					if _, _, err := parsed.Verify(trusted, roster); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkRosterAdmission is the one-time cost of trusting a new roster: parsing it
// (every key's subgroup check) and computing its BDN weights.
func BenchmarkRosterAdmission(b *testing.B) {
	for _, n := range []int{16, 128} {
		enc := chaintest.NewSigners(b, fmt.Sprintf("bench%d", n), n).Roster.Encode()
		b.Run(fmt.Sprintf("roster=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r, err := skipchain.ParseRoster(enc)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := r.Cosi(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBoltBuildProof is the server's side: building the proof from block 0 to
// the head of a 1024-block chain in a bbolt file (every link present and verified
// when stored, one-member roster).
func BenchmarkBoltBuildProof(b *testing.B) {
	const last = 1024
	s := chaintest.NewSigners(b, "bolt-bench", 1)
	lazy := chaintest.NewLazyChain(b, skipchain.DefaultParams(), s, last, 0)
	store, err := skipchain.CreateBoltStore(filepath.Join(b.TempDir(), "chain.db"), lazy.Genesis())
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	p := skipchain.DefaultParams()
	for i := uint64(1); i <= last; i++ {
		blk, err := lazy.Block(i)
		if err != nil {
			b.Fatal(err)
		}
		var links []*skipchain.ForwardLink
		for _, pos := range p.LinksInto(i) {
			l, err := lazy.Link(pos.From, pos.Level)
			if err != nil {
				b.Fatal(err)
			}
			links = append(links, l)
		}
		if err := store.Append(blk, links...); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := skipchain.BuildProof(store, 1, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPathModel is the measurement behind the default base and maximum height:
// for each (B, H) and gap k, the shortest path (which BuildProof finds) from 4096
// starting blocks spread over [1, 2²⁰), reported as mean and worst hops and mean
// proof bytes with a 128-member roster; and the forward links each new block needs,
// each one a collective signing round.
func BenchmarkPathModel(b *testing.B) {
	hopBytes := func(n int) int { return 1 + skipchain.IDSize + 4 + cosi.PointSize + 2 + (n+7)/8 + 4 }
	for _, p := range []skipchain.Params{
		{Base: 2, MaxHeight: 32}, {Base: 3, MaxHeight: 32}, {Base: 4, MaxHeight: 32}, {Base: 8, MaxHeight: 22},
		{Base: 2, MaxHeight: 8}, {Base: 2, MaxHeight: 16},
	} {
		for _, k := range benchGaps {
			b.Run(fmt.Sprintf("B=%d/H=%d/k=%d", p.Base, p.MaxHeight, k), func(b *testing.B) {
				var sum, worst, bytes, headerBytes int
				for i := 0; i < b.N; i++ {
					sum, worst, bytes, headerBytes = 0, 0, 0, 0
					x := uint64(12345)
					for s := 0; s < 4096; s++ {
						x = x*6364136223846793005 + 1442695040888963407
						start := 1 + (x>>33)%(1<<20)
						hops := greedyHops(p, start, start+k)
						sum += hops
						worst = max(worst, hops)
						// The head header: 161 bytes with chaintest's payload kind,
						// plus one back-link ID per level.
						headerBytes += 161 + skipchain.IDSize*int(p.Height(start+k))
					}
					bytes = sum*hopBytes(128) + headerBytes
				}
				b.ReportMetric(float64(sum)/4096, "mean-hops")
				b.ReportMetric(float64(worst), "max-hops")
				// 99 bytes of tag, genesis, start, counts and payload flag.
				b.ReportMetric(float64(bytes)/4096+99, "mean-bytes")
				links := 0.0
				for level := 0; level < int(p.MaxHeight); level++ {
					links += 1 / float64(p.Span(level))
				}
				b.ReportMetric(links, "links/block")
			})
		}
	}
}

// greedyHops counts the hops of the highest-link-first path; TestProofIsShortest
// checks that it is the shortest.
func greedyHops(p skipchain.Params, from, to uint64) int {
	hops := 0
	for from < to {
		level := int(p.Height(from)) - 1
		for from+p.Span(level) > to {
			level--
		}
		from += p.Span(level)
		hops++
	}
	return hops
}

// hostileInputs are the inputs of issue 12, finding 5: fork evidence whose two links
// carry 1 signer of a 4096-member roster (about 660 KB), and a block naming such a
// roster (about 658 KB).
func hostileInputs(b *testing.B) (evidence, block []byte) {
	s := chaintest.NewSigners(b, "hostile", cosi.MaxRosterSize)
	g, err := skipchain.NewGenesis(skipchain.DefaultParams(), s.Roster, "test", nil)
	if err != nil {
		b.Fatal(err)
	}
	var links []*skipchain.ForwardLink
	for _, payload := range []string{"one", "two"} {
		next, err := skipchain.NewBlock(g.Header(), []*skipchain.Header{g.Header()}, s.Roster, "test", []byte(payload))
		if err != nil {
			b.Fatal(err)
		}
		links = append(links, s.Link(b, g.Header(), next.Header(), 1))
	}
	if bytes.Compare(links[0].Encode(), links[1].Encode()) > 0 {
		links[0], links[1] = links[1], links[0]
	}
	e := &skipchain.ForkError{From: g.Header(), Roster: g.Roster(), A: links[0], B: links[1]}
	return e.Encode(), g.Encode()
}

// BenchmarkHostileInput is the cost of refusing (evidence) or accepting (block) the
// inputs of hostileInputs: what a node or monitor spends on one such message from a
// peer. "seen" parses a block whose roster the cache already holds.
func BenchmarkHostileInput(b *testing.B) {
	evidence, block := hostileInputs(b)
	b.Logf("evidence %d bytes, block %d bytes", len(evidence), len(block))
	b.Run("ParseForkEvidence", func(b *testing.B) {
		for b.Loop() {
			if _, err := skipchain.ParseForkEvidence(evidence); err == nil {
				b.Fatal("evidence with 1 signer accepted")
			}
		}
	})
	b.Run("ParseBlock", func(b *testing.B) {
		for b.Loop() {
			if _, err := skipchain.ParseBlock(block); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RosterCache.ParseBlock/seen", func(b *testing.B) {
		cache := skipchain.NewRosterCache(0)
		if _, err := cache.ParseBlock(block); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := cache.ParseBlock(block); err != nil {
				b.Fatal(err)
			}
		}
	})
}
