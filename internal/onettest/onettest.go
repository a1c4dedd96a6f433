package onettest

import (
	"fmt"
	"os"
	"testing"

	"github.com/chainiac/chainiac/internal/localnet"
	"go.dedis.ch/onet/v3/log"
)

// Main runs the tests with onet's goroutine-leak check. pprof's profile writer is
// exempt, so that -cpuprofile works.
func Main(m *testing.M) {
	dir, err := os.MkdirTemp("", "chainiac-onet-db-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := localnet.Register(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log.AddUserUninterestingGoroutine("runtime/pprof.profileWriter")
	if os.Getenv("DEBUG_LVL") == "" {
		log.SetDebugVisible(0)
	}
	code := m.Run()
	if code == 0 {
		log.AfterTest(nil) // exits the process if goroutines leaked
	}
	os.RemoveAll(dir)
	os.Exit(code)
}
