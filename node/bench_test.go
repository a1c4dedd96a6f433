package node

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/timeline"
)

func allMembers(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// BenchmarkProposal measures a release proposal until every one of 16 nodes in this
// process stored the new block: the links, 16 rebuilds (sharing this machine's cores),
// the timestamp. BenchmarkRebuild is one rebuild alone, the build time to set apart.
func BenchmarkProposal(b *testing.B) {
	c := newCluster(b, 16)
	for _, cfg := range c.cfgs {
		cfg.Linger.Duration = 0 // the round ends at the threshold, as the goal counts
	}
	c.createChain(0, allMembers(16)...)
	// Releases are made before the clock starts; only the proposal is measured.
	rels := make([]*api.Proposal, b.N+1)
	for i := range rels {
		rels[i] = releaseProposal(c.release(fmt.Sprintf("1.%d", i), false))
	}
	code, res := c.propose(0, rels[0]) // warm-up: connections, first-round costs
	require.Equal(b, http.StatusOK, code, "%+v", res)
	c.waitHeads(1)
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		code, res := c.propose(i%16, rels[i])
		require.Equal(b, http.StatusOK, code, "%+v", res)
		c.waitHeads(uint64(i + 1))
	}
}

func BenchmarkRebuild(b *testing.B) {
	c := newCluster(b, 1)
	r := c.release("1.0", false)
	n := c.nodes[0]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		require.NoError(b, n.rebuild.rebuild(context.Background(), r.Manifest, r.SourceURL))
	}
}

// BenchmarkTimestampRound is one timestamp round by a roster of 16 or 128 nodes in
// this process, the same round every node's interval timer starts.
func BenchmarkTimestampRound(b *testing.B) {
	for _, n := range []int{16, 128} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			c := newCluster(b, n)
			for _, cfg := range c.cfgs {
				cfg.RoundTimeout.Duration = 2 * time.Minute // the first round validates every key
			}
			c.createChain(0, allMembers(n)...)
			ch := c.nodes[0].chainOf(c.genesis)
			round := func() {
				ts := timeline.NewTimestamp(ch.state.Head(), time.Now())
				res, rep := c.nodes[0].round(context.Background(), ch.state.Roster(), "bench", ts.Message(), &roundData{}, 0)
				require.NotNil(b, res, "%+v", rep)
			}
			round()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				round()
			}
		})
	}
}

// BenchmarkHTTP serves latest and blocks/{i} from one node to a loopback load
// generator of 64 keep-alive clients, bounded by b.N requests, and reports
// requests per second and the 99th percentile latency.
func BenchmarkHTTP(b *testing.B) {
	c := newCluster(b, 4)
	c.createChain(0, 0, 1, 2, 3)
	for _, v := range []string{"1.0", "1.1"} {
		code, res := c.propose(0, releaseProposal(c.release(v, false)))
		require.Equal(b, http.StatusOK, code, "%+v", res)
	}
	// The baseline is a bare net/http server answering the same bytes as latest from
	// memory, under the same load generator: on a shared 2-core machine the generator
	// takes half the CPU, and the ratio to it is the figure that carries over.
	latest := getBody(b, c.url(0)+api.Latest(c.genesis))
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", api.MediaBinary)
		_, _ = w.Write(latest)
	}))
	defer bare.Close()
	cases := []struct{ name, url string }{
		{"baseline", bare.URL + api.Latest(c.genesis)},
		{"latest", c.url(0) + api.Latest(c.genesis)},
		{"block", c.url(0) + api.Block(c.genesis, 1)},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) { loadHTTP(b, tc.url) })
	}
}

func loadHTTP(b *testing.B, url string) {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	const workers = 64
	lat := make([][]time.Duration, workers)
	next := make(chan struct{}, b.N)
	for i := 0; i < b.N; i++ {
		next <- struct{}{}
	}
	close(next)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for range next {
				t0 := time.Now()
				resp, err := client.Get(url)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("GET %s: %s", url, resp.Status)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// BenchmarkRoundOneDead is the first round, over 16 or 64 nodes in this process, after
// the leader's first sub-leader stopped, with and without the nodes pinning their
// trees at the round before: each member asked again in the stopped one's place then
// either has the tree or asks onet for it, which ships the whole roster. onet keeps a
// tree it was sent for ten minutes, so only the first such round shows the cost: run
// it with -benchtime=1x (one cluster per measured round) and -count. It reports the
// bytes all servers sent during the round; the round lingers until every live
// member answered, so that none is still in flight.
func BenchmarkRoundOneDead(b *testing.B) {
	for _, n := range []int{16, 64} {
		for _, pins := range []bool{false, true} {
			b.Run(fmt.Sprintf("nodes=%d/pins=%v", n, pins), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					c := newClusterPins(b, n, pins)
					for _, cfg := range c.cfgs {
						cfg.RoundTimeout.Duration = 2 * time.Minute // the first round validates every key
					}
					c.createChain(0, allMembers(n)...)
					signers, rep := c.timestampRound(0)
					require.Equal(b, n, signers, rep)
					dead := firstSubLeader(b, c, n)
					c.stop(dead)
					tx := func() (sum uint64) {
						for _, nd := range c.nodes {
							if nd != nil {
								sum += nd.server.Tx()
							}
						}
						return sum
					}
					before := tx()
					b.StartTimer()
					signers, rep = c.timestampRound(0)
					b.StopTimer()
					require.Equal(b, n-1, signers, rep)
					b.ReportMetric(float64(tx()-before), "bytes/round")
					for j := range c.nodes {
						if c.nodes[j] != nil {
							c.stop(j)
						}
					}
				}
			})
		}
	}
}
