package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chainiacLine finds command lines in the docs: "chainiac ..." at the start of a code
// line (after an optional prompt), up to a comment, a pipe or the end.
var chainiacLine = regexp.MustCompile(`(?m)^\s*(?:\$ )?(?:go run \./cmd/)?chainiac ([^#|\n]*)`)

// The README and the guides name only commands and flags that exist: every command
// line in their code blocks resolves to a runnable command, and every --flag on it is
// one of that command's flags. (Continuation lines ending in \ are joined.)
func TestDocsNameRealCommands(t *testing.T) {
	files, err := filepath.Glob("../../docs/*.md")
	require.NoError(t, err)
	files = append(files, "../../README.md")
	root := newRootCmd()
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, block := range codeBlocks(string(b)) {
			for _, m := range chainiacLine.FindAllStringSubmatch(block, -1) {
				line := strings.TrimSpace(m[1])
				args := strings.Fields(line)
				cmd, rest, err := root.Find(args)
				if !assert.NoError(t, err, "%s: chainiac %s", f, line) {
					continue
				}
				assert.True(t, cmd.Runnable() && !cmd.HasSubCommands() || len(rest) == 0 && cmd == root,
					"%s: `chainiac %s` names no command (got %s)", f, line, cmd.CommandPath())
				for _, a := range rest {
					if name, ok := strings.CutPrefix(a, "--"); ok && name != "" {
						name, _, _ = strings.Cut(name, "=")
						assert.NotNil(t, lookupFlag(cmd, name), "%s: `%s` has no flag --%s", f, cmd.CommandPath(), name)
					}
				}
				checked++
			}
		}
	}
	assert.Greater(t, checked, 40, "the docs show many commands")
}

func lookupFlag(cmd *cobra.Command, name string) any {
	if name == "help" || name == "version" {
		return true
	}
	if f := cmd.Flags().Lookup(name); f != nil {
		return f
	}
	if f := cmd.InheritedFlags().Lookup(name); f != nil {
		return f
	}
	return nil
}

// codeBlocks returns the fenced code blocks of a markdown text, continuation lines
// joined.
func codeBlocks(md string) []string {
	var out []string
	parts := strings.Split(md, "```")
	for i := 1; i < len(parts); i += 2 {
		out = append(out, strings.ReplaceAll(parts[i], "\\\n", " "))
	}
	return out
}
