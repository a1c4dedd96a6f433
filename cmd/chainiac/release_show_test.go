package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
)

// showGroup writes a group file of n nodes made by `node setup` and returns it with
// its roster.
func showGroup(t *testing.T, dir, name string, firstPort, n int) (string, *skipchain.Roster) {
	t.Helper()
	var group strings.Builder
	for i := range n {
		entry, err := runCLI(t, "node", "setup", "--address", fmt.Sprintf("127.0.0.1:%d", firstPort+2*i),
			"--http", "127.0.0.1:0", "--dir", filepath.Join(dir, fmt.Sprintf("%s-node%d", name, i)))
		require.NoError(t, err)
		group.WriteString(entry)
	}
	path := filepath.Join(dir, name+".toml")
	require.NoError(t, os.WriteFile(path, []byte(group.String()), 0o644))
	r, err := skipchain.ParseRosterTOML([]byte(group.String()))
	require.NoError(t, err)
	return path, r
}

// A developer asked to sign a roster change sees the chain, the sequence number and
// both rosters, with their members and thresholds when the group files are given.
func TestReleaseShowRosterChange(t *testing.T) {
	f := newReleaseFixture(t)
	oldGroup, oldRoster := showGroup(t, f.dir, "old", 17000, 4)
	newGroup, newRoster := showGroup(t, f.dir, "new", 17100, 3)
	_, otherRoster := showGroup(t, f.dir, "other", 17200, 1)
	chain := release.ChainID{0x3f, 0x1c, 0xe2}
	rc, err := release.NewRosterChange(chain, 2, release.RosterID(oldRoster.ID()), release.RosterID(newRoster.ID()))
	require.NoError(t, err)
	change := filepath.Join(f.dir, "roster-change.bin")
	require.NoError(t, os.WriteFile(change, rc.Encode(), 0o644))
	_, err = runCLI(t, "release", "sign", "--key", f.keys[1], change, "-o", change)
	require.NoError(t, err)

	out, err := runCLI(t, "release", "show", change)
	require.NoError(t, err)
	assert.Contains(t, out, "roster change 2 of chain "+chain.String())
	assert.Contains(t, out, "previous roster "+oldRoster.ID().String())
	assert.Contains(t, out, "next roster     "+newRoster.ID().String())
	assert.Contains(t, out, "members not shown: give its group file with --roster")
	assert.Contains(t, out, "signatures (not verified; use roster propose): 1\n  "+f.pubs[1])

	out, err = runCLI(t, "release", "show", "--roster", newGroup, "--roster", oldGroup, change)
	require.NoError(t, err)
	assert.Contains(t, out, "4 members, threshold 3")
	assert.Contains(t, out, fmt.Sprintf("3 members, threshold %d", newRoster.Threshold()))
	for _, m := range newRoster.Members() {
		assert.Contains(t, out, m.Address+"  key "+m.Key.String())
	}
	assert.NotContains(t, out, "members not shown")

	out, err = runCLI(t, "release", "show", "--json", "--roster", newGroup, change)
	require.NoError(t, err)
	var shown showOutput
	require.NoError(t, json.Unmarshal([]byte(out), &shown))
	assert.Equal(t, "roster_change", shown.Kind)
	assert.True(t, shown.Signed)
	require.Len(t, shown.Signatures, 1)
	assert.Equal(t, f.pubs[1], shown.Signatures[0].Key.String())
	assert.Nil(t, shown.Manifest)
	require.NotNil(t, shown.RosterChange)
	got := shown.RosterChange
	assert.Equal(t, chain, got.Genesis)
	assert.EqualValues(t, 2, got.Sequence)
	assert.Equal(t, release.RosterID(oldRoster.ID()), got.Previous.ID)
	assert.Empty(t, got.Previous.Members, "its group file was not given")
	assert.Equal(t, release.RosterID(newRoster.ID()), got.Next.ID)
	assert.Equal(t, newRoster.Threshold(), got.Next.Threshold)
	require.Len(t, got.Next.Members, 3)
	for i, m := range newRoster.Members() {
		assert.Equal(t, memberJSON{Address: m.Address, Key: m.Key.String()}, got.Next.Members[i])
	}
	// The raw field names, as scripts see them.
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(out), &raw))
	var rawChange map[string]any
	require.NoError(t, json.Unmarshal(raw["roster_change"], &rawChange))
	assert.Equal(t, chain.String(), rawChange["genesis"])
	assert.Contains(t, rawChange, "next_roster")

	// A group file the change does not name is refused: it is not what is signed.
	other := filepath.Join(f.dir, "other.toml")
	_, err = runCLI(t, "release", "show", "--roster", other, change)
	require.ErrorIs(t, err, errRefused)
	assert.Equal(t, exitRejected, exitCode(err))
	assert.Contains(t, err.Error(), "is roster "+otherRoster.ID().String())
	_, err = runCLI(t, "release", "show", "--policy", f.writePolicy(t, 1), change)
	assert.Equal(t, exitUsage, exitCode(err))
}

