package main

import (
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"

	"bytes"
	"encoding/json"
	"github.com/chainiac/chainiac/api"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/build"
)

func TestReleasePolicy(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.key"), filepath.Join(dir, "b.key")
	pubA, err := runCLI(t, "release", "keygen", "-o", a)
	require.NoError(t, err)
	pubB, err := runCLI(t, "release", "keygen", "-o", b)
	require.NoError(t, err)
	out := filepath.Join(dir, "policy.toml")
	// A key file and a public key in hex name keys alike.
	_, err = runCLI(t, "release", "policy", "--threshold", "2", "-o", out, a, strings.TrimSpace(pubB))
	require.NoError(t, err)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	p, err := release.ParsePolicyFile(data)
	require.NoError(t, err)
	assert.Equal(t, 2, p.Threshold())
	var ka, kb release.DeveloperKey
	require.NoError(t, ka.UnmarshalText([]byte(strings.TrimSpace(pubA))))
	require.NoError(t, kb.UnmarshalText([]byte(strings.TrimSpace(pubB))))
	assert.True(t, p.Contains(ka) && p.Contains(kb))

	_, err = runCLI(t, "release", "policy", "--threshold", "2", "-o", out, a, b)
	require.ErrorContains(t, err, "never overwritten", "an existing policy file is kept")
	_, err = runCLI(t, "release", "policy", "--threshold", "3", "-o", filepath.Join(dir, "p3"), a, b)
	require.Error(t, err, "a threshold above the key count")
	_, err = runCLI(t, "release", "policy", "--threshold", "1", "-o", filepath.Join(dir, "p4"), "nosuchkey")
	require.ErrorContains(t, err, "no such file")
}

func TestReleaseTreeDigest(t *testing.T) {
	src := "../../release/build/testdata/reference-src"
	want, err := build.TreeDigest(src, build.DefaultLimits())
	require.NoError(t, err)
	out, err := runCLI(t, "release", "tree-digest", src)
	require.NoError(t, err)
	assert.Equal(t, want.String()+"\n", out)
	_, err = runCLI(t, "release", "tree-digest", filepath.Join(t.TempDir(), "missing"))
	require.Error(t, err)
}

// release verify names the signatures that do not count beside the threshold.
func TestReleaseVerifyNamesForeignSignatures(t *testing.T) {
	f := newReleaseFixture(t)
	_, err := runCLI(t, f.manifestArgs()...)
	require.NoError(t, err)
	stranger := filepath.Join(f.dir, "stranger.key")
	pub, err := runCLI(t, "release", "keygen", "-o", stranger)
	require.NoError(t, err)
	signed := filepath.Join(f.dir, "signed.bin")
	for _, k := range []string{f.keys[0], f.keys[1], stranger} {
		_, err := runCLI(t, "release", "sign", "--key", k, signedOr(f.manifest, signed), "-o", signed)
		require.NoError(t, err)
	}
	policy := f.writePolicy(t, 2)
	out, err := runCLI(t, "release", "verify", "--policy", policy, signed)
	require.NoError(t, err)
	assert.Contains(t, out, "signed by 2 of the 3 policy keys, 2 needed")
	assert.Contains(t, out, "does not count: "+strings.TrimSpace(pub)+" is not a key of the policy")

	raw, err := runCLI(t, "release", "verify", "--policy", f.writePolicy(t, 3), signed, "--json")
	require.ErrorIs(t, err, errRefused)
	var o verifyOutput
	require.NoError(t, json.Unmarshal([]byte(raw), &o), raw)
	assert.False(t, o.OK)
	assert.Len(t, o.Signatures.Valid, 2)
	assert.Len(t, o.Signatures.Unknown, 1)
}

// signedOr is signed once it exists, the manifest before.
func signedOr(manifest, signed string) string {
	if _, err := os.Stat(signed); err == nil {
		return signed
	}
	return manifest
}

