package node

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// deviantBuild makes a node build in an environment that differs: its recipe adds a
// file to the source before running the reference builder, so its MARs differ.
func deviantBuild(t *testing.T) func(*Config) {
	exe, err := os.Executable()
	require.NoError(t, err)
	return func(c *Config) {
		c.Reference = false
		c.Recipes = []RecipeConfig{{
			Name:      ReferenceRecipeName,
			Command:   []string{"sh", "-c", `echo locally patched >> common/README.txt && exec "$0" build reference`, exe},
			TimeLimit: Duration{time.Minute}, OutputGlob: "out/*/*.mar", MaxOutputBytes: 1 << 30, MaxLogBytes: 1 << 20,
		}}
	}
}

func refusalsOf(res *api.ProposalResult) map[int]string {
	out := map[int]string{}
	for _, r := range res.Rounds {
		for _, ref := range r.Refusals {
			out[ref.Member] = ref.Reason
		}
	}
	return out
}

// One node whose build differs refuses with its reason, which reaches the proposer;
// the block is still made, by the threshold of the others.
func TestDeviantNodeRefusesAndBlockIsStillSigned(t *testing.T) {
	c := newCluster(t, 3)
	c.addNode(deviantBuild(t))
	c.createChain(0, 0, 1, 2, 3)
	code, res := c.propose(1, releaseProposal(c.release("1.0", false)))
	require.Equal(t, http.StatusOK, code, "%+v", res)
	require.True(t, res.Accepted)
	refusals := refusalsOf(res)
	require.Contains(t, refusals, 3, "the deviant node's refusal reached the proposer: %+v", res)
	assert.Contains(t, refusals[3], "rebuild check: target linux-x86_64/en-US: unsigned size")
	assert.Len(t, refusals, 1)
	// The deviant node still stores the block signed by the others.
	c.waitHeads(1)
}

// A tampered release (a signed MAR its source does not build) is refused by every
// node, each with the rebuild's reason; nothing is stored, and the chain goes on.
func TestTamperedReleaseRefusedByAll(t *testing.T) {
	c := newCluster(t, 4)
	c.createChain(0, 0, 1, 2, 3)
	code, res := c.propose(2, releaseProposal(c.release("1.0", true)))
	require.Equal(t, http.StatusUnprocessableEntity, code, "%+v", res)
	require.False(t, res.Accepted)
	refusals := refusalsOf(res)
	require.Len(t, refusals, 4, "every node's refusal reached the proposer: %+v", res)
	for m, reason := range refusals {
		assert.Contains(t, reason, "rebuild check: target linux-x86_64/en-US: unsigned size", "member %d", m)
	}
	for i := range c.nodes {
		assert.EqualValues(t, 0, c.head(i).Index(), "node %d stored nothing", i)
	}
	// The refusals are signed: each verifies offline against the roster.
	g, err := c.nodes[0].chainOf(c.genesis).store.Genesis()
	require.NoError(t, err)
	verifyRefusals(t, g.Roster(), res)

	code, res = c.propose(2, releaseProposal(c.release("1.1", false)))
	require.Equal(t, http.StatusOK, code, "%+v", res)
	c.waitHeads(1)
}

// With more than f nodes refusing, no block is made and the proposer sees every reason.
func TestTooManyRefusals(t *testing.T) {
	c := newCluster(t, 2)
	c.addNode(deviantBuild(t))
	c.addNode(deviantBuild(t))
	c.createChain(0, 0, 1, 2, 3)
	code, res := c.propose(0, releaseProposal(c.release("1.0", false)))
	require.Equal(t, http.StatusUnprocessableEntity, code, "%+v", res)
	require.False(t, res.Accepted)
	refusals := refusalsOf(res)
	require.Len(t, refusals, 2, "%+v", res)
	for _, m := range []int{2, 3} {
		assert.Contains(t, refusals[m], "rebuild check")
	}
	for i := range c.nodes {
		assert.EqualValues(t, 0, c.head(i).Index())
	}
}

