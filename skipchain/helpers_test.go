package skipchain_test

import (
	"sync"
	"testing"

	"github.com/chainiac/chainiac/skipchain/chaintest"
)

// Signing and verifying dominate test time under -race, so each script is built
// once per test binary and shared; tests never modify a Chain.
var (
	chainsMu sync.Mutex
	chains   = map[string]*chaintest.Chain{}
)

func buildChain(t testing.TB, script string) *chaintest.Chain {
	t.Helper()
	chainsMu.Lock()
	defer chainsMu.Unlock()
	if c, ok := chains[script]; ok {
		return c
	}
	c := chaintest.Build(t, script)
	chains[script] = c
	return c
}

// Scripts shared by several tests.
const (
	// linear: one roster, every link present.
	scriptLinear = "roster R1 4; genesis; blocks 1..20"
	// rosterChanges: two roster changes, the second at a block with many links in.
	scriptRosterChanges = "roster R1 4; genesis; blocks 1..5; roster R2 5; b6; blocks 7..11; roster R3 4; b12; blocks 13..17; fork b4"
)
