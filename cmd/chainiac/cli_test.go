package main

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/cobra"

	"github.com/chainiac/chainiac/internal/onettest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain runs the tests, or, when the recipe runner starts this test binary as
// `chainiac build reference` (see TestReleaseCheckAfterRebuild), acts as the chainiac
// binary for that one command. The transcripts (transcript_test.go) run the same
// binary as their `chainiac` command: testscript.Main puts a copy named chainiac on
// PATH and runs main when it is started under that name. The chainiac binary built
// for the multi-process tests (chainiacBinary) is removed after the tests.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "build" && os.Args[2] == "reference" {
		root := newRootCmd()
		root.SetArgs(os.Args[1:])
		if err := root.Execute(); err != nil {
			fmt.Fprintln(os.Stderr, "chainiac:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	testscript.Main(testRun{m}, map[string]func(){"chainiac": main})
}

// testRun is the test run that testscript.Main starts when this binary is not a
// transcript's chainiac.
type testRun struct{ m *testing.M }

func (r testRun) Run() int {
	code := onettest.Run(r.m)
	removeBinary()
	return code
}

// runCLI runs the chainiac command tree in-process and returns what it printed.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.Execute()
	if err != nil {
		assert.NotContains(t, err.Error(), "\n", "errors are one line")
	}
	return out.String(), err
}

// A group without its subcommand, or with a mistyped one, is an error: a script must
// never take `chainiac release verfy` for a passed verification.
func TestGroupsRefuseMissingAndUnknownSubcommands(t *testing.T) {
	for _, group := range []string{"build", "chain", "mar", "node", "release", "simulate"} {
		t.Run(group, func(t *testing.T) {
			_, err := runCLI(t, group, "verfy", "file")
			require.ErrorContains(t, err, `unknown command "verfy" for "chainiac `+group+`"`)
			_, err = runCLI(t, group)
			require.ErrorContains(t, err, "missing subcommand")
			out, err := runCLI(t, group, "--help")
			require.NoError(t, err, "help is still a success")
			assert.Contains(t, out, "Available Commands")
		})
	}
}

func TestVersion(t *testing.T) {
	out, err := runCLI(t, "--version")
	require.NoError(t, err)
	assert.Contains(t, out, "chainiac version ")
	assert.Contains(t, out, "go1.")
}

// Every command a user can run shows an example in its --help.
func TestEveryCommandHasAnExample(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Runnable() && !c.HasSubCommands() && !c.Hidden && c.Name() != "help" && c.Name() != "completion" && c.HasParent() {
			assert.NotEmpty(t, c.Example, "%s has no example", c.CommandPath())
		}
	}
	walk(newRootCmd())
}
