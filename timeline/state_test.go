package timeline

import (
	"testing"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStateFollowsAChain(t *testing.T) {
	f := newFixture(t)
	assert.Equal(t, "tor-browser", f.state.Product())
	assert.True(t, f.state.Policy().Equal(f.policy))

	c := f.apply(f.block(nil, f.release("14.0")))
	assert.Equal(t, KindRelease, c.Kind)
	assert.Equal(t, "14.0", c.Manifest.Version)
	assert.EqualValues(t, 1, f.state.LastRelease())
	assert.True(t, f.state.Released("release", "14.0.0", release.TargetKey{Platform: "linux-x86_64", Locale: "ALL"}))

	// A roster change signed by two developers.
	r1, r2 := f.state.Roster(), f.roster("R2", 7)
	c = f.apply(f.block(r2, f.rosterChange(1, r1, r2, f.devs[1], f.devs[2])))
	assert.Equal(t, r2.ID(), c.Roster.ID())
	assert.Equal(t, r2.ID(), f.state.Roster().ID())
	assert.EqualValues(t, 1, f.state.RosterChanges())

	// A policy change to a 3-of-3 policy.
	next, err := release.NewPolicy(f.policy.Keys(), 3)
	require.NoError(t, err)
	pc, err := release.NewPolicyChange(f.state.ChainID(), 1, f.policy, next)
	require.NoError(t, err)
	require.NoError(t, f.devs[0].SignPolicyChange(pc))
	require.NoError(t, f.devs[2].SignPolicyChange(pc))
	c = f.apply(f.block(nil, pc))
	assert.True(t, c.Policy.Equal(next))
	assert.EqualValues(t, 3, f.state.PolicySince())

	// The next release needs all three developers now.
	two := f.block(nil, f.release("14.0.1"))
	_, err = f.state.Check(two)
	require.ErrorIs(t, err, release.ErrThreshold)
	three := f.block(nil, f.signedManifest(manifest("14.0.1", "release", "linux-x86_64"), f.devs...))
	f.apply(three)

	// Every block carried the pointers of the state before it.
	for _, b := range f.blocks[1:] {
		p, err := ParsePayload(b.Header().PayloadKind(), b.Payload())
		require.NoError(t, err)
		assert.LessOrEqual(t, p.PolicySince, b.Index())
	}
	p, err := ParsePayload(KindRelease, three.Payload())
	require.NoError(t, err)
	assert.EqualValues(t, 3, p.PolicySince)
	assert.EqualValues(t, 1, p.PreviousRelease)

	// Replaying the blocks from the genesis gives the same state.
	replay, err := NewState(f.blocks[0])
	require.NoError(t, err)
	for _, b := range f.blocks[1:] {
		_, err := replay.Apply(b)
		require.NoError(t, err)
	}
	assert.Equal(t, f.state.Head().ID(), replay.Head().ID())
	assert.Equal(t, f.state.Roster().ID(), replay.Roster().ID())
	assert.True(t, f.state.Policy().Equal(replay.Policy()))
	assert.EqualValues(t, 4, replay.LastRelease())
}

func TestStateRefuses(t *testing.T) {
	type setup func(f *fixture) *skipchain.Block
	otherDev, err := release.GenerateDeveloperKey(chaintest.NewReader("outsider"))
	require.NoError(t, err)
	cases := []struct {
		name  string
		block setup
		want  error
		msg   string
	}{
		{"one developer", func(f *fixture) *skipchain.Block {
			return f.block(nil, f.signedManifest(manifest("14.0", "release", "linux-x86_64"), f.devs[0]))
		}, release.ErrThreshold, "1 valid developer signatures of 2"},
		{"one developer signing twice", func(f *fixture) *skipchain.Block {
			sm := f.signedManifest(manifest("14.0", "release", "linux-x86_64"), f.devs[0])
			sm.Signatures = append(sm.Signatures, sm.Signatures[0])
			return f.block(nil, sm)
		}, ErrInvalidPayload, "not in ascending order"},
		{"outsider", func(f *fixture) *skipchain.Block {
			return f.block(nil, f.signedManifest(manifest("14.0", "release", "linux-x86_64"), f.devs[0], otherDev))
		}, release.ErrThreshold, "keys not in policy"},
		{"version already released", func(f *fixture) *skipchain.Block {
			f.apply(f.block(nil, f.release("14.0")))
			return f.block(nil, f.release("14.0.0"))
		}, ErrRefused, "already released"},
		{"other product", func(f *fixture) *skipchain.Block {
			m := manifest("14.0", "release", "linux-x86_64")
			m.Product = "mullvad-browser"
			return f.block(nil, f.signedManifest(m, f.devs[0], f.devs[1]))
		}, ErrRefused, "product"},
		{"release that changes the roster", func(f *fixture) *skipchain.Block {
			return f.block(f.roster("R2", 7), f.release("14.0"))
		}, ErrRefused, "changes the roster"},
		{"roster change with one developer", func(f *fixture) *skipchain.Block {
			r2 := f.roster("R2", 7)
			return f.block(r2, f.rosterChange(1, f.state.Roster(), r2, f.devs[0]))
		}, release.ErrThreshold, "roster change: 1 valid developer signatures of 2"},
		{"roster change replayed at the wrong sequence", func(f *fixture) *skipchain.Block {
			r2 := f.roster("R2", 7)
			return f.block(r2, f.rosterChange(2, f.state.Roster(), r2, f.devs[0], f.devs[1]))
		}, release.ErrChangeMismatch, "expected number 1"},
		{"roster change to another roster than signed", func(f *fixture) *skipchain.Block {
			r2, r3 := f.roster("R2", 7), f.roster("R3", 5)
			return f.block(r3, f.rosterChange(1, f.state.Roster(), r2, f.devs[0], f.devs[1]))
		}, release.ErrChangeMismatch, "not to the proposed roster"},
		{"roster change to the roster in force", func(f *fixture) *skipchain.Block {
			r1 := f.state.Roster()
			rc := f.rosterChange(1, r1, f.roster("R2", 7), f.devs[0], f.devs[1])
			return f.block(r1, rc)
		}, ErrRefused, "roster in force"},
		{"roster change to a low threshold", func(f *fixture) *skipchain.Block {
			weak := lowThresholdRoster(t, 7, 4)
			return f.block(weak, f.rosterChange(1, f.state.Roster(), weak, f.devs[0], f.devs[1]))
		}, ErrRefused, "threshold 4 of 7 members, at least 5"},
		{"policy change at the wrong sequence", func(f *fixture) *skipchain.Block {
			next, err := release.NewPolicy(f.policy.Keys(), 3)
			require.NoError(t, err)
			pc, err := release.NewPolicyChange(f.state.ChainID(), 2, f.policy, next)
			require.NoError(t, err)
			require.NoError(t, f.devs[0].SignPolicyChange(pc))
			require.NoError(t, f.devs[1].SignPolicyChange(pc))
			return f.block(nil, pc)
		}, release.ErrChangeMismatch, "expected number 1"},
		{"wrong policy pointer", func(f *fixture) *skipchain.Block {
			return f.blockWith(func(p *Payload) { p.PolicySince = 1 })
		}, ErrRefused, "points at policy 1"},
		{"wrong release pointer", func(f *fixture) *skipchain.Block {
			f.apply(f.block(nil, f.release("14.0")))
			return f.blockWith(func(p *Payload) { p.PreviousRelease = 0 })
		}, ErrRefused, "release 0, the chain at policy 0 and release 1"},
		{"payload kind that does not match the body", func(f *fixture) *skipchain.Block {
			p, err := f.state.NewPayload(f.release("14.0"))
			require.NoError(t, err)
			b, err := skipchain.NewBlock(f.state.Genesis(), f.back(1), f.state.Roster(), KindPolicyChange, p.Encode())
			require.NoError(t, err)
			return b
		}, ErrInvalidPayload, "policy change"},
		{"unknown payload kind", func(f *fixture) *skipchain.Block {
			p, err := f.state.NewPayload(f.release("14.0"))
			require.NoError(t, err)
			b, err := skipchain.NewBlock(f.state.Genesis(), f.back(1), f.state.Roster(), "chainiac/v1/other", p.Encode())
			require.NoError(t, err)
			return b
		}, ErrInvalidPayload, "unknown payload kind"},
		{"a second genesis", func(f *fixture) *skipchain.Block {
			g, err := NewGenesis(skipchain.DefaultParams(), f.state.Roster(), "tor-browser", f.policy)
			require.NoError(t, err)
			return g
		}, ErrRefused, "does not follow"},
		{"a block of another chain", func(f *fixture) *skipchain.Block {
			other := newFixtureWithProduct(t, "mullvad-browser")
			return other.block(nil, other.release("14.0"))
		}, ErrRefused, "does not follow"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			b := c.block(f)
			before := f.state.Clone()
			_, err := f.state.Check(b)
			require.ErrorIs(t, err, c.want)
			assert.Contains(t, err.Error(), c.msg)
			_, err = f.state.Apply(b)
			require.ErrorIs(t, err, c.want)
			assert.Equal(t, before, f.state, "a refused block changes nothing")
		})
	}
}

