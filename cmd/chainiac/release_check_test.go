package main

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/build"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var checkTargets = []release.TargetKey{{Platform: "linux-x86_64", Locale: "de"}, {Platform: "windows-x86_64", Locale: "en-US"}}

// teamRelease is what the release team publishes, made with the CLI only: the
// reference MARs, their signed copies and a manifest naming both.
type teamRelease struct {
	dir, unsigned, signed, manifest string
}

func newTeamRelease(t *testing.T, channel string) *teamRelease {
	clearReferenceEnv(t)
	r := &teamRelease{dir: t.TempDir()}
	r.unsigned, r.signed, r.manifest = filepath.Join(r.dir, "unsigned"), filepath.Join(r.dir, "signed"), filepath.Join(r.dir, "manifest.bin")
	_, err := runCLI(t, "build", "reference", "--src", referenceSrc, "--output", r.unsigned,
		"--product", "demo-browser", "--version", "1.0", "--channel", channel,
		"--targets", "linux-x86_64/de,windows-x86_64/en-US", "--source-date-epoch", "1730419200")
	require.NoError(t, err)
	for _, k := range checkTargets {
		require.NoError(t, os.MkdirAll(filepath.Join(r.signed, k.Platform), 0o755))
		_, err := runCLI(t, "mar", "sign", "--key", marTestdata+"key2048-pkcs8.pem", r.path("unsigned", k), "-o", r.path("signed", k))
		require.NoError(t, err)
	}
	if channel == "release" {
		r.writeManifest(t)
	}
	return r
}

func (r *teamRelease) path(kind string, k release.TargetKey) string {
	return filepath.Join(r.dir, kind, k.Platform, k.Locale+".mar")
}

// writeManifest names the release's files as they are now.
func (r *teamRelease) writeManifest(t *testing.T) {
	digest, err := build.TreeDigest(referenceSrc, build.DefaultLimits())
	require.NoError(t, err)
	args := []string{"release", "manifest", "--product", "demo-browser", "--version", "1.0", "--channel", "release",
		"--source-date-epoch", "1730419200", "--recipe", build.ReferenceRecipeName,
		"--git-commit", strings.Repeat("ab", 20), "--source-sha256", digest.String(), "-o", r.manifest}
	for _, k := range checkTargets {
		args = append(args, "--target", k.Platform+","+k.Locale+","+r.path("unsigned", k)+","+r.path("signed", k)+
			",https://dist.example.org/"+k.Platform+"/"+k.Locale+".mar")
	}
	_, err = runCLI(t, args...)
	require.NoError(t, err)
}

// writeManifestUnchecked writes the manifest the CLI would refuse to write (for
// files no node would sign), so that release check's own refusal is tested.
func (r *teamRelease) writeManifestUnchecked(t *testing.T) {
	digest, err := build.TreeDigest(referenceSrc, build.DefaultLimits())
	require.NoError(t, err)
	m := release.Manifest{Product: "demo-browser", Version: "1.0", Channel: "release", SourceDateEpoch: 1730419200,
		Recipe: build.ReferenceRecipeName, SourceSHA256: digest}
	require.NoError(t, m.GitCommit.UnmarshalText([]byte(strings.Repeat("ab", 20))))
	for _, k := range checkTargets {
		u, s := mustRead(t, r.path("unsigned", k)), mustRead(t, r.path("signed", k))
		m.Targets = append(m.Targets, release.Target{Platform: k.Platform, Locale: k.Locale,
			UnsignedSHA256: sha256.Sum256(u), UnsignedSize: uint64(len(u)),
			SignedSHA512: sha512.Sum512(s), SignedSize: uint64(len(s)),
			URL: "https://dist.example.org/" + k.Platform + "/" + k.Locale + ".mar"})
	}
	require.NoError(t, os.WriteFile(r.manifest, m.Encode(), 0o644))
}

// rebuildAsNode rebuilds the manifest's release the way a node does: the recipe
// runner fetches the source, checks its digest and runs `chainiac build reference`
// (this test binary, see TestMain).
func rebuildAsNode(t *testing.T, manifest string) string {
	m, err := release.ParseManifest(mustRead(t, manifest))
	require.NoError(t, err)
	exe, err := os.Executable()
	require.NoError(t, err)
	runner, err := build.NewRunner(build.Config{WorkDir: t.TempDir()})
	require.NoError(t, err)
	res, err := runner.Run(context.Background(), build.ReferenceRecipe(exe), m, referenceSrc)
	require.NoError(t, err)
	t.Cleanup(func() { res.Close() })
	return filepath.Join(res.BuildDir, "out")
}

