package simulation

import (
	"context"
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

// BenchmarkCosiRound measures warm rounds at 100 nodes; for profiles, not for the
// figures in docs/performance.md (those come from chainiac simulate cosi).
func BenchmarkCosiRound(b *testing.B) {
	b.StopTimer()
	n := 0
	err := RunCosi(context.Background(), CosiConfig{Nodes: 100, Rounds: b.N, Warmup: 2, Timeout: time.Minute},
		func(r Round) {
			n++
			if n == 2 {
				b.StartTimer()
			}
		})
	require.NoError(b, err)
}