// "-" is standard input and output for release files: a manifest signed in a pipe;
// a private key is never written to standard output.
func TestReleasePipes(t *testing.T) {
	f := newReleaseFixture(t)
	_, err := runCLI(t, f.manifestArgs()...)
	require.NoError(t, err)
	cmd := exec.Command(chainiacBinary(t), "release", "sign", "--key", f.keys[0], "-", "-o", "-")
	cmd.Stdin = bytes.NewReader(mustRead(t, f.manifest))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	sm, err := release.ParseSignedManifest(stdout.Bytes())
	require.NoError(t, err, "standard output holds the signed manifest alone")
	require.Len(t, sm.Signatures, 1)
	assert.Contains(t, stderr.String(), "signed by ")

	_, errOut, code := runBin(t, "release", "keygen", "-o", "-")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "never written to standard output")
}

// A mistyped -o never replaces the key, nor another existing file without --force;
// rewriting the input in place is allowed.
func TestOutputGuard(t *testing.T) {
	f := newReleaseFixture(t)
	_, err := runCLI(t, f.manifestArgs()...)
	require.NoError(t, err)
	key := mustRead(t, f.keys[0])
	_, err = runCLI(t, "release", "sign", "--key", f.keys[0], f.manifest, "-o", f.keys[0])
	require.ErrorContains(t, err, "is the key file")
	_, err = runCLI(t, "release", "sign", "--key", f.keys[0], f.manifest, "-o", f.keys[0], "--force")
	require.ErrorContains(t, err, "is the key file", "not even with --force")
	assert.Equal(t, key, mustRead(t, f.keys[0]))

	other := filepath.Join(f.dir, "other.bin")
	require.NoError(t, os.WriteFile(other, []byte("precious"), 0o644))
	_, err = runCLI(t, "release", "sign", "--key", f.keys[0], f.manifest, "-o", other)
	require.ErrorContains(t, err, "already exists")
	assert.Equal(t, exitUsage, exitCode(err))
	_, err = runCLI(t, "release", "sign", "--key", f.keys[0], f.manifest, "-o", f.manifest)
	require.NoError(t, err, "the input rewritten in place")
	_, err = runCLI(t, f.manifestArgs()...)
	require.ErrorContains(t, err, "already exists", "the signed manifest is not replaced by a new unsigned one")
}

// A node that claims a block it did not make is not believed: propose checks the
// claim as an updater would, and exits 3.
func TestProposeDoesNotBelieveALyingNode(t *testing.T) {
	f := newReleaseFixture(t)
	_, err := runCLI(t, f.manifestArgs()...)
	require.NoError(t, err)
	signed := filepath.Join(f.dir, "signed.bin")
	_, err = runCLI(t, "release", "sign", "--key", f.keys[0], f.manifest, "-o", signed)
	require.NoError(t, err)
	liar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.Header().Set("Content-Type", api.MediaJSON)
			_ = writeJSON(w, &api.ProposalResult{Accepted: true, Index: 7, ID: strings.Repeat("cd", 32), Kind: "chainiac/v1/release"})
			return
		}
		http.NotFound(w, r)
	}))
	defer liar.Close()
	_, err = runCLI(t, "release", "propose", "--node", liar.URL, "--genesis", strings.Repeat("ab", 32),
		"--source", "https://dist.example.org/src.tar.gz", signed)
	require.ErrorContains(t, err, "the node says block 7 was made, but")
	assert.Equal(t, exitRejected, exitCode(err))
}

// A forged entry under a developer's key neither counts nor keeps them from signing.
func TestSignDropsForgedSignatures(t *testing.T) {
	f := newReleaseFixture(t)
	_, err := runCLI(t, f.manifestArgs()...)
	require.NoError(t, err)
	sm, _, err := readManifestFile(f.manifest)
	require.NoError(t, err)
	bob, err := release.ParseKeyFile(mustRead(t, f.keys[1]))
	require.NoError(t, err)
	sm.Signatures = []release.Signature{{Key: bob.Public()}} // a zero signature under bob's key
	forged := filepath.Join(f.dir, "forged.bin")
	require.NoError(t, os.WriteFile(forged, sm.Encode(), 0o644))
	out, err := runCLI(t, "release", "sign", "--key", f.keys[1], forged, "-o", forged)
	require.NoError(t, err)
	assert.Contains(t, out, "1 signatures")
	got, err := release.ParseSignedManifest(mustRead(t, forged))
	require.NoError(t, err)
	require.Len(t, got.Signatures, 1)
	assert.True(t, ed25519.Verify(got.Signatures[0].Key[:], got.Manifest, got.Signatures[0].Signature[:]))
}
