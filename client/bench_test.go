package client_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/stretchr/testify/require"
)

// benchChain is one chain of 10⁵ releases with a roster of 128, shared by the
// catch-up benchmarks (building it takes about 25 s).
var benchChain = sync.OnceValue(func() *testchain.Chain {
	tb := &onceTB{}
	c := testchain.New(tb, testchain.Options{Members: 128})
	c.Releases(tb, 1, 100_000)
	return c
})

// onceTB lets the shared chain be built outside any one benchmark.
type onceTB struct{ testing.TB }

func (onceTB) Helper() {}
func (onceTB) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

// BenchmarkCatchUp measures one Check after k missed releases, for each path, with a
// roster of 128: the signature checks, hops, bytes (proof and payload apart) and
// round trips it needs, its CPU time and its wall time over loopback HTTP, state
// file fsyncs included (the in-process mirror has every answer ready: links and the
// timestamp are signed before timing).
//
//	go test ./client -run '^$' -bench CatchUp -benchtime 20x -count 5
func BenchmarkCatchUp(b *testing.B) {
	c := benchChain()
	head := c.Head().Index()
	mirror := serve(b, c.Handler())
	for _, mode := range []client.Mode{client.Express, client.Links} {
		for _, k := range []uint64{1, 100, 10_000, 100_000} {
			b.Run(fmt.Sprintf("%s/k=%d", mode, k), func(b *testing.B) {
				state := trustedAt(b, c, mirror, head-k)
				cl := newClient(b, c, []string{mirror}, withMode(mode), func(cfg *client.Config) { cfg.StateDir = state })
				saved := readState(b, state)
				run := func() *client.Update {
					writeState(b, state, saved)
					u, err := cl.Check(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					return u
				}
				u := run() // signs what the path reads; the timed runs find it ready
				require.Equal(b, head, u.Head.Index)
				cpu0 := cpuTime()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					u = run()
				}
				b.StopTimer()
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
				st := u.Stats
				b.ReportMetric(float64(st.SignatureChecks), "sigchecks/op")
				b.ReportMetric(float64(st.Hops), "hops/op")
				b.ReportMetric(float64(st.Bytes-st.PayloadBytes), "proofB/op")
				b.ReportMetric(float64(st.PayloadBytes), "payloadB/op")
				b.ReportMetric(float64(st.RoundTrips), "requests/op")
			})
		}
	}
}

// BenchmarkLinksAverage is the forward-link path from 32 random blocks k = 10⁴
// before the head: the average hops and proof bytes per catch-up.
//
//	go test ./client -run '^$' -bench LinksAverage -benchtime 1x
func BenchmarkLinksAverage(b *testing.B) {
	c := benchChain()
	head := c.Head().Index()
	mirror := serve(b, c.Handler())
	rnd := rand.New(rand.NewPCG(1, 2))
	var hops, proof, n float64
	for i := 0; i < 32; i++ {
		from := head - 10_000 - rnd.Uint64N(head-10_000)
		state := trustedAt(b, c, mirror, from)
		cl := newClient(b, c, []string{mirror}, withMode(client.Links), func(cfg *client.Config) { cfg.StateDir = state })
		c.SetVisible(from + 10_000)
		u, err := cl.Check(context.Background())
		require.NoError(b, err)
		hops += float64(u.Stats.Hops)
		proof += float64(u.Stats.Bytes - u.Stats.PayloadBytes)
		n++
	}
	c.SetVisible(head)
	b.ReportMetric(hops/n, "hops/catchup")
	b.ReportMetric(proof/n, "proofB/catchup")
}

// cpuTime is the process's user and system CPU time so far: the client's work plus
// the in-process mirror's (which only copies ready answers).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// trustedAt returns a state directory whose client trusts block index.
func trustedAt(b *testing.B, c *testchain.Chain, mirror string, index uint64) string {
	b.Helper()
	head := c.Head().Index()
	c.SetVisible(index)
	defer c.SetVisible(head)
	dir := b.TempDir()
	cl := newClient(b, c, []string{mirror}, func(cfg *client.Config) { cfg.StateDir = dir })
	u, err := cl.Check(context.Background())
	require.NoError(b, err)
	require.Equal(b, index, u.Head.Index)
	return dir
}

func readState(b *testing.B, dir string) []byte {
	data, err := os.ReadFile(filepath.Join(dir, "trusted"))
	require.NoError(b, err)
	return data
}

func writeState(b *testing.B, dir string, data []byte) {
	if err := os.WriteFile(filepath.Join(dir, "trusted"), data, 0o644); err != nil {
		b.Fatal(err)
	}
}