// The release team's MARs, made on one machine, and a node's rebuild through the
// runner agree; release check passes.
func TestReleaseCheckAfterRebuild(t *testing.T) {
	r := newTeamRelease(t, "release")
	rebuilt := rebuildAsNode(t, r.manifest)
	out, err := runCLI(t, "release", "check", "--manifest", r.manifest, "--rebuilt", rebuilt, "--signed", r.signed)
	require.NoError(t, err)
	assert.Regexp(t, `^ok: demo-browser 1.0 \(manifest [0-9a-f]{64}\): 2 targets rebuilt identically; `, out)

	// The team's own unsigned MARs are what the node rebuilt.
	_, err = runCLI(t, "release", "check", "--manifest", r.manifest, "--rebuilt", r.unsigned, "--signed", r.signed)
	require.NoError(t, err)
}

func TestReleaseCheckRefuses(t *testing.T) {
	honest := newTeamRelease(t, "release")
	rebuilt := rebuildAsNode(t, honest.manifest)
	nightly := newTeamRelease(t, "nightly")
	nightly.writeManifestUnchecked(t)
	k := checkTargets[1]

	cases := []struct {
		name   string
		break_ func(t *testing.T, r *teamRelease)
		want   string
	}{
		{"signed MAR of another channel", func(t *testing.T, r *teamRelease) {
			require.NoError(t, os.WriteFile(r.path("signed", k), mustRead(t, nightly.path("signed", k)), 0o644))
			r.writeManifestUnchecked(t)
		}, `target windows-x86_64/en-US: signed product information: signed MAR has channel "nightly", the manifest says "release"`},
		{"unsigned MAR shipped as signed", func(t *testing.T, r *teamRelease) {
			require.NoError(t, os.WriteFile(r.path("signed", k), mustRead(t, r.path("unsigned", k)), 0o644))
			r.writeManifestUnchecked(t)
		}, "target windows-x86_64/en-US: signature block: signed MAR has no signature"},
		{"signed MAR replaced after the manifest", func(t *testing.T, r *teamRelease) {
			require.NoError(t, os.WriteFile(r.path("signed", k), mustRead(t, nightly.path("signed", k)), 0o644))
		}, "target windows-x86_64/en-US: signed sha-512: "},
		{"missing signed MAR", func(t *testing.T, r *teamRelease) {
			require.NoError(t, os.Remove(r.path("signed", k)))
		}, "target windows-x86_64/en-US: missing target: no signed MAR"},
		{"extra signed MAR", func(t *testing.T, r *teamRelease) {
			require.NoError(t, os.MkdirAll(filepath.Join(r.signed, "macos"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(r.signed, "macos", "de.mar"), []byte("MAR1"), 0o644))
		}, "target macos/de: extra target"},
		{"misnamed file", func(t *testing.T, r *teamRelease) {
			require.NoError(t, os.WriteFile(filepath.Join(r.signed, "linux-x86_64", "de (copy).mar"), nil, 0o644))
		}, "release check: --signed: build: find MARs: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newTeamRelease(t, "release")
			c.break_(t, r)
			_, err := runCLI(t, "release", "check", "--manifest", r.manifest, "--rebuilt", rebuilt, "--signed", r.signed)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}

	_, err := runCLI(t, "release", "check", "--manifest", honest.manifest, "--rebuilt", rebuilt)
	require.ErrorContains(t, err, `required flag(s) "signed" not set`)
}

// release manifest refuses what no node would sign, before anyone signs it.
func TestReleaseManifestRefuses(t *testing.T) {
	nightly := newTeamRelease(t, "nightly")
	k := checkTargets[1]
	cases := []struct {
		name   string
		break_ func(r *teamRelease)
		want   string
	}{
		{"signed MAR of another channel", func(r *teamRelease) {
			require.NoError(t, os.WriteFile(r.path("signed", k), mustRead(t, nightly.path("signed", k)), 0o644))
		}, `signed MAR has channel "nightly", the manifest says "release"`},
		{"unsigned MAR shipped as signed", func(r *teamRelease) {
			require.NoError(t, os.WriteFile(r.path("signed", k), mustRead(t, r.path("unsigned", k)), 0o644))
		}, "signed MAR has no signature"},
		{"signed MAR given as unsigned", func(r *teamRelease) {
			require.NoError(t, os.WriteFile(r.path("unsigned", k), mustRead(t, r.path("signed", k)), 0o644))
		}, "no node would sign this release"},
		{"one file for two targets", func(r *teamRelease) {
			other := checkTargets[0]
			require.NoError(t, os.WriteFile(r.path("signed", k), mustRead(t, r.path("signed", other)), 0o644))
			require.NoError(t, os.WriteFile(r.path("unsigned", k), mustRead(t, r.path("unsigned", other)), 0o644))
		}, "are the same file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newTeamRelease(t, "release")
			c.break_(r)
			digest, err := build.TreeDigest(referenceSrc, build.DefaultLimits())
			require.NoError(t, err)
			_, err = runCLI(t, "release", "manifest", "--product", "demo-browser", "--version", "1.0", "--channel", "release",
				"--source-date-epoch", "1730419200", "--recipe", build.ReferenceRecipeName,
				"--git-commit", strings.Repeat("ab", 20), "--source-sha256", digest.String(), "-o", filepath.Join(t.TempDir(), "m.bin"),
				"--unsigned", r.unsigned, "--signed", r.signed, "--base-url", "https://dist.example.org/1.0")
			require.ErrorContains(t, err, c.want)
		})
	}
	// The directory form of an honest release gives the same manifest as --target.
	r := newTeamRelease(t, "release")
	digest, err := build.TreeDigest(referenceSrc, build.DefaultLimits())
	require.NoError(t, err)
	fromDirs := filepath.Join(t.TempDir(), "m.bin")
	_, err = runCLI(t, "release", "manifest", "--product", "demo-browser", "--version", "1.0", "--channel", "release",
		"--source-date-epoch", "1730419200", "--recipe", build.ReferenceRecipeName,
		"--git-commit", strings.Repeat("ab", 20), "--source-sha256", digest.String(), "-o", fromDirs,
		"--unsigned", r.unsigned, "--signed", r.signed, "--base-url", "https://dist.example.org")
	require.NoError(t, err)
	assert.Equal(t, mustRead(t, r.manifest), mustRead(t, fromDirs))
}

// release rebuild runs a node's whole check: the honest release passes, and one whose
// signed MAR is of another channel is refused with exit status 3.
func TestReleaseRebuild(t *testing.T) {
	r := newTeamRelease(t, "release")
	out, err := runCLI(t, "release", "rebuild", "--manifest", r.manifest, "--source", referenceSrc, "--signed", r.signed)
	require.NoError(t, err)
	assert.Contains(t, out, "ok: demo-browser 1.0 rebuilt")

	nightly := newTeamRelease(t, "nightly")
	k := checkTargets[1]
	require.NoError(t, os.WriteFile(r.path("signed", k), mustRead(t, nightly.path("signed", k)), 0o644))
	r.writeManifestUnchecked(t)
	_, err = runCLI(t, "release", "rebuild", "--manifest", r.manifest, "--source", referenceSrc, "--signed", r.signed)
	require.ErrorContains(t, err, `signed MAR has channel "nightly"`)
	assert.Equal(t, exitRejected, exitCode(err))

	_, err = runCLI(t, "release", "rebuild", "--manifest", r.manifest, "--source", t.TempDir(), "--signed", r.signed)
	require.Error(t, err, "another source tree does not hash to the manifest's digest")
}

// With --policy, release rebuild checks the developer signatures as every node does:
// "ok" only when the release rebuilds and a threshold of policy keys signed; each
// signature that does not count is named. Without it, it says they were not checked.
func TestReleaseRebuildChecksSignatures(t *testing.T) {
	r := newTeamRelease(t, "release")
	var keys, pubs []string
	for i := range 4 {
		k := filepath.Join(r.dir, fmt.Sprintf("dev%d.key", i))
		out, err := runCLI(t, "release", "keygen", "-o", k)
		require.NoError(t, err)
		keys, pubs = append(keys, k), append(pubs, strings.TrimSpace(out))
	}
	policy := filepath.Join(r.dir, "policy.toml")
	_, err := runCLI(t, "release", "policy", "--threshold", "2", "-o", policy, keys[0], keys[1], keys[2])
	require.NoError(t, err)
	signed := filepath.Join(r.dir, "signed.bin")
	for _, k := range []string{keys[0], keys[3]} { // one policy key and an outsider
		from := r.manifest
		if k != keys[0] {
			from = signed
		}
		_, err = runCLI(t, "release", "sign", "--key", k, from, "-o", signed)
		require.NoError(t, err)
	}
	rebuild := func(extra ...string) (string, error) {
		return runCLI(t, append([]string{"release", "rebuild", "--manifest", signed, "--source", referenceSrc, "--signed", r.signed}, extra...)...)
	}

	out, err := rebuild()
	require.NoError(t, err)
	assert.Contains(t, out, "ok: demo-browser 1.0 rebuilt")
	assert.Contains(t, out, "developer signatures not checked: give --policy")

	out, err = rebuild("--policy", policy)
	require.ErrorIs(t, err, release.ErrThreshold)
	assert.Equal(t, exitRejected, exitCode(err))
	assert.Contains(t, err.Error(), "1 valid developer signatures of 2 needed")
	assert.Contains(t, out, "rebuilt: demo-browser 1.0 rebuilt", "the rebuild passed")
	assert.NotContains(t, out, "ok:")
	assert.Contains(t, out, "developer signatures: 1 of the 3 policy keys signed validly, 2 needed\n")
	assert.Contains(t, out, "does not count: "+pubs[3]+" is not a key of the policy")

	out, err = rebuild("--policy", policy, "--json")
	require.Error(t, err)
	var rep rebuildReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.False(t, rep.OK)
	assert.True(t, rep.Rebuilt)
	assert.True(t, rep.SignaturesChecked)
	assert.Equal(t, 2, rep.Threshold)
	require.NotNil(t, rep.Signatures)
	require.Len(t, rep.Signatures.Valid, 1)
	assert.Equal(t, pubs[0], rep.Signatures.Valid[0].String())
	require.Len(t, rep.Signatures.Unknown, 1)
	assert.Equal(t, pubs[3], rep.Signatures.Unknown[0].String())
	assert.Empty(t, rep.Signatures.Invalid)
	assert.Contains(t, rep.Error, "1 valid developer signatures of 2 needed")

	_, err = runCLI(t, "release", "sign", "--key", keys[1], signed, "-o", signed)
	require.NoError(t, err)
	m, err := release.ParseManifest(mustRead(t, r.manifest))
	require.NoError(t, err)
	out, err = rebuild("--policy", policy)
	require.NoError(t, err)
	assert.Contains(t, out, "ok: demo-browser 1.0 rebuilt")
	assert.Contains(t, out, "developer signatures: 2 of the 3 policy keys signed validly, 2 needed: every node with this policy accepts them")

	out, err = rebuild("--policy", policy, "--json")
	require.NoError(t, err)
	rep = rebuildReport{}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.True(t, rep.OK)
	assert.Equal(t, m.Hash().String(), rep.ManifestHash)
	assert.Equal(t, []string{"linux-x86_64/de", "windows-x86_64/en-US"}, rep.Targets)
	assert.Equal(t, "release", rep.Channel)
	assert.True(t, rep.LocalFiles)
	assert.Len(t, rep.Signatures.Valid, 2)
	assert.Empty(t, rep.Error)
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &raw))
	assert.Equal(t, []any{}, raw["signatures"].(map[string]any)["invalid"], "empty lists, not null")

	// An unsigned manifest under --policy: nothing signed it.
	_, err = runCLI(t, "release", "rebuild", "--manifest", r.manifest, "--source", referenceSrc, "--signed", r.signed, "--policy", policy)
	require.ErrorContains(t, err, "an unsigned manifest: have developers sign it")
	assert.Equal(t, exitRejected, exitCode(err))
}

