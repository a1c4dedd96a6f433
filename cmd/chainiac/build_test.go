package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	referenceSrc    = "../../release/build/testdata/reference-src"
	referenceGolden = "../../release/build/testdata/reference-golden.txt"
)

// clearReferenceEnv makes sure the test's own environment supplies no parameter.
func clearReferenceEnv(t *testing.T) {
	for _, name := range []string{"CHAINIAC_PRODUCT", "CHAINIAC_VERSION", "CHAINIAC_CHANNEL", "CHAINIAC_TARGETS", "SOURCE_DATE_EPOCH"} {
		t.Setenv(name, "")
	}
}

// goldenLines maps "platform/locale" to "platform/locale sha256 size" as pinned by
// release/build's golden test.
func goldenLines(t *testing.T) map[string]string {
	lines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(mustRead(t, referenceGolden))), "\n") {
		lines[strings.Fields(l)[0]] = l
	}
	return lines
}

func TestBuildReferenceWithFlags(t *testing.T) {
	clearReferenceEnv(t)
	out := filepath.Join(t.TempDir(), "out")
	stdout, err := runCLI(t, "build", "reference", "--source", referenceSrc, "--output", out,
		"--product", "demo-browser", "--version", "1.0", "--channel", "release",
		"--targets", "windows-x86_64/en-US,linux-x86_64/de", "--source-date-epoch", "1730419200")
	require.NoError(t, err)
	golden := goldenLines(t)
	assert.Equal(t,
		golden["linux-x86_64/de"]+" "+filepath.Join(out, "linux-x86_64", "de.mar")+"\n"+
			golden["windows-x86_64/en-US"]+" "+filepath.Join(out, "windows-x86_64", "en-US.mar")+"\n",
		stdout, "one line per target, in order, with the SHA-256 and size pinned by the golden test")
	assert.ElementsMatch(t, []string{"linux-x86_64", "windows-x86_64"}, dirEntries(t, out))
}

// Without flags the parameters come from the runner's environment; a flag wins over
// its variable.
func TestBuildReferenceFromEnvironment(t *testing.T) {
	t.Setenv("CHAINIAC_PRODUCT", "demo-browser")
	t.Setenv("CHAINIAC_VERSION", "1.0")
	t.Setenv("CHAINIAC_CHANNEL", "nightly")
	t.Setenv("CHAINIAC_TARGETS", "linux-x86_64/de linux-x86_64/en-US windows-x86_64/de windows-x86_64/en-US")
	t.Setenv("SOURCE_DATE_EPOCH", "1730419200")
	out := filepath.Join(t.TempDir(), "out")
	stdout, err := runCLI(t, "build", "reference", "--src", referenceSrc, "--output", out, "--channel", "release")
	require.NoError(t, err)
	golden := goldenLines(t)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 4)
	for _, l := range lines {
		key := strings.Fields(l)[0]
		assert.True(t, strings.HasPrefix(l, golden[key]+" "), l)
	}
}

func TestBuildReferenceErrors(t *testing.T) {
	clearReferenceEnv(t)
	dir := t.TempDir()
	full := func(extra ...string) []string {
		return append([]string{"build", "reference", "--src", referenceSrc, "--output", filepath.Join(dir, "out"),
			"--product", "demo-browser", "--version", "1.0", "--channel", "release",
			"--targets", "linux-x86_64/de", "--source-date-epoch", "1730419200"}, extra...)
	}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "full", "x"), 0o755))
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"missing parameter", []string{"build", "reference", "--src", referenceSrc, "--output", filepath.Join(dir, "out")},
			"build reference: give --product or set CHAINIAC_PRODUCT"},
		{"bad epoch", full("--source-date-epoch", "yesterday"), "SOURCE_DATE_EPOCH \"yesterday\" is not a decimal number"},
		{"unsupported target", full("--targets", "macos/de"), `platform "macos" is not in chainiac-build.toml`},
		{"wrong product", full("--product", "other"), `the source builds "demo-browser", not "other"`},
		{"no source", full("--src", filepath.Join(dir, "missing")), "no such file"},
		{"output not empty", full("--output", filepath.Join(dir, "full")), "is not empty"},
		{"argument", append(full(), "extra"), "unknown command"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := runCLI(t, c.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.NoDirExists(t, filepath.Join(dir, "out"))
		})
	}
}
