package onettest

import (
	"fmt"
	"os"
	"testing"

	"github.com/chainiac/chainiac/internal/localnet"
	"go.dedis.ch/onet/v3/log"
)

// Main runs the tests with onet's goroutine-leak check and exits with their status.
// pprof's profile writer is exempt, so that -cpuprofile works.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit, for a TestMain that has its own clean-up to do after
// the tests: it returns the exit status (onet's leak check still exits the process
// itself when goroutines leaked).
func Run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "chainiac-onet-db-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := localnet.Register(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	log.AddUserUninterestingGoroutine("runtime/pprof.profileWriter")
	if os.Getenv("DEBUG_LVL") == "" {
		log.SetDebugVisible(0)
	}
	code := m.Run()
	if code == 0 {
		log.AfterTest(nil) // exits the process if goroutines leaked
	}
	return code
}
