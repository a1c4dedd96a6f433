package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/release"
)

// Every command that writes a file follows one rule: its directory must exist (the
// error names it), an existing file is replaced only with --force, and nothing of
// the temporary file or the decoders' internals shows in a message.
func TestOutputRules(t *testing.T) {
	f := newReleaseFixture(t)
	src := sourceTree(t)
	missing := filepath.Join(f.dir, "no-such-dir")
	mar := func(out string, extra ...string) []string {
		return append([]string{"mar", "create", "--channel", "c", "--version", "1", "-C", src, "-o", out, "update.manifest"}, extra...)
	}
	for name, args := range map[string][]string{
		"release keygen": {"release", "keygen", "-o", filepath.Join(missing, "k.key")},
		"release policy": {"release", "policy", "--threshold", "1", "-o", filepath.Join(missing, "p.toml"), f.keys[0]},
		"release sign":   {"release", "sign", "--key", f.keys[0], f.unsigned, "-o", filepath.Join(missing, "s.bin")},
		"mar create":     mar(filepath.Join(missing, "u.mar")),
		"mar strip":      {"mar", "strip", f.signed, "-o", filepath.Join(missing, "u.mar")},
		"update xml":     {"update", "xml", "--state", t.TempDir(), "--target", "linux/en-US", "-o", filepath.Join(missing, "update.xml")},
		"update bundle":  {"update", "bundle", "--state", t.TempDir(), "--target", "linux/en-US", "-o", filepath.Join(missing, "b.bundle")},
	} {
		t.Run("missing directory/"+name, func(t *testing.T) {
			_, err := runCLI(t, args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "directory "+missing+" does not exist: create it first")
			assert.NotContains(t, err.Error(), "atomicfile")
			assert.NotContains(t, err.Error(), ".tmp-")
		})
	}

	existing := filepath.Join(f.dir, "existing.mar")
	require.NoError(t, os.WriteFile(existing, []byte("keep"), 0o644))
	for name, args := range map[string][]string{
		"mar create":    mar(existing),
		"mar strip":     {"mar", "strip", f.signed, "-o", existing},
		"mar sign":      {"mar", "sign", "--key", marTestdata + "key2048-pkcs8.pem", f.unsigned, "-o", existing},
		"update xml":    {"update", "xml", "--state", t.TempDir(), "--target", "linux/en-US", "-o", existing},
		"update bundle": {"update", "bundle", "--state", t.TempDir(), "--target", "linux/en-US", "-o", existing},
	} {
		t.Run("existing output/"+name, func(t *testing.T) {
			_, err := runCLI(t, args...)
			require.Error(t, err)
			assert.Equal(t, exitUsage, exitCode(err))
			assert.Contains(t, err.Error(), existing+" already exists: give another -o, or --force to replace it")
			assert.Equal(t, "keep", string(mustRead(t, existing)))
		})
	}
	_, err := runCLI(t, mar(existing, "--force")...)
	require.NoError(t, err)
	out, err := runCLI(t, "mar", "info", existing)
	require.NoError(t, err)
	assert.Contains(t, out, "channel: c\nversion: 1\n")
	_, err = runCLI(t, "mar", "sign", "--key", marTestdata+"key2048-pkcs8.pem", f.unsigned, "-o", marTestdata+"key2048-pkcs8.pem", "--force")
	require.ErrorContains(t, err, "is the key file: it is never overwritten")

	// Files that are not what they should be are named, without the decoders' prefixes.
	garbage := filepath.Join(f.dir, "garbage")
	require.NoError(t, os.WriteFile(garbage, append([]byte{byte(len(release.TagSignedManifest))}, release.TagSignedManifest+"\x00"...), 0o644))
	for name, args := range map[string][]string{
		"release verify": {"release", "verify", "--policy", f.writePolicy(t, 1), garbage},
		"release show":   {"release", "show", garbage},
		"mar info":       {"mar", "info", garbage},
		"policy":         {"release", "verify", "--policy", garbage, garbage},
	} {
		t.Run("not valid/"+name, func(t *testing.T) {
			_, err := runCLI(t, args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), garbage+" is not a valid ")
			assert.NotContains(t, err.Error(), "wire:")
			assert.NotContains(t, err.Error(), "mar: ")
		})
	}

	// Usage mistakes exit 2.
	for name, args := range map[string][]string{
		"export node URL":      {"export", "--node", "ftp://x", "-o", t.TempDir()},
		"export genesis":       {"export", "--node", "http://127.0.0.1:1", "--genesis", "zz", "-o", t.TempDir()},
		"node status node URL": {"node", "status", "--node", "ftp://x"},
		"mar compression":      mar(filepath.Join(f.dir, "x.mar"), "--compression", "gz"),
	} {
		t.Run("usage/"+name, func(t *testing.T) {
			_, err := runCLI(t, args...)
			require.Error(t, err)
			assert.Equal(t, exitUsage, exitCode(err), "%v", err)
		})
	}
}

// "-" is standard input and standard output wherever a command reads or writes a
// file that is not a secret; a private key is never written there.
func TestStandardInputAndOutput(t *testing.T) {
	f := newReleaseFixture(t)
	run := func(stdin []byte, args ...string) ([]byte, string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, chainiacBinary(t), args...)
		var out, errOut bytes.Buffer
		cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(stdin), &out, &errOut
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		return out.Bytes(), errOut.String(), code
	}

	policy, msg, code := run(nil, "release", "policy", "--threshold", "1", "-o", "-", f.keys[0], f.keys[1])
	require.Zero(t, code, msg)
	p, err := release.ParsePolicyFile(policy)
	require.NoError(t, err, "standard output holds the policy alone")
	assert.Equal(t, 1, p.Threshold())
	assert.Contains(t, msg, "written to -")
	_, err = os.Stat("-")
	assert.True(t, os.IsNotExist(err), "no file named -")

	stripped, msg, code := run(mustRead(t, f.signed), "mar", "strip", "-", "-o", "-")
	require.Zero(t, code, msg)
	assert.Equal(t, mustRead(t, f.unsigned), stripped, "the signed MAR without its signature is the unsigned one")
	info, msg, code := run(stripped, "mar", "info", "--json", "-")
	require.Zero(t, code, msg)
	assert.Contains(t, string(info), `"version": "14.0.1"`)
	_, msg, code = run([]byte("not a MAR"), "mar", "info", "-")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, msg, "standard input is not a valid MAR file")

	shown, msg, code := run(nil, "release", "show", "-")
	assert.Equal(t, exitFailure, code, "%s", shown)
	assert.Contains(t, msg, "standard input is neither a manifest nor a signed manifest")

	_, msg, code = run(nil, "release", "keygen", "-o", "-")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, msg, "a private key is never written to standard output")
}
