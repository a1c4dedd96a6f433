package simulation

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chainiac/chainiac/internal/onettest"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { onettest.Main(m) }

func TestRunCosi(t *testing.T) {
	var rounds []Round
	err := RunCosi(context.Background(), CosiConfig{Nodes: 10, Rounds: 3, Warmup: 1}, func(r Round) {
		rounds = append(rounds, r)
	})
	require.NoError(t, err)
	require.Len(t, rounds, 4)
	for i, r := range rounds {
		require.NoError(t, r.Err)
		require.Equal(t, i+1, r.Round)
		require.Equal(t, i == 0, r.Warmup)
		require.GreaterOrEqual(t, r.Signers, 7, "the default threshold of 10 is 7")
		require.Positive(t, r.Latency)
	}
}

// With f members crashed or silent, under either aggregation, every other member
// signs, and the round's CPU time and bytes are counted.
func TestRunCosiWithFailingMembers(t *testing.T) {
	for _, cfg := range []CosiConfig{
		{Nodes: 10, Rounds: 1, Crashed: 3},
		{Nodes: 10, Rounds: 1, Crashed: 3, CheckAtSubLeaders: true},
		{Nodes: 10, Rounds: 1, Silent: 3, Timeout: 2 * time.Second},
	} {
		var rounds []Round
		require.NoError(t, RunCosi(context.Background(), cfg, func(r Round) { rounds = append(rounds, r) }), "%+v", cfg)
		require.Len(t, rounds, 1)
		require.Equal(t, 7, rounds[0].Signers, "%+v", cfg)
		require.Positive(t, rounds[0].CPU)
		require.Positive(t, rounds[0].Bytes)
	}
}

func TestRunCosiRejectsBadConfig(t *testing.T) {
	for _, cfg := range []CosiConfig{
		{Nodes: 1, Rounds: 1},
		{Nodes: 10, Rounds: 0},
		{Nodes: 10, Rounds: 1, Warmup: -1},
		{Nodes: 10, Rounds: 1, Subtrees: 10},
		{Nodes: 10, Rounds: 1, Crashed: 2, Silent: 2},
		{Nodes: 10, Rounds: 1, Crashed: -1},
	} {
		require.Error(t, RunCosi(context.Background(), cfg, func(Round) {}), "%+v", cfg)
	}
}

// benchNodes lists the roster sizes of BenchmarkCosiRound:
// go test -bench CosiRound ./simulation/ -args -cosi.nodes 1024,4096
var benchNodes = flag.String("cosi.nodes", "16,64,256,1024", "roster sizes of BenchmarkCosiRound, separated by commas")

// benchProfile writes a CPU profile of the measured rounds only: -test.cpuprofile
// would also take in the minute of key generation and server start-up.
var benchProfile = flag.String("cosi.cpuprofile", "", "write a CPU profile of BenchmarkCosiRound's measured rounds to this file")

// BenchmarkCosiRound measures warm signing rounds at each size of -cosi.nodes, with
// the CPU floor of the same size next to them:
//
//	step=floor       every member's share and one pairing check on every core, no network
//	step=checked     sub-leaders check every partial (the protocol before optimistic aggregation)
//	step=optimistic  only the root checks (the default)
//
// The servers start once per size (two warm-up rounds per aggregation, not timed);
// every b.N round is one full round with its signature verified. Besides ns/op it
// reports the process's CPU time and the bytes all servers sent per round.
func BenchmarkCosiRound(b *testing.B) {
	b.Cleanup(closeBenchNet) // after every size, before the goroutine-leak check
	for _, field := range strings.Split(*benchNodes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		require.NoError(b, err)
		b.Run(fmt.Sprintf("nodes=%d/step=floor", n), func(b *testing.B) {
			cn := benchNet(b, n)
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := cn.floor([]byte(fmt.Sprintf("floor %d", i))); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-sec/op")
		})
		for _, check := range []bool{true, false} {
			cfg := CosiConfig{Nodes: n, Rounds: 1, Timeout: time.Minute, CheckAtSubLeaders: check}
			require.NoError(b, cfg.validate())
			b.Run(fmt.Sprintf("nodes=%d/step=%s", n, cfg.Aggregation()), func(b *testing.B) {
				cn := benchNet(b, n)
				cn.warm(b, cfg)
				if *benchProfile != "" {
					stop := startProfile(b, fmt.Sprintf("%s.%d.%s", *benchProfile, n, cfg.Aggregation()))
					defer stop()
				}
				var cpu time.Duration
				var sent uint64
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					cn.next++
					r := cn.round(context.Background(), cfg, cn.next)
					if r.Err != nil {
						b.Fatal(r.Err)
					}
					cpu += r.CPU
					sent += r.Bytes
				}
				b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-sec/op")
				b.ReportMetric(float64(sent)/float64(b.N), "sent-B/op")
			})
		}
	}
}

// benchCosi is a started cothority kept across the calls testing makes to one
// benchmark (first with b.N = 1, then larger) and across the steps of one size:
// 4096 servers take a minute to start.
type benchCosi struct {
	*cosiNet
	next   int             // the last round number used
	warmed map[string]bool // configurations whose first rounds ran
}

var cachedNet *benchCosi

func benchNet(b *testing.B, n int) *benchCosi {
	b.Helper()
	if cachedNet != nil && cachedNet.n == n {
		return cachedNet
	}
	closeBenchNet()
	cn, err := startCosiNet(n)
	require.NoError(b, err)
	cachedNet = &benchCosi{cosiNet: cn, warmed: map[string]bool{}}
	return cachedNet
}

// warm runs cfg's first rounds, which open connections: not what is measured.
func (cn *benchCosi) warm(b *testing.B, cfg CosiConfig) {
	if cn.warmed[variantName(cfg)] {
		return
	}
	for i := 0; i < 2; i++ {
		cn.next++
		r := cn.round(context.Background(), cfg, cn.next)
		require.NoError(b, r.Err)
	}
	cn.warmed[variantName(cfg)] = true
}

func closeBenchNet() {
	if cachedNet != nil {
		cachedNet.close()
		cachedNet = nil
	}
}

func startProfile(b *testing.B, path string) (stop func()) {
	f, err := os.Create(path)
	require.NoError(b, err)
	require.NoError(b, pprof.StartCPUProfile(f))
	return func() {
		pprof.StopCPUProfile()
		require.NoError(b, f.Close())
	}
}
