package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSimulateCosiCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rounds.csv")
	out, err := runCLI(t, "simulate", "cosi", "--nodes", "8", "--rounds", "3", "--csv", path)
	require.NoError(t, err)
	require.Contains(t, out, "round 1 (warm-up)")
	require.Contains(t, out, "measured rounds: 3")
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"nodes", "round", "seconds", "cpu_seconds", "bytes", "tree", "aggregation", "crashed", "silent"}, rows[0])
	require.Len(t, rows, 4, "header and the measured rounds, without the warm-up")
	require.Equal(t, []string{"8", "2"}, rows[1][:2])
	require.Equal(t, []string{"two-level:3", "optimistic", "0", "0"}, rows[1][5:])
	sent, err := strconv.Atoi(rows[1][4])
	require.NoError(t, err)
	require.Positive(t, sent, "bytes sent in a round")
}

// --compare runs every variant on the same servers, with the floor; with f failing
// members every other member must sign (the root stops at the threshold, n − f).
func TestSimulateCosiCompare(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	out, err := runCLI(t, "simulate", "cosi", "--nodes", "8", "--rounds", "2", "--compare", "--quick", "--output", dir)
	require.NoError(t, err)
	for _, v := range []string{"checked aggregation", "optimistic aggregation", "flat tree", "binary tree", "2 silent", "2 crashed"} {
		require.Contains(t, out, v)
	}
	header, rows := readCSV(t, filepath.Join(dir, "cosi.csv"))
	require.Equal(t, []string{"nodes", "round", "seconds"}, header[:3])
	require.Len(t, rows, 7*2, "seven variants, two measured rounds each")
	failing := 0
	for _, r := range rows {
		signers, err := strconv.Atoi(r["signers"])
		require.NoError(t, err)
		require.GreaterOrEqual(t, signers, 6, "%v", r)
		if r["crashed"] != "0" || r["silent"] != "0" {
			failing++
			require.Equal(t, 6, signers, "%v", r)
		}
	}
	require.Equal(t, 3*2, failing, "silent, and crashed with both aggregations")
	_, floor := readCSV(t, filepath.Join(dir, "cosi-floor.csv"))
	require.Len(t, floor, 2, "one floor before the rounds, one after")
	md, err := os.ReadFile(filepath.Join(dir, "cosi.md"))
	require.NoError(t, err)
	require.Contains(t, string(md), "× floor")
}

func TestSimulateCosiRejectsBadFlags(t *testing.T) {
	_, err := runCLI(t, "simulate", "cosi", "--nodes", "1")
	require.ErrorContains(t, err, "nodes")
}

// onet's databases go to a fresh private directory, never to a predictable name in a
// shared temporary directory that another user could have made (or linked) first.
func TestSimulateDatabaseDirIsFresh(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	planted := t.TempDir()
	require.NoError(t, os.Symlink(planted, filepath.Join(tmp, fmt.Sprintf("chainiac-onet-%d", os.Getpid()))))
	dir, err := setUpOnet()
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	st, err := os.Lstat(dir)
	require.NoError(t, err)
	require.True(t, st.IsDir(), "a real directory, not a planted symlink")
	require.Equal(t, os.FileMode(0o700), st.Mode().Perm())
	entries, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Len(t, entries, 2, "the planted link and the fresh directory")
}

// A CSV path that cannot be written is refused before the simulation runs.
func TestSimulateCSVPathCheckedFirst(t *testing.T) {
	_, err := runCLI(t, "simulate", "cosi", "--nodes", "4", "--rounds", "1", "--csv", filepath.Join(t.TempDir(), "missing", "out.csv"))
	require.ErrorContains(t, err, "no directory")
	require.Equal(t, exitUsage, exitCode(err))
	_, err = runCLI(t, "simulate", "cosi", "--nodes", "4", "--rounds", "1", "--csv", t.TempDir())
	require.ErrorContains(t, err, "is a directory")
}

// --output writes cosi.csv (nodes,round,seconds first), the figure and the summary,
// one size after another.
func TestSimulateCosiOutput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	out, err := runCLI(t, "simulate", "cosi", "--nodes", "4,6", "--rounds", "2", "--output", dir)
	require.NoError(t, err)
	require.Contains(t, out, "cosi: 6 nodes")
	for _, name := range []string{"cosi.csv", "cosi-latency.png", "cosi-latency.svg", "cosi.md"} {
		require.FileExists(t, filepath.Join(dir, name))
	}
	f, err := os.Open(filepath.Join(dir, "cosi.csv"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"nodes", "round", "seconds"}, rows[0][:3])
	require.Len(t, rows, 5)
	md, err := os.ReadFile(filepath.Join(dir, "cosi.md"))
	require.NoError(t, err)
	require.Contains(t, string(md), "chainiac simulate cosi --nodes 4,6 --rounds 2 --output "+dir)
}

func TestSimulateOutputMustBeADirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err := runCLI(t, "simulate", "cosi", "--nodes", "4", "--rounds", "1", "--output", file)
	require.ErrorContains(t, err, "not a directory")
	require.Equal(t, exitUsage, exitCode(err))
}