// A developer asked to sign a policy change sees the new policy's keys and threshold,
// the policy it replaces, and, given the policy in force, which keys change.
func TestReleaseShowPolicyChange(t *testing.T) {
	f := newReleaseFixture(t)
	oldFile := f.writePolicy(t, 2)
	old, err := readPolicy(oldFile)
	require.NoError(t, err)
	newFile := filepath.Join(f.dir, "policy-2.toml")
	_, err = runCLI(t, "release", "policy", "--threshold", "1", "-o", newFile, f.keys[0], f.keys[1])
	require.NoError(t, err)
	next, err := readPolicy(newFile)
	require.NoError(t, err)
	chain := release.ChainID{0xa0, 0x01}
	pc, err := release.NewPolicyChange(chain, 1, old, next)
	require.NoError(t, err)
	change := filepath.Join(f.dir, "policy-change.bin")
	require.NoError(t, os.WriteFile(change, pc.Encode(), 0o644))
	for _, k := range f.keys[:2] {
		_, err = runCLI(t, "release", "sign", "--key", k, change, "-o", change)
		require.NoError(t, err)
	}

	out, err := runCLI(t, "release", "show", change)
	require.NoError(t, err)
	assert.Contains(t, out, "policy change 1 of chain "+chain.String())
	assert.Contains(t, out, "previous policy "+old.Hash().String())
	assert.Contains(t, out, "keys not shown: give the policy in force with --policy")
	assert.Contains(t, out, "next policy     "+next.Hash().String()+"\n    1 of 2 keys")
	for _, k := range f.pubs[:2] {
		assert.Contains(t, out, "key "+k+"\n")
	}
	assert.Contains(t, out, "signatures (not verified; use policy propose): 2")

	out, err = runCLI(t, "release", "show", "--policy", oldFile, change)
	require.NoError(t, err)
	assert.Contains(t, out, "2 of 3 keys")
	assert.Contains(t, out, "key "+f.pubs[2]+"  (removed)")
	assert.NotContains(t, out, "(added)")

	out, err = runCLI(t, "release", "show", "--json", "--policy", oldFile, change)
	require.NoError(t, err)
	var shown showOutput
	require.NoError(t, json.Unmarshal([]byte(out), &shown))
	assert.Equal(t, "policy_change", shown.Kind)
	require.NotNil(t, shown.PolicyChange)
	got := shown.PolicyChange
	assert.Equal(t, chain, got.Genesis)
	assert.EqualValues(t, 1, got.Sequence)
	assert.Equal(t, policyJSON{Hash: old.Hash(), Threshold: 2, Keys: old.Keys()}, got.Previous)
	assert.Equal(t, policyJSON{Hash: next.Hash(), Threshold: 1, Keys: next.Keys()}, got.Next)
	assert.Len(t, shown.Signatures, 2)

	// Shown against a policy it does not replace: refused.
	_, err = runCLI(t, "release", "show", "--policy", newFile, change)
	require.ErrorIs(t, err, errRefused)
	assert.Contains(t, err.Error(), "the change replaces policy "+old.Hash().String())
}

// The manifest's JSON keeps its shape, with kind added.
func TestReleaseShowManifestJSON(t *testing.T) {
	f := newReleaseFixture(t)
	_, err := runCLI(t, f.manifestArgs()...)
	require.NoError(t, err)
	m, err := release.ParseManifest(mustRead(t, f.manifest))
	require.NoError(t, err)
	out, err := runCLI(t, "release", "show", "--json", f.manifest)
	require.NoError(t, err)
	var raw struct {
		Kind       string            `json:"kind"`
		Signed     bool              `json:"signed"`
		Signatures []json.RawMessage `json:"signatures"`
		Manifest   map[string]any    `json:"manifest"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &raw))
	assert.Equal(t, "manifest", raw.Kind)
	assert.False(t, raw.Signed)
	assert.NotNil(t, raw.Signatures, "an empty list, not null")
	assert.Empty(t, raw.Signatures)
	assert.Equal(t, m.Hash().String(), raw.Manifest["hash"])
	assert.NotContains(t, out, "roster_change")
	_, err = runCLI(t, "release", "show", "--roster", f.manifest, f.manifest)
	assert.Equal(t, exitUsage, exitCode(err))
}
