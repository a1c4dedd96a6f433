package timeline

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chainiac/chainiac/internal/golden"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain/chaintest"
	"github.com/stretchr/testify/require"
)

// TestGoldenVectors pins the bytes of this package's encodings: the genesis payload,
// a release block's payload and header, a roster-change statement and a signed
// timestamp, all from fixed keys. A change needs a new domain tag version, not an
// -update.
func TestGoldenVectors(t *testing.T) {
	f := newFixture(t)
	g := f.blocks[0]
	rel := f.block(nil, f.release("14.0"))
	f.apply(rel)
	r2 := f.roster("R2", 7)
	rc := f.rosterChange(1, f.state.Roster(), r2, f.devs[0], f.devs[1])
	s1 := chaintest.NewSigners(t, "R1", 4)
	ts := NewTimestamp(rel.Header(), time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	ts.Signature = s1.Sign(t, ts.Message(), 3)

	var b strings.Builder
	line := func(name string, v []byte) { fmt.Fprintf(&b, "%s %s\n", name, hex.EncodeToString(v)) }
	fmt.Fprintf(&b, "# timeline known answers (see docs/wire-format.md, Timeline payloads and timestamps)\n")
	fmt.Fprintf(&b, "genesis-id %s\n", g.ID())
	line("genesis-payload", g.Payload())
	fmt.Fprintf(&b, "release-kind %s\n", rel.Header().PayloadKind())
	line("release-payload", rel.Payload())
	line("release-header", rel.Header().Encode())
	fmt.Fprintf(&b, "release-id %s\n", rel.ID())
	line("roster-change-statement", rc.Statement)
	line("signed-roster-change", rc.Encode())
	line("timestamp-message", ts.Message())
	line("signed-timestamp", ts.Encode())
	golden.File(t, filepath.Join("testdata", "vectors.txt"), []byte(b.String()))

	// The stored bytes decode to what they encode.
	_, err := ParseGenesis(g.Payload())
	require.NoError(t, err)
	parsed, err := ParseTimestamp(ts.Encode())
	require.NoError(t, err)
	require.NoError(t, parsed.Verify(s1.Roster))
	require.NoError(t, f.policy.VerifyRosterChange(rc, f.state.ChainID(), 1, release.RosterID(f.state.Roster().ID()), release.RosterID(r2.ID())))
}