// readCSV returns a CSV's header and its rows as maps by column.
func readCSV(t *testing.T, path string) ([]string, []map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, c := range rows[0] {
			m[c] = r[i]
		}
		out = append(out, m)
	}
	return rows[0], out
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, s)
	return v
}

// The CI runs of the catchup and scale scenarios: their CSV headers, and rows that
// are present and plausible.
func TestSimulateCatchupAndScaleQuick(t *testing.T) {
	dir := t.TempDir()
	out, err := runCLI(t, "simulate", "catchup", "--quick", "--output", dir)
	require.NoError(t, err)
	require.Contains(t, out, "catchup: ")
	header, rows := readCSV(t, filepath.Join(dir, "catchup.csv"))
	require.Equal(t, []string{"design", "k", "witnesses", "hops", "bytes", "verify_seconds", "round_trips"}, header)
	_, costs := readCSV(t, filepath.Join(dir, "catchup-costs.csv"))
	require.Len(t, costs, len(rows))
	by := map[string]map[string]string{}
	for i, r := range rows {
		by[r["design"]+"/"+r["k"]+"/"+r["witnesses"]] = r
		require.Equal(t, r["design"]+r["k"]+r["witnesses"], costs[i]["design"]+costs[i]["k"]+costs[i]["witnesses"])
		if r["design"] == "express" {
			require.Equal(t, "1", costs[i]["signature_checks"], "express: one signature at every k")
		}
		if r["design"] == "linear" {
			require.Equal(t, r["k"], costs[i]["signature_checks"])
		}
		require.Positive(t, num(t, r["verify_seconds"]), "%v", r)
		require.GreaterOrEqual(t, num(t, r["round_trips"]), 3.0)
		require.Positive(t, num(t, r["bytes"]))
	}
	for _, w := range []string{"3", "16", "128"} {
		for _, d := range []string{"log", "log-tiles"} {
			require.Greater(t, num(t, by[d+"/1000/"+w]["bytes"]), num(t, by[d+"/1/"+w]["bytes"]), "%s %s: proofs grow with log k", d, w)
		}
	}
	require.Greater(t, num(t, by["log/1000/128"]["bytes"]), num(t, by["log/1000/16"]["bytes"]), "a signature line per witness")
	require.Greater(t, num(t, by["links/1000/16"]["hops"]), num(t, by["links/1/16"]["hops"]))
	require.Greater(t, num(t, by["linear/1000/16"]["bytes"]), 100*num(t, by["express/1000/16"]["bytes"]))
	for _, name := range []string{"catchup-bytes.png", "catchup-bytes.svg", "catchup-verify.png", "catchup-verify.svg", "catchup.md"} {
		require.FileExists(t, filepath.Join(dir, name))
	}

	_, err = runCLI(t, "simulate", "scale", "--quick", "--output", dir)
	require.NoError(t, err)
	header, rows = readCSV(t, filepath.Join(dir, "scale-summary.csv"))
	require.Equal(t, []string{"design", "witnesses", "check_bytes_no_update", "check_bytes_update", "bytes_per_day",
		"bytes_per_day_max", "peak_requests_per_second", "surge_requests_per_second", "storage_10y_bytes", "storage_10y_files"}, header)
	require.Len(t, rows, 10)
	by = map[string]map[string]string{}
	for _, r := range rows {
		by[r["design"]+"/"+r["witnesses"]] = r
		require.Greater(t, num(t, r["check_bytes_update"]), num(t, r["check_bytes_no_update"]))
		require.Positive(t, num(t, r["peak_requests_per_second"]))
		require.Positive(t, num(t, r["storage_10y_bytes"]))
	}
	ch := by["chainiac-static/16"]
	require.Less(t, num(t, ch["check_bytes_no_update"]), num(t, by["log/3"]["check_bytes_no_update"]), "one aggregate signature against 4 note signatures")
	require.Less(t, num(t, by["log/3"]["bytes_per_day"]), num(t, by["log/16"]["bytes_per_day"]))
	require.Less(t, num(t, by["log/16"]["bytes_per_day"]), num(t, by["log/128"]["bytes_per_day"]))
	_, monthly := readCSV(t, filepath.Join(dir, "scale-monthly.csv"))
	require.NotEmpty(t, monthly)
	_, storage := readCSV(t, filepath.Join(dir, "scale-storage.csv"))
	require.NotEmpty(t, storage)
	md, err := os.ReadFile(filepath.Join(dir, "scale.md"))
	require.NoError(t, err)
	require.Contains(t, string(md), "chainiac simulate scale --seed 1 --quick --output "+dir)
}

func TestSimulateScenariosNeedOutput(t *testing.T) {
	for _, sc := range []string{"catchup", "scale", "attacks", "all"} {
		_, err := runCLI(t, "simulate", sc, "--quick")
		require.ErrorContains(t, err, "output", sc)
	}
}
