package main

import (
	"bytes"
	"testing"

	"github.com/chainiac/chainiac/internal/onettest"
	"github.com/stretchr/testify/assert"
)

func TestMain(m *testing.M) { onettest.Main(m) }

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