// A node stopped during two proposals, restarted, catches up at the next round and
// serves the same blocks.
func TestStoppedNodeCatchesUp(t *testing.T) {
	c := newCluster(t, 4)
	c.createChain(0, 0, 1, 2, 3)
	c.stop(3)
	for _, v := range []string{"1.0", "1.1"} {
		code, res := c.propose(0, releaseProposal(c.release(v, false)))
		require.Equal(t, http.StatusOK, code, "%+v", res)
	}
	c.start(3)
	code, res := c.propose(1, releaseProposal(c.release("1.2", false)))
	require.Equal(t, http.StatusOK, code, "%+v", res)
	c.waitHeads(3)
	for i := uint64(0); i <= 3; i++ {
		want, err := servedBlock(c.nodes[0].chainOf(c.genesis), i)
		require.NoError(t, err)
		got, err := servedBlock(c.nodes[3].chainOf(c.genesis), i)
		require.NoError(t, err)
		assert.Equal(t, want.Block.Encode(), got.Block.Encode(), "block %d", i)
	}
}

// A roster change: node 3 rotates out, node 4 in; the new roster signs what follows.
func TestRosterChange(t *testing.T) {
	c := newCluster(t, 5)
	c.createChain(0, 0, 1, 2, 3)
	code, res := c.propose(0, releaseProposal(c.release("1.0", false)))
	require.Equal(t, http.StatusOK, code, "%+v", res)

	old, next := c.roster(0, 1, 2, 3), c.roster(0, 1, 2, 4)
	rc, err := release.NewRosterChange(release.ChainID(c.genesis), 1, release.RosterID(old.ID()), release.RosterID(next.ID()))
	require.NoError(t, err)
	for _, d := range c.devs[:2] {
		require.NoError(t, d.SignRosterChange(rc))
	}
	code, res = c.propose(1, &api.Proposal{Kind: timeline.KindRosterChange, Body: rc.Encode(), Roster: next.Encode()})
	require.Equal(t, http.StatusOK, code, "%+v", res)
	require.EqualValues(t, 2, res.Index)
	// Node 4 joined with nothing and caught up through the timestamp round.
	require.EqualValues(t, 2, c.head(4).Index())

	code, res = c.propose(4, releaseProposal(c.release("1.1", false)))
	require.Equal(t, http.StatusOK, code, "%+v", res)
	b, err := c.nodes[4].chainOf(c.genesis).store.Block(3)
	require.NoError(t, err)
	assert.Equal(t, next.ID(), b.Roster().ID())
	l, err := c.nodes[4].chainOf(c.genesis).store.Link(2, 0)
	require.NoError(t, err)
	require.NoError(t, next.Verify(l.SignedMessage(), l.Signature()), "the new roster signed the link after the change")

	// A roster change to a roster whose threshold is below n − ⌊(n−1)/3⌋ is refused.
	weak, err := skipchain.NewRoster(next.Members(), 2)
	require.NoError(t, err)
	rc2, err := release.NewRosterChange(release.ChainID(c.genesis), 2, release.RosterID(next.ID()), release.RosterID(weak.ID()))
	require.NoError(t, err)
	for _, d := range c.devs[:2] {
		require.NoError(t, d.SignRosterChange(rc2))
	}
	code, res = c.propose(0, &api.Proposal{Kind: timeline.KindRosterChange, Body: rc2.Encode(), Roster: weak.Encode()})
	require.Equal(t, http.StatusUnprocessableEntity, code, "%+v", res)
	assert.Contains(t, res.Error, "threshold 2 of 4 members, at least 3")
}

