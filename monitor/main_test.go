package monitor_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/chainiac/chainiac/release/build"
)

// TestMain lets the test binary stand in for `chainiac build reference`, the
// reference recipe a rebuild runs (build.ReferenceRecipe(os.Executable())), and
// run the monitor of BenchmarkVerifyChain in a process of its own.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "build" && os.Args[2] == "reference" {
		p, err := build.ReferenceParamsFromEnv(os.Getenv)
		if err == nil {
			_, err = build.BuildReference(context.Background(), ".", "out", p)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if arg := os.Getenv(benchChildEnv); arg != "" {
		if err := benchChild(arg); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
