package build

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chainiac/chainiac/internal/golden"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/mar"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const referenceGolden = "testdata/reference-golden.txt"

// Two copies of the tree with different permissions and times, built in different
// directories, give the same bytes.
func TestBuildReferenceIsDeterministic(t *testing.T) {
	p := referenceParams()
	a := copySource(t, 0o644, time.Unix(1, 0))
	b := copySource(t, 0o600, time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC))
	outA, err := BuildReference(context.Background(), a, filepath.Join(t.TempDir(), "out"), p)
	require.NoError(t, err)
	outB, err := BuildReference(context.Background(), b, filepath.Join(t.TempDir(), "deeper", "out"), p)
	require.NoError(t, err)
	require.Len(t, outA, len(referenceTargets))
	for _, k := range referenceTargets {
		x, err := os.ReadFile(outA[k])
		require.NoError(t, err)
		y, err := os.ReadFile(outB[k])
		require.NoError(t, err)
		require.True(t, bytes.Equal(x, y), "target %s differs between builds", k)
	}
}

// The SHA-256 of every MAR built from testdata/reference-src is pinned, so that a
// change of the builder or of the xz encoder that changes the output is noticed
// (regenerate with -update only when the change is intended; every published
// reference manifest then stops matching).
func TestBuildReferenceGolden(t *testing.T) {
	paths := buildReferenceCopy(t, referenceParams())
	var got strings.Builder
	for _, k := range referenceTargets {
		b, err := os.ReadFile(paths[k])
		require.NoError(t, err)
		fmt.Fprintf(&got, "%s %x %d\n", k, sha256.Sum256(b), len(b))
	}
	golden.File(t, referenceGolden, []byte(got.String()))
}

func TestBuildReferenceContents(t *testing.T) {
	paths := buildReferenceCopy(t, referenceParams())
	a, _ := openMARFile(t, paths[release.TargetKey{Platform: "linux-x86_64", Locale: "de"}])
	info, ok := a.ProductInfo()
	require.True(t, ok)
	assert.Equal(t, mar.ProductInfo{Channel: "release", Version: "1.0"}, info)
	assert.Empty(t, a.Signatures())

	var listing []string
	contents := map[string]string{}
	for _, e := range a.Entries() {
		listing = append(listing, fmt.Sprintf("%04o %s", e.Mode, e.Name))
		r, err := a.OpenEntry(e, mar.Limits{})
		require.NoError(t, err)
		contents[e.Name] = string(readAll(t, r))
	}
	assert.Equal(t, []string{
		"0644 README.txt",
		"0644 browser/locale/messages.properties",
		"0644 browser/omni.txt",
		"0644 defaults/pref/channel-prefs.js",
		"0755 demo-browser",
		"0644 platform.ini",
		"0644 updatev3.manifest",
	}, listing, "sorted entries, common + platform + locale + generated, normalised modes")
	assert.Equal(t, "[Build]\nProduct=demo-browser\nVersion=1.0\nChannel=release\nPlatform=linux-x86_64\nLocale=de\n"+
		"BuildID=20241101000000\nSourceDateEpoch=1730419200\n", contents["platform.ini"])
	assert.Equal(t, "type \"complete\"\nadd \"README.txt\"\nadd \"browser/locale/messages.properties\"\n"+
		"add \"browser/omni.txt\"\nadd \"defaults/pref/channel-prefs.js\"\nadd \"demo-browser\"\nadd \"platform.ini\"\n",
		contents["updatev3.manifest"])
	for name, src := range map[string]string{
		"demo-browser":                       "platform/linux-x86_64/demo-browser",
		"browser/locale/messages.properties": "locale/de/browser/locale/messages.properties",
		"browser/omni.txt":                   "common/browser/omni.txt",
	} {
		want, err := os.ReadFile(filepath.Join(referenceSource, src))
		require.NoError(t, err)
		assert.Equal(t, string(want), contents[name], name)
	}

	w, _ := openMARFile(t, paths[release.TargetKey{Platform: "windows-x86_64", Locale: "en-US"}])
	_, ok = w.Entry("demo-browser.exe")
	assert.True(t, ok)
	_, ok = w.Entry("demo-browser")
	assert.False(t, ok, "platform files ship only to their platform")
}

