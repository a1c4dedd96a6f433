package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/demo"
	"github.com/chainiac/chainiac/timeline"
)

// TestDemo runs `chainiac demo --json` (7 nodes and a spare, in this process) and
// checks what each step must have shown, not only that it ended well.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cothority of 8 nodes")
	}
	out, err := runCLI(t, "demo", "--json", "--dir", t.TempDir())
	require.NoError(t, err)
	var s demo.Summary
	require.NoError(t, json.Unmarshal([]byte(out), &s), out)

	require.Len(t, s.Nodes, 8)
	require.Len(t, s.Blocks, 5, "three releases, the rotation, one release after it")
	for _, b := range s.Blocks {
		assert.GreaterOrEqual(t, b.Signers, 5, "block %d: at least the threshold of 7", b.Index)
		assert.Equal(t, 7, b.Members)
	}
	rotation, after := s.Blocks[3], s.Blocks[4]
	assert.Equal(t, timeline.KindRosterChange, rotation.Kind)
	assert.NotContains(t, rotation.SignedBy, 7, "the link into the change is the old roster's")
	assert.Equal(t, "3.0", after.Version)
	assert.NotContains(t, after.SignedBy, 6, "node 6 left the roster")
	assert.Subset(t, []int{0, 1, 2, 3, 4, 5, 7}, after.SignedBy, "blocks after the rotation are signed by the new roster")

	assert.False(t, s.Tampered.Accepted)
	require.Len(t, s.Tampered.Refusals, 7, "every member refuses the tampered release")
	for _, r := range s.Tampered.Refusals {
		assert.Contains(t, r.Reason, "rebuild of demo-browser 3.1", "node %d", r.Node)
		assert.True(t, strings.Contains(r.Reason, "rebuild check"), "node %d refused for its rebuild: %s", r.Node, r.Reason)
	}

	require.Len(t, s.Updaters, 3)
	before, express, links := s.Updaters[0], s.Updaters[1], s.Updaters[2]
	assert.Equal(t, "2.0", before.Version)
	assert.Equal(t, 1, before.SignatureChecks, "express catch-up over three releases: one signature")
	assert.Equal(t, 2, express.SignatureChecks, "one hop to the roster change, then the timestamp")
	assert.Equal(t, "3.0", express.Version)
	assert.Equal(t, "3.0", links.Version)
	assert.Equal(t, express.SHA512, links.SHA512, "both updaters verified the same newest MAR")
	assert.Equal(t, links.Hops+1, links.SignatureChecks)
	assert.Len(t, s.Steps, 7)
}
