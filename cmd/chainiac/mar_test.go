package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const marTestdata = "../../release/mar/testdata/"

// dirEntries lists a directory's names, to check nothing partial is left.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// sourceTree makes a small tree to package.
func sourceTree(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(src, "bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "update.manifest"), []byte("type \"complete\"\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(src, "bin", "app"), bytes.Repeat([]byte("app\x00"), 10000), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(src, "bin", "lib.so"), []byte("library"), 0o664))
	return src
}

func TestMarInfoAndVerifyFixture(t *testing.T) {
	out, err := runCLI(t, "mar", "info", marTestdata+"test-bz2.mar")
	require.NoError(t, err)
	assert.Contains(t, out, "channel: thunderbird-comm-esr\n")
	assert.Contains(t, out, "version: 100.0\n")
	assert.Contains(t, out, "signatures: 1\n  0: algorithm 1 (RSA-PKCS1-SHA1), 256 bytes\n")
	assert.Contains(t, out, "entries: 5\n")
	assert.Contains(t, out, " Contents/MacOS/update-settings.ini\n")

	out, err = runCLI(t, "mar", "verify", "--key", marTestdata+"test.pubkey", marTestdata+"test-bz2.mar")
	require.NoError(t, err)
	assert.Contains(t, out, "1 signature(s) verified")

	_, err = runCLI(t, "mar", "verify", "--key", marTestdata+"key2048.pub.pem", "--key", marTestdata+"test.pubkey", marTestdata+"test-bz2.mar")
	require.NoError(t, err, "one matching key among several is enough")
}

func TestMarVerifyFailures(t *testing.T) {
	garbage := filepath.Join(t.TempDir(), "garbage.mar")
	require.NoError(t, os.WriteFile(garbage, []byte("MAR1 but not really a MAR file at all"), 0o644))
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"wrong key", []string{"--key", marTestdata + "key2048.pub.pem", marTestdata + "test-bz2.mar"}, "signature does not verify"},
		{"unsigned", []string{"--key", marTestdata + "test.pubkey", marTestdata + "test-xz.mar"}, "no signature"},
		{"no key", []string{marTestdata + "test-bz2.mar"}, `required flag(s) "key"`},
		{"missing file", []string{"--key", marTestdata + "test.pubkey", "does-not-exist.mar"}, "no such file"},
		{"garbage file", []string{"--key", marTestdata + "test.pubkey", garbage}, "malformed archive"},
		{"private key as public", []string{"--key", marTestdata + "key2048-pkcs8.pem", marTestdata + "test-bz2.mar"}, "unexpected PEM block"},
		{"not a key", []string{"--key", marTestdata + "test-xz.mar", marTestdata + "test-bz2.mar"}, "no PEM block"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runCLI(t, append([]string{"mar", "verify"}, tc.args...)...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestMarCreateSignVerifyStripExtract(t *testing.T) {
	src, work := sourceTree(t), t.TempDir()
	unsigned, signed, stripped := filepath.Join(work, "u.mar"), filepath.Join(work, "s.mar"), filepath.Join(work, "x.mar")

	_, err := runCLI(t, "mar", "create", "--channel", "chainiac-test", "--version", "2.0", "-C", src, "-o", unsigned, "update.manifest", "bin")
	require.NoError(t, err)
	out, err := runCLI(t, "mar", "info", unsigned)
	require.NoError(t, err)
	assert.Contains(t, out, "channel: chainiac-test\nversion: 2.0\nsignatures: 0\nentries: 3\n")
	assert.Regexp(t, `0755 +\d+ bin/app\n  0644 +\d+ bin/lib.so\n  0644 +\d+ update.manifest\n`, out, "sorted, modes normalised")

	// Deterministic whatever the argument order; bzip2 differs.
	again := filepath.Join(work, "again.mar")
	_, err = runCLI(t, "mar", "create", "--channel", "chainiac-test", "--version", "2.0", "-C", src, "-o", again, "bin/lib.so", "bin/app", "update.manifest")
	require.NoError(t, err)
	assert.Equal(t, readFile(t, unsigned), readFile(t, again))
	bz := filepath.Join(work, "bz.mar")
	_, err = runCLI(t, "mar", "create", "--channel", "c", "--version", "v", "--compression", "bzip2", "-C", src, "-o", bz, ".")
	require.NoError(t, err)

	_, err = runCLI(t, "mar", "sign", "--key", marTestdata+"key4096-pkcs1.pem", "--key", marTestdata+"key2048-pkcs8.pem", unsigned, "-o", signed)
	require.NoError(t, err)
	out, err = runCLI(t, "mar", "verify", "--key", marTestdata+"key4096.pub.pem", "--key", marTestdata+"key2048.pub.pem", signed)
	require.NoError(t, err)
	assert.Contains(t, out, "2 signature(s) verified")
	_, err = runCLI(t, "mar", "verify", "--key", marTestdata+"key4096.pub.pem", signed)
	require.ErrorContains(t, err, "signature 1", "every signature must verify")

	_, err = runCLI(t, "mar", "strip", signed, "-o", stripped)
	require.NoError(t, err)
	assert.Equal(t, readFile(t, unsigned), readFile(t, stripped))

	for _, m := range []string{unsigned, bz} {
		dest := filepath.Join(work, "extract-"+filepath.Base(m))
		_, err = runCLI(t, "mar", "extract", m, "-C", dest)
		require.NoError(t, err)
		for _, name := range []string{"update.manifest", "bin/app", "bin/lib.so"} {
			assert.Equal(t, readFile(t, filepath.Join(src, name)), readFile(t, filepath.Join(dest, name)), name)
		}
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return b
}

// Every failing command that writes leaves neither its output nor a
// temporary file behind.
func TestMarFailuresLeaveNoPartialOutput(t *testing.T) {
	src := sourceTree(t)
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(src, "link")))
	corrupt := filepath.Join(t.TempDir(), "corrupt.mar")
	b := readFile(t, marTestdata+"test-xz.mar")
	b[0x100] ^= 0xff // inside the second entry's xz data
	require.NoError(t, os.WriteFile(corrupt, b, 0o644))
	truncated := filepath.Join(t.TempDir(), "truncated.mar")
	require.NoError(t, os.WriteFile(truncated, readFile(t, marTestdata+"test-bz2.mar")[:900], 0o644))

	cases := []struct {
		name string
		args func(out string) []string
		want string
	}{
		{"strip truncated", func(out string) []string { return []string{"strip", truncated, "-o", out} }, "malformed archive"},
		{"sign signed", func(out string) []string {
			return []string{"sign", "--key", marTestdata + "key2048-pkcs8.pem", marTestdata + "test-bz2.mar", "-o", out}
		}, "already signed"},
		{"sign with public key", func(out string) []string {
			return []string{"sign", "--key", marTestdata + "test.pubkey", marTestdata + "test-xz.mar", "-o", out}
		}, "unexpected PEM block"},
		{"create missing file", func(out string) []string {
			return []string{"create", "--channel", "c", "--version", "v", "-C", src, "-o", out, "update.manifest", "nope"}
		}, "nope"},
		{"create escaping name", func(out string) []string {
			return []string{"create", "--channel", "c", "--version", "v", "-C", src, "-o", out, "../etc"}
		}, "unsafe entry name"},
		{"create symlink", func(out string) []string {
			return []string{"create", "--channel", "c", "--version", "v", "-C", src, "-o", out, "."}
		}, "not a regular file"},
		{"create bad channel", func(out string) []string {
			return []string{"create", "--channel", strings.Repeat("c", 64), "--version", "v", "-C", src, "-o", out, "bin"}
		}, "channel must be"},
		{"create bad compression", func(out string) []string {
			return []string{"create", "--channel", "c", "--version", "v", "--compression", "zstd", "-C", src, "-o", out, "bin"}
		}, "--compression"},
		{"extract corrupt entry", func(out string) []string { return []string{"extract", corrupt, "-C", out} }, "corrupt entry compression"},
		{"extract over limit", func(out string) []string {
			return []string{"extract", marTestdata + "test-xz.mar", "-C", out, "--max-entry-size", "100"}
		}, "exceeds limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := runCLI(t, append([]string{"mar"}, tc.args(filepath.Join(dir, "out"))...)...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, dirEntries(t, dir), "no output and no temporary file")
		})
	}

	// Extracting into a non-empty directory is refused and changes nothing.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "keep"), nil, 0o644))
	_, err := runCLI(t, "mar", "extract", marTestdata+"test-xz.mar", "-C", dir)
	require.ErrorContains(t, err, "not empty")
	assert.Equal(t, []string{"keep"}, dirEntries(t, dir))

	// A failed strip does not clobber an existing output file.
	existing := filepath.Join(t.TempDir(), "existing.mar")
	require.NoError(t, os.WriteFile(existing, []byte("old"), 0o644))
	_, err = runCLI(t, "mar", "strip", truncated, "-o", existing, "--force")
	require.Error(t, err)
	assert.Equal(t, "old", string(readFile(t, existing)))
	assert.Len(t, dirEntries(t, filepath.Dir(existing)), 1)
}

func TestMarInfoAndVerifyJSON(t *testing.T) {
	file := marTestdata + "test-bz2.mar"
	out, err := runCLI(t, "mar", "info", "--json", file)
	require.NoError(t, err)
	var info marInfoOutput
	require.NoError(t, json.Unmarshal([]byte(out), &info))
	assert.Equal(t, file, info.File)
	assert.Equal(t, "thunderbird-comm-esr", info.Channel)
	assert.Equal(t, "100.0", info.Version)
	assert.Equal(t, []marSignatureJSON{{Algorithm: 1, AlgorithmName: "RSA-PKCS1-SHA1", Size: 256}}, info.Signatures)
	require.Len(t, info.Entries, 5)
	names := []string{}
	for _, e := range info.Entries {
		names = append(names, e.Name)
		assert.Regexp(t, `^0[0-7]{3}$`, e.Mode)
		assert.NotZero(t, e.CompressedSize)
	}
	assert.Contains(t, names, "Contents/MacOS/update-settings.ini")

	out, err = runCLI(t, "mar", "info", "--json", marTestdata+"test-xz.mar")
	require.NoError(t, err)
	assert.Contains(t, out, `"signatures": []`, "an unsigned MAR lists no signature, not null")

	out, err = runCLI(t, "mar", "verify", "--json", "--key", marTestdata+"test.pubkey", file)
	require.NoError(t, err)
	var v marVerifyOutput
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	assert.Equal(t, marVerifyOutput{OK: true, File: file, Signatures: 1}, v)

	out, err = runCLI(t, "mar", "verify", "--json", "--key", marTestdata+"key2048.pub.pem", file)
	require.Error(t, err)
	assert.Equal(t, exitRejected, exitCode(err), "a signature that does not verify is a rejection")
	v = marVerifyOutput{}
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	assert.False(t, v.OK)
	assert.Equal(t, 1, v.Signatures)
	assert.Contains(t, v.Error, "signature does not verify")

	_, err = runCLI(t, "mar", "verify", "--key", marTestdata+"test.pubkey", marTestdata+"test-xz.mar")
	assert.Equal(t, exitRejected, exitCode(err), "an unsigned MAR does not verify")
	_, err = runCLI(t, "mar", "verify", "--key", marTestdata+"test.pubkey", "does-not-exist.mar")
	assert.Equal(t, exitFailure, exitCode(err))
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestMarCreateProgress(t *testing.T) {
	t.Run("not a terminal: a line every 5 s", func(t *testing.T) {
		clock := &fakeClock{t: time.Unix(1e9, 0)}
		var out bytes.Buffer
		p := newByteProgress(&out, "mar create", 100<<20, clock.now)
		for i := range 40 { // 20 s of reports every 500 ms
			clock.advance(500 * time.Millisecond)
			p.report(int64(i+1) << 20)
		}
		p.finish()
		assert.Equal(t, "mar create: 10.0 of 100.0 MiB (10%), 5 s\n"+
			"mar create: 20.0 of 100.0 MiB (20%), 10 s\n"+
			"mar create: 30.0 of 100.0 MiB (30%), 15 s\n"+
			"mar create: 40.0 of 100.0 MiB (40%), 20 s\n", out.String())
	})
	t.Run("terminal: in place, not in the first second, at most 4 a second", func(t *testing.T) {
		clock := &fakeClock{t: time.Unix(1e9, 0)}
		var out bytes.Buffer
		p := newByteProgress(&out, "mar create", 8<<20, clock.now)
		p.tty = true
		for i := range 8 { // 100 ms apart: only the report at 1 s is due
			clock.advance(100 * time.Millisecond)
			p.report(int64(i) << 20)
		}
		assert.Empty(t, out.String())
		for range 10 {
			clock.advance(100 * time.Millisecond)
			p.report(7 << 20)
		}
		p.finish()
		lines := strings.Split(out.String(), "\r\033[K")
		assert.Len(t, lines, 1+3+1, "%q", out.String()) // at 1.0, 1.3 and 1.6 s, then the end at 1.8 s
		assert.Equal(t, "mar create: 7.0 of 8.0 MiB (88%), 2 s\n", lines[len(lines)-1])
	})
	t.Run("short work prints nothing; --quiet nothing at all", func(t *testing.T) {
		src := sourceTree(t)
		for _, args := range [][]string{nil, {"--quiet"}} {
			root := newRootCmd()
			var stdout, stderr bytes.Buffer
			root.SetOut(&stdout)
			root.SetErr(&stderr)
			root.SetArgs(append([]string{"mar", "create", "--channel", "c", "--version", "1", "-C", src,
				"-o", filepath.Join(t.TempDir(), "out.mar"), "."}, args...))
			require.NoError(t, root.Execute())
			assert.Empty(t, stdout.String())
			assert.Empty(t, stderr.String())
		}
	})
}
