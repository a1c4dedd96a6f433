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
//
// Other tests start the binary as a child to do one thing in a process of its own
// (another user, a file size limit): os.Args[1] names the mode in childModes.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "build" && os.Args[2] == "reference" {
		os.Exit(referenceFromEnvironment())
	}
	if len(os.Args) >= 2 {
		if mode, ok := childModes[os.Args[1]]; ok {
			os.Exit(mode(os.Args[2:]))
		}
	}
	os.Exit(m.Run())
}

// childModes are filled in by the tests that need them (some only on some systems).
var childModes = map[string]func(args []string) int{}

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
