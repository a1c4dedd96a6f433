package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/require"
)

// runReadme checks README's two set-up commands: the test command is the one CI runs
// (running it here would run this test again), and the demo runs as README shows it
// (`go run ./cmd/chainiac` is this package's binary) and does what README says it
// does.
func runReadme(t *testing.T, c *procCluster) {
	md, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	var cmds []string
	parts := strings.Split(string(md), "```")
	for i := 1; i < len(parts); i += 2 {
		info, body, _ := strings.Cut(parts[i], "\n")
		if strings.TrimSpace(info) != "sh" {
			continue
		}
		for _, line := range logicalLines(body) {
			if cmd, _ := splitComment(line); cmd != "" {
				cmds = append(cmds, cmd)
			}
		}
	}
	require.Equal(t, []string{"go run ./cmd/chainiac demo", "./test.sh"}, cmds, "README keeps exactly two set-up commands")

	ci, err := os.ReadFile("../../.ci/run")
	require.NoError(t, err)
	require.Contains(t, string(ci), "\n./test.sh\n", "CI runs README's test command")
	st, err := os.Stat("../../test.sh")
	require.NoError(t, err)
	require.NotZero(t, st.Mode()&0o100, "test.sh is executable")

	demo := strings.Replace(cmds[0], "go run ./cmd/chainiac", "exec chainiac", 1)
	// README: "a cothority of 7 nodes rebuilds and signs three releases, rotates a
	// node, refuses a tampered release; the updater, knowing only the genesis ID,
	// verifies and downloads the newest MAR".
	script := demo + `
stdout 'block 1 release 1\.0 +signed by [5-7]/7'
stdout 'block 2 release 1\.1 +signed by [5-7]/7'
stdout 'block 3 release 2\.0 +signed by [5-7]/7'
stdout 'block 4 chainiac/v1/roster-change +signed by [5-7]/7'
stdout 'tampered release 3\.1: refused by 7 nodes'
stdout 'express: release 3\.0 \(block 5\) .* verified'
stdout 'links: release 3\.0 \(block 5\) .* verified'
stdout '^done in '
`
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "readme.txtar"), []byte(script), 0o644))
	testscript.Run(t, c.scriptParams(t, testscript.Params{Dir: dir}))
}
