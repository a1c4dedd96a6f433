package simulation

import (
	"context"
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// rowsByKey indexes a table's rows by design, k and witnesses.
func rowsByKey(t *testing.T, tab *Table) map[[3]string]map[string]float64 {
	t.Helper()
	out := map[[3]string]map[string]float64{}
	for _, row := range tab.Rows {
		m := map[string]float64{}
		for i, c := range tab.Columns {
			if v, err := strconv.ParseFloat(row[i], 64); err == nil {
				m[c.Name] = v
			}
		}
		out[[3]string{row[0], row[1], row[2]}] = m
	}
	return out
}

func deterministic(tab *Table) [][]string {
	var out [][]string
	for _, row := range tab.Rows {
		var keep []string
		for i, c := range tab.Columns {
			if !c.Measured {
				keep = append(keep, row[i])
			}
		}
		out = append(out, keep)
	}
	return out
}

func TestCatchupSmall(t *testing.T) {
	cfg := CatchupConfig{Ks: []uint64{1, 4, 16, 64}, Roster: 4, Witnesses: []int{3, 5}, Samples: 2, Repeats: 1, LinearSample: 4}
	var steps []Progress
	res, err := RunCatchup(context.Background(), cfg, Options{Seed: 7, Progress: func(p Progress) { steps = append(steps, p) }})
	require.NoError(t, err)
	require.NotEmpty(t, steps)
	require.Equal(t, steps[len(steps)-1].Done, steps[len(steps)-1].Total)
	main, costs := res.Tables[0], res.Tables[1]
	require.Equal(t, []string{"design", "k", "witnesses", "hops", "bytes", "verify_seconds", "round_trips"}, main.Header())
	require.Len(t, main.Rows, len(cfg.Ks)*(3+2*len(cfg.Witnesses)))
	rows, cost := rowsByKey(t, main), rowsByKey(t, costs)
	linkBytes := (cost[[3]string{"linear", "4", "4"}]["proof_bytes"] - cost[[3]string{"linear", "1", "4"}]["proof_bytes"]) / 3
	require.Positive(t, linkBytes)
	for _, k := range cfg.Ks {
		ks := strconv.FormatUint(k, 10)
		ex := cost[[3]string{"express", ks, "4"}]
		require.Equal(t, 1.0, ex["signature_checks"], "express: one signature at every k")
		require.Equal(t, 3.0, rows[[3]string{"express", ks, "4"}]["round_trips"])
		require.Less(t, ex["proof_bytes"], 1000.0)
		lin := cost[[3]string{"linear", ks, "4"}]
		require.Equal(t, float64(k), lin["signature_checks"])
		require.Equal(t, float64(k), rows[[3]string{"linear", ks, "4"}]["hops"])
		require.InDelta(t, linkBytes*float64(k-1), lin["proof_bytes"]-cost[[3]string{"linear", "1", "4"}]["proof_bytes"], 1e-9)
		links := rows[[3]string{"links", ks, "4"}]
		require.GreaterOrEqual(t, links["hops"], 1.0)
		require.LessOrEqual(t, links["hops"], 2*math.Log2(float64(k))+1)
		for _, w := range cfg.Witnesses {
			for _, d := range []string{"log", "log-tiles"} {
				key := [3]string{d, ks, strconv.Itoa(w)}
				require.Equal(t, float64(w+1), cost[key]["signature_checks"], "%v: the log's and every witness's", key)
				require.Positive(t, rows[key]["verify_seconds"])
			}
			require.Equal(t, 3.0, rows[[3]string{"log", ks, strconv.Itoa(w)}]["round_trips"])
			// the proofs of a tree of at most 64+64 records: at most 2·7 hashes each
			require.LessOrEqual(t, cost[[3]string{"log", ks, strconv.Itoa(w)}]["proof_hashes"], 28.0)
		}
		require.Greater(t, rows[[3]string{"log", ks, "5"}]["bytes"], rows[[3]string{"log", ks, "3"}]["bytes"], "two more signature lines")
	}
	require.Equal(t, 1.0, rows[[3]string{"links", "1", "4"}]["hops"])
	require.Greater(t, rows[[3]string{"links", "64", "4"}]["hops"], rows[[3]string{"links", "4", "4"}]["hops"])
	require.Greater(t, rows[[3]string{"linear", "64", "4"}]["verify_seconds"], rows[[3]string{"linear", "1", "4"}]["verify_seconds"])
	require.Len(t, res.Figures, 3)

	// The same seed gives the same rows, apart from the measured columns; another
	// seed other starts.
	again, err := RunCatchup(context.Background(), cfg, Options{Seed: 7})
	require.NoError(t, err)
	for i := range res.Tables {
		require.Equal(t, deterministic(res.Tables[i]), deterministic(again.Tables[i]))
	}
	other, err := RunCatchup(context.Background(), cfg, Options{Seed: 8})
	require.NoError(t, err)
	require.NotEqual(t, deterministic(res.Tables[0]), deterministic(other.Tables[0]))
}

func TestCatchupRejectsBadConfig(t *testing.T) {
	for _, cfg := range []CatchupConfig{
		{Ks: nil, Roster: 4, Witnesses: []int{3}, Samples: 1, Repeats: 1, LinearSample: 1},
		{Ks: []uint64{0, 1}, Roster: 4, Witnesses: []int{3}, Samples: 1, Repeats: 1, LinearSample: 1},
		{Ks: []uint64{10, 1}, Roster: 4, Witnesses: []int{3}, Samples: 1, Repeats: 1, LinearSample: 1},
		{Ks: []uint64{1}, Roster: 4, Witnesses: []int{0}, Samples: 1, Repeats: 1, LinearSample: 1},
		{Ks: []uint64{1}, Roster: 4, Witnesses: []int{3}, Samples: 0, Repeats: 1, LinearSample: 1},
	} {
		_, err := RunCatchup(context.Background(), cfg, Options{})
		require.Error(t, err, "%+v", cfg)
	}
}
