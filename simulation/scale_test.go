package simulation

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTorBrowserReleases(t *testing.T) {
	rs, err := TorBrowserReleases()
	require.NoError(t, err)
	require.Len(t, rs, 465, "the README's count")
	require.Equal(t, "3.0alpha1", rs[0].Version)
	require.Equal(t, time.Date(2013, 6, 17, 0, 0, 0, 0, time.UTC), rs[0].Date)
	require.Equal(t, time.Date(2026, 7, 23, 0, 0, 0, 0, time.UTC), rs[len(rs)-1].Date)
	count := map[string]int{}
	for _, r := range rs {
		count[r.Channel]++
		if r.Channel == "release" {
			count[r.Kind]++
		}
	}
	require.Equal(t, 264, count["release"])
	require.Equal(t, 201, count["alpha"])
	require.Equal(t, 47, count["emergency"], "release-channel emergencies, as the README counts them")
}

func TestScheduleResamplesWholeYears(t *testing.T) {
	rs, err := TorBrowserReleases()
	require.NoError(t, err)
	end := time.Date(2040, 12, 31, 0, 0, 0, 0, time.UTC)
	a := Schedule(rs, end, rand.New(rand.NewPCG(1, 2)))
	b := Schedule(rs, end, rand.New(rand.NewPCG(1, 2)))
	require.Equal(t, a, b, "the same seed, the same schedule")
	require.Equal(t, rs, a[:len(rs)], "the real releases first, unchanged")
	perYear := map[int]int{}
	for i, r := range a[len(rs):] {
		require.True(t, r.Resampled)
		require.True(t, r.Date.After(rs[len(rs)-1].Date))
		require.False(t, r.Date.After(end))
		if i > 0 {
			require.False(t, r.Date.Before(a[len(rs)+i-1].Date), "in date order")
		}
		perYear[r.Date.Year()]++
	}
	real := map[int]int{}
	for _, r := range rs {
		real[r.Date.Year()]++
	}
	for y := 2027; y <= 2040; y++ {
		n := perYear[y]
		found := false
		for ry := 2014; ry <= 2025; ry++ {
			found = found || real[ry] == n
		}
		require.True(t, found, "%d: %d releases, the count of some real year", y, n)
	}
	short := Schedule(rs, time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC), rand.New(rand.NewPCG(1, 2)))
	require.Less(t, len(short), len(rs))
	require.False(t, short[len(short)-1].Date.After(time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)))
}

func TestScaleSmall(t *testing.T) {
	cfg := DefaultScale(true)
	cfg.Roster, cfg.Witnesses, cfg.Validate = 4, []int{3, 16}, 1
	cfg.DailyFrom = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cfg.Horizons = []int{10, 15}
	res, err := RunScale(context.Background(), cfg, Options{Seed: 3})
	require.NoError(t, err)
	summary, monthly, storage := res.Tables[0], res.Tables[1], res.Tables[2]
	require.Len(t, summary.Rows, 1+3*len(cfg.Witnesses))
	rows := map[[2]string]map[string]float64{}
	for _, row := range summary.Rows {
		m := map[string]float64{}
		for i, c := range summary.Columns[2:] {
			v, err := strconv.ParseFloat(row[i+2], 64)
			require.NoError(t, err)
			m[c.Name] = v
		}
		rows[[2]string{row[0], row[1]}] = m
	}
	ch := rows[[2]string{"chainiac-static", "4"}]
	l3, l16 := rows[[2]string{"log", "3"}], rows[[2]string{"log", "16"}]
	require.Less(t, ch["check_bytes_no_update"], 300.0, "one timestamp")
	require.Greater(t, ch["check_bytes_update"], ch["check_bytes_no_update"])
	require.Greater(t, l16["check_bytes_no_update"], l3["check_bytes_no_update"], "a signature line per witness")
	require.Greater(t, l16["bytes_per_day"], l3["bytes_per_day"])
	require.GreaterOrEqual(t, rows[[2]string{"log-tiles-cold", "3"}]["bytes_per_day"], rows[[2]string{"log-tiles", "3"}]["bytes_per_day"], "a cache saves tiles")
	for _, r := range rows {
		require.Positive(t, r["peak_requests_per_second"])
		require.InDelta(t, r["surge_requests_per_second"], r["peak_requests_per_second"]*24/cfg.PeakFactor, 2)
		require.Positive(t, r["storage_10y_bytes"])
	}
	for _, row := range monthly.Rows {
		u, err := strconv.ParseFloat(row[4], 64)
		require.NoError(t, err)
		require.True(t, u >= 0 && u <= 1, "update share %v", u)
	}
	// storage grows with the years, for each design
	last := map[string]float64{}
	for _, row := range storage.Rows {
		b, err := strconv.ParseFloat(row[6], 64)
		require.NoError(t, err)
		require.GreaterOrEqual(t, b, last[row[3]], "%v", row)
		last[row[3]] = b
	}
	again, err := RunScale(context.Background(), cfg, Options{Seed: 3})
	require.NoError(t, err)
	for i := range res.Tables {
		require.Equal(t, res.Tables[i].Rows, again.Tables[i].Rows, "no measured columns: the same seed, the same rows")
	}
}