// blockWith makes the next release block with its payload envelope altered.
func (f *fixture) blockWith(alter func(*Payload)) *skipchain.Block {
	f.t.Helper()
	p, err := f.state.NewPayload(f.release("99.0"))
	require.NoError(f.t, err)
	alter(p)
	b, err := skipchain.NewBlock(f.state.Genesis(), f.back(uint64(len(f.blocks))), f.state.Roster(), p.Kind, p.Encode())
	require.NoError(f.t, err)
	return b
}

func newFixtureWithProduct(t *testing.T, product string) *fixture {
	f := newFixture(t)
	g, err := NewGenesis(skipchain.DefaultParams(), f.state.Roster(), product, f.policy)
	require.NoError(t, err)
	f.blocks = []*skipchain.Block{g}
	f.state, err = NewState(g)
	require.NoError(t, err)
	return f
}

func lowThresholdRoster(t *testing.T, n, threshold int) *skipchain.Roster {
	members := chaintest.NewSigners(t, "weak", n).Roster.Members()
	r, err := skipchain.NewRoster(members, threshold)
	require.NoError(t, err)
	return r
}

func TestSameVersionForOtherTargets(t *testing.T) {
	// Tor Browser shipped 10.0.5 for desktop and, ten days later, for Android.
	f := newFixture(t)
	f.apply(f.block(nil, f.release("10.0.5", "linux-x86_64", "windows-x86_64")))
	f.apply(f.block(nil, f.release("10.0.5", "android-aarch64")))
	_, err := f.state.Check(f.block(nil, f.release("10.0.5", "android-aarch64", "macos")))
	require.ErrorIs(t, err, ErrRefused)
	// A legacy release below the newest version is new for its channel.
	f.apply(f.block(nil, f.release("15.0")))
	f.apply(f.block(nil, f.release("13.5.26")))
}

