package simulation

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWriteResult(t *testing.T) {
	tab := &Table{Name: "demo", Doc: "one row per x", Columns: []Column{
		{Name: "x", Doc: "the input"}, {Name: "seconds", Doc: "time taken", Measured: true}}}
	tab.Add(1, 0.5)
	tab.Add(10, Fixed{2.25, 3})
	r := &Result{Scenario: "demo", Title: "A demo", Command: "chainiac simulate demo --output out", Tables: []*Table{tab},
		Figures: []*Figure{{Name: "demo-time", Title: "Time", Caption: "Time against x, log-log.", LogX: true, LogY: true,
			Series: []Series{{Label: "a", Points: []Point{{1, 0.5}, {10, 2.25}, {100, 0}}}}}},
		Findings: []string{"x = 10 takes 2.25 s"}, Limits: []string{"nothing real"}}
	dir := t.TempDir()
	require.NoError(t, WriteResult(dir, r))
	for _, name := range r.Files() {
		require.FileExists(t, filepath.Join(dir, name))
	}
	f, err := os.Open(filepath.Join(dir, "demo.csv"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Equal(t, [][]string{{"x", "seconds"}, {"1", "0.5"}, {"10", "2.250"}}, rows)
	png, err := os.ReadFile(filepath.Join(dir, "demo-time.png"))
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(png, []byte("\x89PNG")))
	svg, err := os.ReadFile(filepath.Join(dir, "demo-time.svg"))
	require.NoError(t, err)
	require.Contains(t, string(svg), "<svg")
	md, err := os.ReadFile(filepath.Join(dir, "demo.md"))
	require.NoError(t, err)
	for _, want := range []string{"# A demo", "chainiac simulate demo --output out", "![Time](demo-time.png)",
		"Time against x, log-log.", "`x,seconds`", "| `seconds` | time taken (measured", "x = 10 takes 2.25 s", "nothing real"} {
		require.Contains(t, string(md), want)
	}
	require.NoError(t, WriteReport(dir, "chainiac simulate all --output out", []*Result{r}))
	rep, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	require.Contains(t, string(rep), "[A demo](#a-demo)")
	require.Contains(t, string(rep), "## A demo")
}

func TestLogTicks(t *testing.T) {
	var labels []string
	for _, tk := range (logTicks{}).Ticks(0.009, 0.03) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	require.Equal(t, []string{"0.01", "0.02"}, labels)
	labels = nil
	for _, tk := range (logTicks{}).Ticks(1, 2e6) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	require.Equal(t, []string{"1", "10", "100", "1000", "10000", "10^5", "10^6"}, labels)
}