// A different channel, version or epoch changes the bytes: each is an input.
func TestBuildReferenceInputsMatter(t *testing.T) {
	base := referenceParams()
	base.Targets = referenceTargets[:1]
	sum := func(p ReferenceParams) [32]byte {
		b, err := os.ReadFile(buildReferenceCopy(t, p)[referenceTargets[0]])
		require.NoError(t, err)
		return sha256.Sum256(b)
	}
	ref := sum(base)
	for name, change := range map[string]func(*ReferenceParams){
		"channel": func(p *ReferenceParams) { p.Channel = "alpha" },
		"version": func(p *ReferenceParams) { p.Version = "1.0.1" },
		"epoch":   func(p *ReferenceParams) { p.SourceDateEpoch++ },
	} {
		p := base
		change(&p)
		assert.NotEqual(t, ref, sum(p), name)
	}
}

func TestBuildReferenceRefuses(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, src string, p *ReferenceParams)
		want   string
	}{
		{"no description", func(t *testing.T, src string, _ *ReferenceParams) {
			require.NoError(t, os.Remove(filepath.Join(src, ReferenceDescriptionFile)))
		}, "chainiac-build.toml: no such file"},
		{"description is a symlink", func(t *testing.T, src string, _ *ReferenceParams) {
			desc := filepath.Join(src, ReferenceDescriptionFile)
			require.NoError(t, os.Rename(desc, filepath.Join(src, "real.toml")))
			require.NoError(t, os.Symlink("real.toml", desc))
		}, "chainiac-build.toml is a symlink"},
		{"unknown field", func(t *testing.T, src string, _ *ReferenceParams) {
			appendFile(t, filepath.Join(src, ReferenceDescriptionFile), "compression = \"bzip2\"\n")
		}, "unknown fields compression"},
		{"description too large", func(t *testing.T, src string, _ *ReferenceParams) {
			appendFile(t, filepath.Join(src, ReferenceDescriptionFile), "#"+strings.Repeat("x", MaxReferenceDescriptionSize)+"\n")
		}, "at most 65536"},
		{"other product", func(_ *testing.T, _ string, p *ReferenceParams) { p.Product = "other-browser" },
			`the source builds "demo-browser", not "other-browser"`},
		{"unsupported locale", func(_ *testing.T, _ string, p *ReferenceParams) {
			p.Targets = []release.TargetKey{{Platform: "linux-x86_64", Locale: "fr"}}
		}, `locale "fr" is not in chainiac-build.toml`},
		{"unsupported platform", func(_ *testing.T, _ string, p *ReferenceParams) {
			p.Targets = []release.TargetKey{{Platform: "macos", Locale: "de"}}
		}, `platform "macos" is not in chainiac-build.toml`},
		{"undeclared platform directory", func(t *testing.T, src string, _ *ReferenceParams) {
			require.NoError(t, os.Mkdir(filepath.Join(src, "platform", "linux-x86-64"), 0o755))
		}, "platform/linux-x86-64 is not declared"},
		{"symlink in a shipped directory", func(t *testing.T, src string, _ *ReferenceParams) {
			require.NoError(t, os.Symlink("README.txt", filepath.Join(src, "common", "link")))
		}, "common/link is a symlink"},
		{"fifo in a shipped directory", func(t *testing.T, src string, _ *ReferenceParams) {
			require.NoError(t, syscall.Mkfifo(filepath.Join(src, "locale", "de", "fifo"), 0o644))
		}, "locale/de/fifo is a special file"},
		{"common is a file", func(t *testing.T, src string, _ *ReferenceParams) {
			require.NoError(t, os.RemoveAll(filepath.Join(src, "common")))
			require.NoError(t, os.WriteFile(filepath.Join(src, "common"), nil, 0o644))
		}, "common is a regular file, want a directory"},
		{"generated name in the tree", func(t *testing.T, src string, _ *ReferenceParams) {
			require.NoError(t, os.WriteFile(filepath.Join(src, "common", "platform.ini"), nil, 0o644))
		}, "platform.ini is generated by the builder"},
		{"name shipped twice", func(t *testing.T, src string, _ *ReferenceParams) {
			require.NoError(t, os.WriteFile(filepath.Join(src, "platform", "windows-x86_64", "README.txt"), nil, 0o644))
		}, `common/README.txt and platform/windows-x86_64/README.txt both ship "README.txt"`},
		{"quote in a name", func(t *testing.T, src string, _ *ReferenceParams) {
			require.NoError(t, os.WriteFile(filepath.Join(src, "common", `say"hi"`), nil, 0o644))
		}, "a double quote cannot be listed"},
		{"version too long for a MAR", func(_ *testing.T, _ string, p *ReferenceParams) {
			p.Version = strings.Repeat("1", mar.MaxVersionLen+1)
		}, "version"},
		{"no targets", func(_ *testing.T, _ string, p *ReferenceParams) { p.Targets = nil }, "0 targets"},
		{"target twice", func(_ *testing.T, _ string, p *ReferenceParams) {
			p.Targets = append(p.Targets, p.Targets[0])
		}, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := copySource(t, 0o644, time.Unix(1, 0))
			p := referenceParams()
			tt.change(t, src, &p)
			out := filepath.Join(t.TempDir(), "out")
			_, err := BuildReference(context.Background(), src, out, p)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "build: "), err.Error())
			assert.NoDirExists(t, out, "nothing is written on error")
		})
	}
}

