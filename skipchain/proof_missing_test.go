package skipchain_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
	"github.com/stretchr/testify/require"
)

// hiddenLinks hides a fixed set of links above level 0, as if their signing rounds
// had failed; stores always hold level 0.
type hiddenLinks struct {
	*chaintest.LazyChain
	hidden map[skipchain.LinkPosition]bool
}

func (r hiddenLinks) Link(from uint64, level int) (*skipchain.ForwardLink, error) {
	if r.hidden[skipchain.LinkPosition{From: from, Level: level}] {
		return nil, fmt.Errorf("%w: hidden", skipchain.ErrUnknownLink)
	}
	return r.LazyChain.Link(from, level)
}

// shortestPathWithout is shortestPath over the links that are not hidden.
func shortestPathWithout(p skipchain.Params, hidden map[skipchain.LinkPosition]bool, from, to uint64) int {
	dist := map[uint64]int{from: 0}
	queue := []uint64{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == to {
			return dist[cur]
		}
		for level := 0; level < int(p.Height(cur)); level++ {
			next := cur + p.Span(level)
			if _, seen := dist[next]; next <= to && !seen && !hidden[skipchain.LinkPosition{From: cur, Level: level}] {
				dist[next] = dist[cur] + 1
				queue = append(queue, next)
			}
		}
	}
	return -1
}

// With links missing, taking the highest stored link at each block is still a
// shortest path over the links that exist: links are nested (none from inside the
// span of a level-ℓ link reaches past its end), so the target of the highest usable
// link is on every path to the head.
func TestProofIsShortestWithMissingLinks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range []skipchain.Params{{Base: 2, MaxHeight: 32}, {Base: 3, MaxHeight: 4}, {Base: 4, MaxHeight: 32}} {
		t.Run(fmt.Sprintf("base=%d,height=%d", p.Base, p.MaxHeight), func(t *testing.T) {
			const last = 200
			lc := chaintest.NewLazyChain(t, p, chaintest.NewSigners(t, "lazy", 1), last, 0)
			for trial := 0; trial < 5; trial++ {
				hidden := map[skipchain.LinkPosition]bool{}
				for i := uint64(0); i < last; i++ {
					for level := 1; level < int(p.Height(i)); level++ {
						if rng.IntN(3) == 0 {
							hidden[skipchain.LinkPosition{From: i, Level: level}] = true
						}
					}
				}
				r := hiddenLinks{lc, hidden}
				for from := uint64(0); from <= last; from += 9 {
					proof, err := skipchain.BuildProof(r, from, false)
					require.NoError(t, err)
					require.Equal(t, shortestPathWithout(p, hidden, from, last), len(proof.Hops()), "trial %d from %d", trial, from)
				}
			}
		})
	}
}
