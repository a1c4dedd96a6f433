// Package onettest holds what every test package that runs onet servers needs: a
// TestMain that keeps onet quiet unless DEBUG_LVL asks otherwise and checks for leaked
// goroutines after the tests.
package onettest

import (
	"os"
	"testing"

	"go.dedis.ch/onet/v3/log"
)

// Main runs the tests with onet's goroutine-leak check. pprof's profile writer is
// exempt, so that -cpuprofile works.
func Main(m *testing.M) {
	log.AddUserUninterestingGoroutine("runtime/pprof.profileWriter")
	if os.Getenv("DEBUG_LVL") == "" {
		log.MainTest(m, 0)
		return
	}
	log.MainTest(m)
}
