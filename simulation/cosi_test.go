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

func TestRunCosiRejectsBadConfig(t *testing.T) {
	for _, cfg := range []CosiConfig{
		{Nodes: 1, Rounds: 1},
		{Nodes: 10, Rounds: 0},
		{Nodes: 10, Rounds: 1, Warmup: -1},
		{Nodes: 10, Rounds: 1, Subtrees: 10},
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

// BenchmarkCosiRound measures warm signing rounds at each size of -cosi.nodes. The
// servers start once per size (two warm-up rounds, not timed); every b.N round is one
// full round with its signature verified.
func BenchmarkCosiRound(b *testing.B) {
	b.Cleanup(closeBenchNet) // after every size, before the goroutine-leak check
	for _, field := range strings.Split(*benchNodes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		require.NoError(b, err)
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			cn := benchNet(b, CosiConfig{Nodes: n, Rounds: 1, Timeout: time.Minute})
			if *benchProfile != "" {
				stop := startProfile(b, fmt.Sprintf("%s.%d", *benchProfile, n))
				defer stop()
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cn.next++
				if r := cn.round(context.Background(), cn.next); r.Err != nil {
					b.Fatal(r.Err)
				}
			}
		})
	}
}

// benchCosi is a started cothority kept across the calls testing makes to one
// benchmark (first with b.N = 1, then larger): 4096 servers take a minute to start.
type benchCosi struct {
	*cosiNet
	next int // the last round number used
}

var cachedNet *benchCosi

func benchNet(b *testing.B, cfg CosiConfig) *benchCosi {
	b.Helper()
	require.NoError(b, cfg.validate())
	if cachedNet != nil && cachedNet.cfg == cfg {
		return cachedNet
	}
	closeBenchNet()
	cn, err := startCosiNet(cfg)
	require.NoError(b, err)
	cachedNet = &benchCosi{cosiNet: cn}
	// The first rounds open every connection: not what is measured.
	for i := 0; i < 2; i++ {
		cachedNet.next++
		r := cn.round(context.Background(), cachedNet.next)
		require.NoError(b, r.Err)
	}
	return cachedNet
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
