package main

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/chainiac/chainiac/internal/onettest"
	"github.com/stretchr/testify/assert"
)

// TestMain runs the tests, or, when the recipe runner starts this test binary as
// `chainiac build reference` (see TestReleaseCheckAfterRebuild), acts as the chainiac
// binary for that one command.
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
	onettest.Main(m)
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
