package simulation

import (
	"context"
	"strconv"
	"testing"

	"github.com/chainiac/chainiac/cosi"
	"github.com/stretchr/testify/require"
)

func TestAttacksModel(t *testing.T) {
	cfg := DefaultAttacks(true)
	cfg.Colluding = []float64{0, 0.5, 0.67, 0.7, 1}
	res, err := RunAttacks(context.Background(), cfg, Options{Seed: 5})
	require.NoError(t, err)
	tab := res.Tables[0]
	require.Len(t, tab.Rows, 3*4*len(cfg.Colluding))
	type row struct {
		colluders, refused      int
		accepted, silent, found float64
	}
	rows := map[[3]string]row{}
	for _, r := range tab.Rows {
		var x row
		x.colluders, _ = strconv.Atoi(r[3])
		x.refused, _ = strconv.Atoi(r[5])
		x.accepted, _ = strconv.ParseFloat(r[6], 64)
		x.silent, _ = strconv.ParseFloat(r[7], 64)
		x.found, _ = strconv.ParseFloat(r[8], 64)
		rows[[3]string{r[0], r[1], r[2]}] = x
	}
	threshold := cosi.DefaultThreshold(cfg.Roster)
	for _, f := range cfg.Colluding {
		fs := cell(Fixed{f, 2})
		for _, attack := range []string{attackSplit, attackRollback} {
			ch := rows[[3]string{attack, designChainiacModel, fs}]
			if ch.colluders < threshold {
				require.Equal(t, 1, ch.refused, "%s at %s: honest members refuse", attack, fs)
				require.Zero(t, ch.accepted)
			} else {
				require.Positive(t, ch.accepted, "%s at %s: a colluding threshold signs anything", attack, fs)
			}
			for _, d := range []string{designLogPlain, designLogWitnessed, designLogFull} {
				require.Equal(t, 1.0, rows[[3]string{attack, d, fs}].accepted, "%s, %s at %s: a log takes what the release key signed", attack, d, fs)
			}
			require.Equal(t, -1.0, rows[[3]string{attack, designLogPlain, fs}].found, "no one looks")
			require.Equal(t, -1.0, rows[[3]string{attack, designLogWitnessed, fs}].found, "witnesses alone notice nothing")
		}
		require.Equal(t, 1.0, rows[[3]string{attackFreeze, designLogPlain, fs}].accepted, "notes carry no time")
	}
	require.Equal(t, cfg.MonitorDelay, rows[[3]string{attackSplit, designLogFull, "0.00"}].found, "a public entry, found by the monitors")
	fr := rows[[3]string{attackFreeze, designChainiacModel, "0.00"}]
	require.Zero(t, fr.accepted)
	require.InDelta(t, 1.5, fr.silent, 0.1, "each client notices at its first check after a day")
	require.Equal(t, 1.0, rows[[3]string{attackFreeze, designLogWitnessed, "0.70"}].accepted, "11 of 16 witnesses cosign the stale checkpoint")
	again, err := RunAttacks(context.Background(), cfg, Options{Seed: 5})
	require.NoError(t, err)
	require.Equal(t, tab.Rows, again.Tables[0].Rows)
}
