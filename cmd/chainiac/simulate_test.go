package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
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
	require.Equal(t, []string{"nodes", "round", "seconds"}, rows[0])
	require.Len(t, rows, 4, "header and the measured rounds, without the warm-up")
	require.Equal(t, []string{"8", "2"}, rows[1][:2])
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