func TestCheckRoster(t *testing.T) {
	for n := 1; n <= 10; n++ {
		min := cosi.DefaultThreshold(n)
		require.NoError(t, CheckRoster(lowThresholdRoster(t, n, min)), "n=%d", n)
		if min > 1 {
			require.Error(t, CheckRoster(lowThresholdRoster(t, n, min-1)), "n=%d", n)
		}
	}
	f := newFixture(t)
	_, err := NewGenesis(skipchain.DefaultParams(), lowThresholdRoster(t, 4, 2), "tor-browser", f.policy)
	require.ErrorContains(t, err, "threshold 2 of 4 members, at least 3")
}

func TestNewStateRefusesOtherGenesis(t *testing.T) {
	r := chaintest.NewSigners(t, "R1", 4).Roster
	g, err := skipchain.NewGenesis(skipchain.DefaultParams(), r, "chaintest", []byte("x"))
	require.NoError(t, err)
	_, err = NewState(g)
	require.ErrorIs(t, err, ErrInvalidPayload)
	g, err = skipchain.NewGenesis(skipchain.DefaultParams(), r, KindGenesis, []byte("x"))
	require.NoError(t, err)
	_, err = NewState(g)
	require.ErrorIs(t, err, ErrInvalidPayload)
	f := newFixture(t)
	weak := lowThresholdRoster(t, 4, 2)
	g, err = skipchain.NewGenesis(skipchain.DefaultParams(), weak, KindGenesis, (&Genesis{Product: "p", Policy: f.policy}).Encode())
	require.NoError(t, err)
	_, err = NewState(g)
	require.ErrorIs(t, err, ErrRefused)
}

// Prepare then Commit is Apply without checking the block twice; a Checked commits
// once, to the state that made it, while its head is the one it was checked against.
func TestPrepareCommit(t *testing.T) {
	f := newFixture(t)
	b1 := f.block(nil, f.release("14.0"))
	c, err := f.state.Prepare(b1)
	require.NoError(t, err)
	assert.Equal(t, KindRelease, c.Change().Kind)
	assert.Equal(t, b1, c.Block())
	assert.EqualValues(t, 0, f.state.Head().Index(), "Prepare changes nothing")

	other := f.state.Clone()
	_, err = other.Commit(c)
	require.ErrorIs(t, err, ErrNotPrepared, "another state")
	assert.EqualValues(t, 0, other.Head().Index())

	change, err := f.state.Commit(c)
	require.NoError(t, err)
	assert.Equal(t, "14.0", change.Manifest.Version)
	assert.Equal(t, b1.ID(), f.state.Head().ID())
	assert.EqualValues(t, 1, f.state.LastRelease())
	assert.True(t, f.state.Released("release", "14.0.0", release.TargetKey{Platform: "linux-x86_64", Locale: "ALL"}))
	_, err = f.state.Commit(c)
	require.ErrorIs(t, err, ErrNotPrepared, "committed once")
	f.blocks = append(f.blocks, b1)

	// Prepared before the state moved: stale.
	b2 := f.block(nil, f.release("14.0.1"))
	stale, err := f.state.Prepare(b2)
	require.NoError(t, err)
	f.apply(b2)
	_, err = f.state.Commit(stale)
	require.ErrorIs(t, err, ErrNotPrepared)
	assert.Equal(t, b2.ID(), f.state.Head().ID())
	_, err = f.state.Commit(nil)
	require.ErrorIs(t, err, ErrNotPrepared)

	// A block Prepare refuses gives no Checked.
	_, err = f.state.Prepare(f.block(nil, f.release("14.0.1")))
	require.ErrorIs(t, err, ErrRefused, "the version was released")
}
