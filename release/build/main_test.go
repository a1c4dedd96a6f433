package build

import (
	"context"
	"fmt"
	"os"
	"testing"
)

// TestMain lets the test binary stand in for `chainiac build reference`: the
// end-to-end tests run ReferenceRecipe(os.Args[0]) through the runner, which starts
// this binary with the arguments "build reference" in the controlled environment.
// cmd/chainiac tests the real command the same way.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "build" && os.Args[2] == "reference" {
		os.Exit(referenceFromEnvironment())
	}
	os.Exit(m.Run())
}

func referenceFromEnvironment() int {
	p, err := ReferenceParamsFromEnv(os.Getenv)
	if err == nil {
		_, err = BuildReference(context.Background(), ".", "out", p)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