// Bad input is refused with a clear error and changes nothing.
func TestBadProposals(t *testing.T) {
	c := newCluster(t, 4)
	c.createChain(0, 0, 1, 2, 3)
	good := c.release("1.0", false)
	oneDev := *good.Signed
	oneDev.Signatures = oneDev.Signatures[:1]
	wrongSource := *releaseProposal(good)
	wrongSource.Source = strings.Replace(good.SourceURL, "1.0", "missing", 1)
	otherSource := c.release("1.1", false)
	swapped := *releaseProposal(good)
	swapped.Source = otherSource.SourceURL
	fileSource := *releaseProposal(good)
	fileSource.Source = "file:///etc/passwd"

	cases := []struct {
		name string
		body []byte
		path string
		code int
		want string
	}{
		{"garbage", []byte("not a proposal"), "", http.StatusBadRequest, "proposal"},
		{"truncated", releaseProposal(good).Encode()[:100], "", http.StatusBadRequest, "proposal"},
		{"oversized", make([]byte, api.MaxProposalSize+1), "", http.StatusRequestEntityTooLarge, "body over"},
		{"one developer signature", (&api.Proposal{Kind: timeline.KindRelease, Body: oneDev.Encode(), Source: good.SourceURL}).Encode(), "", http.StatusUnprocessableEntity, "1 valid developer signatures of 2"},
		{"unknown chain", releaseProposal(good).Encode(), api.Proposals(skipchain.ID{1}), http.StatusNotFound, "unknown chain"},
		{"source whose hash does not match", swapped.Encode(), "", http.StatusUnprocessableEntity, "source sha-256 is"},
		{"source that does not exist", wrongSource.Encode(), "", http.StatusUnprocessableEntity, "404"},
		{"local source", fileSource.Encode(), "", http.StatusUnprocessableEntity, "want an http or https URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = api.Proposals(c.genesis)
			}
			code, res := post(t, c.url(0)+path, tc.body)
			require.Equal(t, tc.code, code, "%+v", res)
			all := res.Error
			for _, r := range res.Rounds {
				all += " " + r.Error
				for _, ref := range r.Refusals {
					all += " " + ref.Reason
				}
			}
			assert.Contains(t, all, tc.want)
			for i := range c.nodes {
				assert.EqualValues(t, 0, c.head(i).Index())
			}
		})
	}
	// An old version: after 1.0 is in, 1.0 again is refused.
	code, res := c.propose(0, releaseProposal(good))
	require.Equal(t, http.StatusOK, code, "%+v", res)
	code, res = c.propose(0, releaseProposal(good))
	require.Equal(t, http.StatusUnprocessableEntity, code)
	assert.Contains(t, res.Error, "already released")
}

// Concurrent proposals to one node are serialised: both become blocks, one after the
// other.
func TestConcurrentProposalsAtOneNode(t *testing.T) {
	c := newCluster(t, 4)
	c.createChain(0, 0, 1, 2, 3)
	props := []*api.Proposal{releaseProposal(c.release("1.0", false)), releaseProposal(c.release("1.1", false))}
	type outcome struct {
		code int
		res  *api.ProposalResult
	}
	out := make(chan outcome, len(props))
	for _, p := range props {
		go func() {
			code, res := c.propose(0, p)
			out <- outcome{code, res}
		}()
	}
	indices := map[uint64]bool{}
	for range props {
		o := <-out
		require.Equal(t, http.StatusOK, o.code, "%+v", o.res)
		indices[o.res.Index] = true
	}
	require.Equal(t, map[uint64]bool{1: true, 2: true}, indices)
	c.waitHeads(2)
}

// A developer policy change: the nodes derive its sequence number from the chain, and
// the releases after it need the new policy's threshold.
func TestPolicyChange(t *testing.T) {
	c := newCluster(t, 4)
	c.createChain(0, 0, 1, 2, 3)
	next, err := release.NewPolicy(c.policy.Keys(), 3)
	require.NoError(t, err)
	replayed, err := release.NewPolicyChange(release.ChainID(c.genesis), 2, c.policy, next)
	require.NoError(t, err)
	pc, err := release.NewPolicyChange(release.ChainID(c.genesis), 1, c.policy, next)
	require.NoError(t, err)
	for _, d := range c.devs[:2] {
		require.NoError(t, d.SignPolicyChange(replayed))
		require.NoError(t, d.SignPolicyChange(pc))
	}
	code, res := c.propose(0, &api.Proposal{Kind: timeline.KindPolicyChange, Body: replayed.Encode()})
	require.Equal(t, http.StatusUnprocessableEntity, code, "%+v", res)
	assert.Contains(t, res.Error, "expected number 1")
	code, res = c.propose(0, &api.Proposal{Kind: timeline.KindPolicyChange, Body: pc.Encode()})
	require.Equal(t, http.StatusOK, code, "%+v", res)

	// Two developers are no longer enough.
	code, res = c.propose(1, releaseProposal(c.release("1.0", false)))
	require.Equal(t, http.StatusUnprocessableEntity, code, "%+v", res)
	assert.Contains(t, res.Error, "2 valid developer signatures of 3")
	r := c.release("1.1", false)
	require.NoError(t, c.devs[2].SignManifest(r.Signed))
	code, res = c.propose(1, releaseProposal(r))
	require.Equal(t, http.StatusOK, code, "%+v", res)
	c.waitHeads(2)
}
