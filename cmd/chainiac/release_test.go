package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainiac/chainiac/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type releaseFixture struct {
	dir      string
	keys     []string // key file paths
	pubs     []string // public keys, hex
	unsigned string
	signed   string
	manifest string
}

func newReleaseFixture(t *testing.T) *releaseFixture {
	f := &releaseFixture{dir: t.TempDir()}
	for i := range 3 {
		path := filepath.Join(f.dir, fmt.Sprintf("dev%d.key", i))
		out, err := runCLI(t, "release", "keygen", "-o", path)
		require.NoError(t, err)
		f.keys = append(f.keys, path)
		f.pubs = append(f.pubs, strings.TrimSpace(out))
	}
	f.unsigned = filepath.Join(f.dir, "linux.mar")
	f.signed = filepath.Join(f.dir, "linux-signed.mar")
	content := filepath.Join(f.dir, "content")
	require.NoError(t, os.MkdirAll(content, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(content, "update.txt"), []byte("tor-browser 14.0.1\n"), 0o644))
	_, err := runCLI(t, "mar", "create", "--channel", "release", "--version", "14.0.1", "-C", content, "-o", f.unsigned, "update.txt")
	require.NoError(t, err)
	_, err = runCLI(t, "mar", "sign", "--key", marTestdata+"key2048-pkcs8.pem", f.unsigned, "-o", f.signed)
	require.NoError(t, err)
	f.manifest = filepath.Join(f.dir, "manifest.bin")
	return f
}

func (f *releaseFixture) manifestArgs(target ...string) []string {
	args := []string{"release", "manifest", "--product", "tor-browser", "--version", "14.0.1",
		"--channel", "release", "--source-date-epoch", "1730419200", "--recipe", "reference/v2",
		"--git-commit", strings.Repeat("ab", 20), "--source-sha256", strings.Repeat("cd", 32),
		"-o", f.manifest}
	if len(target) == 0 {
		target = []string{"linux-x86_64,ALL," + f.unsigned + "," + f.signed + ",https://dist.example.org/a,b.mar"}
	}
	for _, tg := range target {
		args = append(args, "--target", tg)
	}
	return args
}

