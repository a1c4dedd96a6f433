package timeline

import (
	"fmt"
	"testing"

	"github.com/chainiac/chainiac/internal/testrand"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
	"github.com/stretchr/testify/require"
)

// fixture is a chain being built block by block, with its developers and rosters.
type fixture struct {
	t       testing.TB
	devs    []*release.Signer
	policy  *release.Policy
	blocks  []*skipchain.Block
	state   *State
	rosters map[string]*skipchain.Roster
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	devs := make([]*release.Signer, 3)
	rnd := testrand.New("timeline developers")
	keys := make([]release.DeveloperKey, len(devs))
	for i := range devs {
		s, err := release.GenerateDeveloperKey(rnd)
		require.NoError(t, err)
		devs[i], keys[i] = s, s.Public()
	}
	policy, err := release.NewPolicy(keys, 2)
	require.NoError(t, err)
	f := &fixture{t: t, devs: devs, policy: policy, rosters: map[string]*skipchain.Roster{}}
	g, err := NewGenesis(skipchain.DefaultParams(), f.roster("R1", 4), "tor-browser", policy)
	require.NoError(t, err)
	f.blocks = []*skipchain.Block{g}
	f.state, err = NewState(g)
	require.NoError(t, err)
	return f
}

func (f *fixture) roster(name string, n int) *skipchain.Roster {
	if r, ok := f.rosters[name]; ok {
		return r
	}
	r := chaintest.NewSigners(f.t, name, n).Roster
	f.rosters[name] = r
	return r
}

// back lists the headers a block at index links back to.
func (f *fixture) back(index uint64) []*skipchain.Header {
	var out []*skipchain.Header
	for _, pos := range f.blocks[0].Header().Params().LinksInto(index) {
		out = append(out, f.blocks[pos.From].Header())
	}
	return out
}

// block makes the next block with body under the given roster (nil: the one in force).
func (f *fixture) block(roster *skipchain.Roster, body any) *skipchain.Block {
	f.t.Helper()
	if roster == nil {
		roster = f.state.Roster()
	}
	b, err := f.state.NewBlock(f.back(uint64(len(f.blocks))), roster, body)
	require.NoError(f.t, err)
	return b
}

// apply applies b and keeps it.
func (f *fixture) apply(b *skipchain.Block) *Change {
	f.t.Helper()
	c, err := f.state.Apply(b)
	require.NoError(f.t, err)
	f.blocks = append(f.blocks, b)
	return c
}

func manifest(version, channel string, platforms ...string) *release.Manifest {
	m := &release.Manifest{
		Product: "tor-browser", Version: version, Channel: channel,
		SourceDateEpoch: 1730419200, Recipe: "reference/v1",
		GitCommit: release.GitCommit{1}, SourceSHA256: release.Hash256{2},
	}
	for i, p := range platforms {
		m.Targets = append(m.Targets, release.Target{
			Platform: p, Locale: "ALL",
			UnsignedSHA256: release.Hash256{byte(i + 1)}, UnsignedSize: 100,
			SignedSHA512: release.Hash512{byte(i + 1)}, SignedSize: 364,
			URL: fmt.Sprintf("https://cdn.test/%s/%s.mar", version, p),
		})
	}
	return m
}

func (f *fixture) signedManifest(m *release.Manifest, signers ...*release.Signer) *release.SignedManifest {
	f.t.Helper()
	sm, err := release.NewSignedManifest(m)
	require.NoError(f.t, err)
	for _, s := range signers {
		require.NoError(f.t, s.SignManifest(sm))
	}
	return sm
}

func (f *fixture) release(version string, platforms ...string) *release.SignedManifest {
	if len(platforms) == 0 {
		platforms = []string{"linux-x86_64"}
	}
	return f.signedManifest(manifest(version, "release", platforms...), f.devs[0], f.devs[1])
}

func (f *fixture) rosterChange(seq uint64, prev, next *skipchain.Roster, signers ...*release.Signer) *release.RosterChange {
	f.t.Helper()
	rc, err := release.NewRosterChange(f.state.ChainID(), seq, release.RosterID(prev.ID()), release.RosterID(next.ID()))
	require.NoError(f.t, err)
	for _, s := range signers {
		require.NoError(f.t, s.SignRosterChange(rc))
	}
	return rc
}