// release check --json reports the same shape; a failed check is ok=false with its
// reason, and exit status 3.
func TestReleaseCheckJSON(t *testing.T) {
	r := newTeamRelease(t, "release")
	rebuilt := rebuildAsNode(t, r.manifest)
	out, err := runCLI(t, "release", "check", "--manifest", r.manifest, "--rebuilt", rebuilt, "--signed", r.signed, "--json")
	require.NoError(t, err)
	var rep rebuildReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	m, err := release.ParseManifest(mustRead(t, r.manifest))
	require.NoError(t, err)
	assert.True(t, rep.OK)
	assert.True(t, rep.Rebuilt)
	assert.Equal(t, m.Hash().String(), rep.ManifestHash)
	assert.Equal(t, "demo-browser", rep.Product)
	assert.Equal(t, "1.0", rep.Version)
	assert.Len(t, rep.Targets, 2)
	assert.False(t, rep.SignaturesChecked)
	assert.Nil(t, rep.Signatures)

	// The unsigned MARs given as the rebuild of the signed ones' directory: refused.
	out, err = runCLI(t, "release", "check", "--manifest", r.manifest, "--rebuilt", r.signed, "--signed", r.signed, "--json")
	require.Error(t, err)
	assert.Equal(t, exitRejected, exitCode(err))
	rep = rebuildReport{}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.False(t, rep.OK)
	assert.False(t, rep.Rebuilt)
	assert.NotEmpty(t, rep.Error)
	assert.Equal(t, m.Hash().String(), rep.ManifestHash)
}
