package node

import (
	"context"
	"fmt"
	"os"
	"testing"

	"go.dedis.ch/onet/v3/log"

	"github.com/chainiac/chainiac/release/build"
)

// TestMain registers onet's names once, keeps onet quiet, and doubles as the
// reference builder: nodes under test run this binary as `build reference`.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "build" && os.Args[2] == "reference" {
		os.Exit(referenceFromEnvironment())
	}
	dir, err := os.MkdirTemp("", "chainiac-node-onet-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("CONODE_SERVICE_PATH", dir)
	if err := Register(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if os.Getenv("DEBUG_LVL") == "" {
		log.SetDebugVisible(0)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func referenceFromEnvironment() int {
	p, err := build.ReferenceParamsFromEnv(os.Getenv)
	if err == nil {
		_, err = build.BuildReference(context.Background(), ".", "out", p)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