func appendFile(t *testing.T, path, text string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(text)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// An existing output is never overwritten or mixed with stale files.
func TestBuildReferenceNeedsEmptyOutput(t *testing.T) {
	src := copySource(t, 0o644, time.Unix(1, 0))
	out := filepath.Join(t.TempDir(), "out")
	require.NoError(t, os.MkdirAll(filepath.Join(out, "macos"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(out, "macos", "de.mar"), []byte("stale"), 0o644))
	_, err := BuildReference(context.Background(), src, out, referenceParams())
	require.ErrorContains(t, err, "is not empty")
	got, err := os.ReadFile(filepath.Join(out, "macos", "de.mar"))
	require.NoError(t, err)
	assert.Equal(t, "stale", string(got))

	// An empty output directory is fine.
	empty := filepath.Join(t.TempDir(), "empty")
	require.NoError(t, os.Mkdir(empty, 0o755))
	paths, err := BuildReference(context.Background(), src, empty, referenceParams())
	require.NoError(t, err)
	assert.FileExists(t, paths[referenceTargets[0]])
}

func TestBuildReferenceCancelled(t *testing.T) {
	src := copySource(t, 0o644, time.Unix(1, 0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(t.TempDir(), "out")
	_, err := BuildReference(ctx, src, out, referenceParams())
	require.ErrorIs(t, err, context.Canceled)
	assert.NoDirExists(t, out)
}

func TestReferenceParamsFromEnv(t *testing.T) {
	good := map[string]string{
		"CHAINIAC_PRODUCT":  "demo-browser",
		"CHAINIAC_VERSION":  "1.0",
		"CHAINIAC_CHANNEL":  "release",
		"CHAINIAC_TARGETS":  "linux-x86_64/de linux-x86_64/en-US windows-x86_64/de windows-x86_64/en-US",
		"SOURCE_DATE_EPOCH": "1730419200",
	}
	p, err := ReferenceParamsFromEnv(func(k string) string { return good[k] })
	require.NoError(t, err)
	assert.Equal(t, referenceParams(), p)

	// The runner's own environment gives the same parameters as the manifest.
	m := manifestFor(release.Hash256{1}, referenceTargets...)
	env := map[string]string{}
	for _, kv := range Environment(m, DefaultPath, "/b", "/h", "/t") {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	p, err = ReferenceParamsFromEnv(func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.Equal(t, ReferenceParamsFromManifest(m), p)

	for name, tt := range map[string]struct{ key, value, want string }{
		"missing product":  {"CHAINIAC_PRODUCT", "", "CHAINIAC_PRODUCT is not set"},
		"missing epoch":    {"SOURCE_DATE_EPOCH", "", "SOURCE_DATE_EPOCH is not set"},
		"negative epoch":   {"SOURCE_DATE_EPOCH", "-1", "not a decimal number"},
		"signed epoch":     {"SOURCE_DATE_EPOCH", "+1", "not a decimal number"},
		"epoch too late":   {"SOURCE_DATE_EPOCH", "253402300800", "after year 9999"},
		"bad target":       {"CHAINIAC_TARGETS", "linux-x86_64", "want platform/locale"},
		"bad channel":      {"CHAINIAC_CHANNEL", "rel ease", "channel"},
		"channel too long": {"CHAINIAC_CHANNEL", strings.Repeat("c", 64), "a MAR holds at most 63 bytes"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReferenceParamsFromEnv(func(k string) string {
				if k == tt.key {
					return tt.value
				}
				return good[k]
			})
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestParseTargets(t *testing.T) {
	keys, err := ParseTargets(" linux-x86_64/ALL,windows-x86_64/en-US  macos/ja-JP-mac,")
	require.NoError(t, err)
	assert.Equal(t, []release.TargetKey{{Platform: "linux-x86_64", Locale: "ALL"},
		{Platform: "windows-x86_64", Locale: "en-US"}, {Platform: "macos", Locale: "ja-JP-mac"}}, keys)

	for input, want := range map[string]string{
		"":                          "empty target list",
		" , ":                       "empty target list",
		"linux":                     "want platform/locale",
		"linux/en/US":               "locale",
		"../x/en":                   "platform",
		"linux/.hidden":             "locale",
		"linux/de linux/de":         "listed twice",
		strings.Repeat("a/b ", 513): "513 targets",
		strings.Repeat("a", 60000):  "bytes, at most",
	} {
		_, err := ParseTargets(input)
		assert.ErrorContains(t, err, want, "%.40q", input)
	}
}

// The golden file's format, checked so that -update cannot write nonsense.
func TestReferenceGoldenFileFormat(t *testing.T) {
	f, err := os.Open(referenceGolden)
	require.NoError(t, err)
	defer f.Close()
	s := bufio.NewScanner(f)
	n := 0
	for s.Scan() {
		fields := strings.Fields(s.Text())
		require.Len(t, fields, 3, s.Text())
		assert.Equal(t, referenceTargets[n].String(), fields[0])
		sum, err := hex.DecodeString(fields[1])
		require.NoError(t, err)
		assert.Len(t, sum, 32)
		n++
	}
	assert.Equal(t, len(referenceTargets), n)
}

func TestParseReferenceDescriptionRefuses(t *testing.T) {
	const good = "format = \"chainiac-reference/v1\"\nproduct = \"demo\"\nplatforms = [\"linux\"]\nlocales = [\"en-US\"]\n"
	d, err := parseReferenceDescription([]byte(good))
	require.NoError(t, err)
	assert.Equal(t, &referenceDescription{Format: ReferenceFormat, Product: "demo", Platforms: []string{"linux"}, Locales: []string{"en-US"}}, d)

	replace := func(old, new string) string { return strings.Replace(good, old, new, 1) }
	for name, tt := range map[string]struct{ input, want string }{
		"not toml":          {"format = ", "chainiac-build.toml: toml:"},
		"empty":             {"", `missing field "format"`},
		"no locales":        {replace("locales = [\"en-US\"]\n", ""), `missing field "locales"`},
		"other format":      {replace("/v1", "/v2"), `format "chainiac-reference/v2", this builder reads "chainiac-reference/v1"`},
		"format not string": {replace(`"chainiac-reference/v1"`, "1"), "toml:"},
		"unknown field":     {good + "extra = 1\n", "unknown fields extra"},
		"unknown table":     {good + "[platform.linux]\nfiles = []\n", "unknown fields platform"},
		"bad product":       {replace(`"demo"`, `"-demo"`), "product"},
		"product too long":  {replace(`"demo"`, `"`+strings.Repeat("p", 65)+`"`), "65 bytes, at most 64"},
		"empty platforms":   {replace(`["linux"]`, "[]"), "platforms: want 1 to 512 names"},
		"duplicate locale":  {replace(`["en-US"]`, `["en-US", "en-US"]`), `locales: "en-US" listed twice`},
		"platform with /":   {replace(`["linux"]`, `["linux/x"]`), "platforms: platform"},
		"locale with dot":   {replace(`["en-US"]`, `["en.US"]`), "locales: locale"},
		"too large":         {good + "#" + strings.Repeat(" ", MaxReferenceDescriptionSize), "bytes, at most 65536"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseReferenceDescription([]byte(tt.input))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "build: chainiac-build.toml: "), err.Error())
		})
	}
}