func (f *releaseFixture) writePolicy(t *testing.T, threshold int) string {
	path := filepath.Join(f.dir, "policy.toml")
	text := fmt.Sprintf("threshold = %d\nkeys = [%q, %q, %q]\n", threshold, f.pubs[0], f.pubs[1], f.pubs[2])
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

func TestReleaseWorkflow(t *testing.T) {
	f := newReleaseFixture(t)
	st, err := os.Stat(f.keys[0])
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	out, err := runCLI(t, f.manifestArgs()...)
	require.NoError(t, err)
	assert.Contains(t, out, "written to "+f.manifest)

	raw, err := os.ReadFile(f.manifest)
	require.NoError(t, err)
	m, err := release.ParseManifest(raw)
	require.NoError(t, err)
	unsigned, signedMAR := mustRead(t, f.unsigned), mustRead(t, f.signed)
	assert.Equal(t, release.Hash256(sha256.Sum256(unsigned)), m.Targets[0].UnsignedSHA256)
	assert.Equal(t, uint64(len(signedMAR)), m.Targets[0].SignedSize)
	assert.Equal(t, "https://dist.example.org/a,b.mar", m.Targets[0].URL)

	signed := filepath.Join(f.dir, "signed.bin")
	_, err = runCLI(t, "release", "sign", "--key", f.keys[0], f.manifest, "-o", signed)
	require.NoError(t, err)
	policy := f.writePolicy(t, 2)
	_, err = runCLI(t, "release", "verify", "--policy", policy, signed)
	require.ErrorIs(t, err, release.ErrThreshold)
	assert.Contains(t, err.Error(), "1 valid developer signatures of 2 needed")

	out, err = runCLI(t, "release", "sign", "--key", f.keys[2], signed, "-o", signed)
	require.NoError(t, err)
	assert.Contains(t, out, "2 signatures")
	out, err = runCLI(t, "release", "verify", "--policy", policy, signed)
	require.NoError(t, err)
	assert.Contains(t, out, "ok: manifest "+m.Hash().String())

	out, err = runCLI(t, "release", "show", signed)
	require.NoError(t, err)
	assert.Contains(t, out, "target linux-x86_64/ALL")
	assert.Contains(t, out, "signatures (not verified; use release verify): 2")
	assert.Contains(t, out, f.pubs[2])

	out, err = runCLI(t, "release", "show", "--json", signed)
	require.NoError(t, err)
	var shown struct {
		Manifest struct {
			Hash    string `json:"hash"`
			Version string `json:"version"`
		} `json:"manifest"`
		Signatures []struct {
			Key string `json:"key"`
		} `json:"signatures"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &shown))
	assert.Equal(t, m.Hash().String(), shown.Manifest.Hash)
	assert.Equal(t, "14.0.1", shown.Manifest.Version)
	assert.Len(t, shown.Signatures, 2)

	out, err = runCLI(t, "release", "show", "--json", f.manifest)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal([]byte(out), &shown))
	assert.Equal(t, m.Hash().String(), shown.Manifest.Hash)
	assert.Empty(t, shown.Signatures)

	// The binary policy encoding is accepted as well as the TOML form.
	p, err := release.ParsePolicyFile(mustRead(t, policy))
	require.NoError(t, err)
	bin := filepath.Join(f.dir, "policy.bin")
	require.NoError(t, os.WriteFile(bin, p.Encode(), 0o644))
	_, err = runCLI(t, "release", "verify", "--policy", bin, signed)
	require.NoError(t, err)
}

func TestReleaseErrors(t *testing.T) {
	f := newReleaseFixture(t)
	_, err := runCLI(t, f.manifestArgs()...)
	require.NoError(t, err)
	garbage := filepath.Join(f.dir, "garbage")
	require.NoError(t, os.WriteFile(garbage, []byte("not a manifest"), 0o644))
	out := filepath.Join(f.dir, "out.bin")

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"keygen overwrite", []string{"release", "keygen", "-o", f.keys[0]}, "already exists and is never overwritten"},
		{"keygen without -o", []string{"release", "keygen"}, `required flag(s) "output" not set`},
		{"bad target spec", f.manifestArgs("linux,ALL," + f.unsigned), "want platform,locale,unsigned.mar,signed.mar,url"},
		{"missing mar", f.manifestArgs("linux,ALL,/no/such.mar," + f.signed + ",https://x.org/a"), "no such file"},
		{"invalid locale", f.manifestArgs("linux,en US," + f.unsigned + "," + f.signed + ",https://x.org/a"), "locale"},
		{"sign garbage", []string{"release", "sign", "--key", f.keys[0], garbage, "-o", out}, "neither a manifest nor a signed manifest"},
		{"sign with missing key", []string{"release", "sign", "--key", garbage + "x", f.manifest, "-o", out}, "no such file"},
		{"verify unsigned", []string{"release", "verify", "--policy", f.writePolicy(t, 1), f.manifest}, "0 valid developer signatures of 1 needed"},
		{"show garbage", []string{"release", "show", garbage}, "neither"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := runCLI(t, c.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, err.Error(), "\n", "errors are one line")
			_, statErr := os.Stat(out)
			assert.True(t, os.IsNotExist(statErr), "no output written on error")
		})
	}
	// The manifest output is untouched by a failed run.
	before := mustRead(t, f.manifest)
	_, err = runCLI(t, f.manifestArgs("linux,ALL,/no/such.mar,"+f.signed+",https://x.org/a")...)
	require.Error(t, err)
	assert.Equal(t, before, mustRead(t, f.manifest))
	entries, err := os.ReadDir(f.dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".tmp-", "temporary file left behind")
	}
}

func mustRead(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
