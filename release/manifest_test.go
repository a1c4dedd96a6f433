package release

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/chainiac/chainiac/internal/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawEncode encodes targets in slice order, to build non-canonical inputs.
func rawEncode(m *Manifest) []byte {
	e := wire.NewEncoder(TagManifest).String(m.Product).String(m.Version).String(m.Channel).
		Uint64(m.SourceDateEpoch).String(m.Recipe).Fixed(m.GitCommit[:]).Fixed(m.SourceSHA256[:]).
		Count(len(m.Targets))
	for _, t := range m.Targets {
		e.String(t.Platform).String(t.Locale).Fixed(t.UnsignedSHA256[:]).Uint64(t.UnsignedSize).
			Fixed(t.SignedSHA512[:]).Uint64(t.SignedSize).String(t.URL)
	}
	return e.Out()
}

func TestManifestRoundTrip(t *testing.T) {
	m := testManifest()
	enc := m.Encode()
	got, err := ParseManifest(enc)
	require.NoError(t, err)
	// Parsing yields the canonical order.
	assert.Equal(t, "linux-x86_64", got.Targets[0].Platform)
	assert.Equal(t, "windows-x86_64", got.Targets[1].Platform)
	assert.Equal(t, enc, got.Encode())
	assert.Equal(t, m.Hash(), got.Hash())
	for _, want := range m.Targets {
		tg, ok := got.Target(want.Key())
		require.True(t, ok)
		assert.Equal(t, want, tg)
	}
	_, ok := got.Target(TargetKey{"linux-x86_64", "de"})
	assert.False(t, ok)
}

func TestManifestEncodingIgnoresTargetOrder(t *testing.T) {
	a := testManifest()
	b := testManifest()
	b.Targets[0], b.Targets[1] = b.Targets[1], b.Targets[0]
	assert.Equal(t, a.Encode(), b.Encode())
	assert.Equal(t, a.Hash(), b.Hash())
	// Encode must not reorder the caller's slice.
	assert.Equal(t, "windows-x86_64", a.Targets[0].Platform)
}

func TestManifestValidate(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	cases := []struct {
		name   string
		mutate func(m *Manifest)
		want   string
	}{
		{"empty product", func(m *Manifest) { m.Product = "" }, "product: empty"},
		{"long product", func(m *Manifest) { m.Product = long(MaxProductLen + 1) }, "product: 65 bytes"},
		{"product with slash", func(m *Manifest) { m.Product = "tor/browser" }, "not allowed"},
		{"product with space", func(m *Manifest) { m.Product = "tor browser" }, "not allowed"},
		{"product non-ascii", func(m *Manifest) { m.Product = "törbrowser" }, "not allowed"},
		{"dot product", func(m *Manifest) { m.Product = ".." }, "must start with a letter or digit"},
		{"empty version", func(m *Manifest) { m.Version = "" }, "version: empty"},
		{"version newline", func(m *Manifest) { m.Version = "14.0\n" }, "not allowed"},
		{"long version", func(m *Manifest) { m.Version = long(MaxVersionLen + 1) }, "version"},
		{"empty channel", func(m *Manifest) { m.Channel = "" }, "channel: empty"},
		{"channel plus", func(m *Manifest) { m.Channel = "a+b" }, "not allowed"},
		{"empty recipe", func(m *Manifest) { m.Recipe = "" }, "recipe: empty"},
		{"recipe double slash", func(m *Manifest) { m.Recipe = "a//b" }, "empty path segment"},
		{"recipe trailing slash", func(m *Manifest) { m.Recipe = "a/" }, "empty path segment"},
		{"recipe leading slash", func(m *Manifest) { m.Recipe = "/a" }, "must start"},
		{"epoch after 9999", func(m *Manifest) { m.SourceDateEpoch = MaxSourceDateEpoch + 1 }, "after year 9999"},
		{"zero commit", func(m *Manifest) { m.GitCommit = GitCommit{} }, "git commit is all zero"},
		{"zero source", func(m *Manifest) { m.SourceSHA256 = Hash256{} }, "source sha-256 is all zero"},
		{"no targets", func(m *Manifest) { m.Targets = nil }, "no targets"},
		{"too many targets", func(m *Manifest) {
			m.Targets = make([]Target, MaxTargets+1)
		}, "513 targets"},
		{"duplicate target", func(m *Manifest) { m.Targets[1].Platform = m.Targets[0].Platform }, "duplicate windows-x86_64/ALL"},
		{"empty platform", func(m *Manifest) { m.Targets[0].Platform = "" }, "platform: empty"},
		{"platform slash", func(m *Manifest) { m.Targets[0].Platform = "linux/x86" }, "not allowed"},
		{"locale dot", func(m *Manifest) { m.Targets[0].Locale = "en.US" }, "not allowed"},
		{"long locale", func(m *Manifest) { m.Targets[0].Locale = long(MaxLocaleLen + 1) }, "locale"},
		{"zero unsigned hash", func(m *Manifest) { m.Targets[0].UnsignedSHA256 = Hash256{} }, "unsigned sha-256"},
		{"zero signed hash", func(m *Manifest) { m.Targets[0].SignedSHA512 = Hash512{} }, "signed sha-512"},
		{"zero unsigned size", func(m *Manifest) { m.Targets[0].UnsignedSize = 0 }, "unsigned size: zero"},
		{"huge signed size", func(m *Manifest) { m.Targets[0].SignedSize = MaxMARSize + 1 }, "signed size"},
		{"empty url", func(m *Manifest) { m.Targets[0].URL = "" }, "url: empty"},
		{"ftp url", func(m *Manifest) { m.Targets[0].URL = "ftp://example.org/a.mar" }, "scheme"},
		{"relative url", func(m *Manifest) { m.Targets[0].URL = "/a.mar" }, "scheme"},
		{"url without host", func(m *Manifest) { m.Targets[0].URL = "https:///a.mar" }, "no host"},
		{"url with space", func(m *Manifest) { m.Targets[0].URL = "https://x.org/a b.mar" }, "not allowed"},
		{"url with del", func(m *Manifest) { m.Targets[0].URL = "https://x.org/a\x7f.mar" }, "not allowed (percent-encode it)"},
		{"url with user", func(m *Manifest) { m.Targets[0].URL = "https://u:p@x.org/a.mar" }, "credentials"},
		{"long url", func(m *Manifest) { m.Targets[0].URL = "https://x.org/" + long(MaxURLLen) }, "url: 1038 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := testManifest()
			c.mutate(m)
			err := m.Validate()
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidManifest)
			assert.Contains(t, err.Error(), c.want)
			// The same manifest is refused by the parser and by NewSignedManifest.
			_, perr := ParseManifest(rawEncode(m))
			assert.Error(t, perr)
			_, serr := NewSignedManifest(m)
			assert.Error(t, serr)
		})
	}
	require.NoError(t, testManifest().Validate())
}

// Every limit is inclusive: a value at the limit is accepted (and survives encoding),
// one past it is refused (TestManifestValidate). The characters at the ends of the
// allowed ranges are accepted too.
func TestManifestValidateAtLimits(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	cases := []struct {
		name   string
		mutate func(m *Manifest)
	}{
		{"product of max length", func(m *Manifest) { m.Product = long(MaxProductLen) }},
		{"locale of max length", func(m *Manifest) { m.Targets[0].Locale = long(MaxLocaleLen) }},
		{"url of max length", func(m *Manifest) {
			m.Targets[0].URL = "https://x.org/" + long(MaxURLLen-len("https://x.org/"))
		}},
		{"epoch at 9999-12-31", func(m *Manifest) { m.SourceDateEpoch = MaxSourceDateEpoch }},
		{"signed size at max", func(m *Manifest) { m.Targets[0].SignedSize = MaxMARSize }},
		{"unsigned size at max", func(m *Manifest) { m.Targets[0].UnsignedSize = MaxMARSize }},
		{"max targets", func(m *Manifest) {
			first := m.Targets[0]
			m.Targets = make([]Target, MaxTargets)
			for i := range m.Targets {
				m.Targets[i] = first
				m.Targets[i].Locale = fmt.Sprintf("l%d", i)
			}
		}},
		{"range ends z Z 9 first", func(m *Manifest) {
			m.Product, m.Version, m.Channel = "z", "Z", "9"
		}},
		{"range ends a A 0 first", func(m *Manifest) {
			m.Product, m.Version, m.Channel = "a", "A", "0"
		}},
		{"range ends inside", func(m *Manifest) { m.Targets[0].Platform = "0azAZ9" }},
		{"url with tilde", func(m *Manifest) { m.Targets[0].URL = "https://x.org/~a!" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := testManifest()
			c.mutate(m)
			require.NoError(t, m.Validate())
			back, err := ParseManifest(m.Encode())
			require.NoError(t, err)
			assert.Equal(t, m.Encode(), back.Encode())
		})
	}
}

func TestParseManifestMalformed(t *testing.T) {
	valid := testManifest().Encode()
	unsorted := testManifest() // windows before linux
	dup := testManifest()
	dup.Targets[1] = dup.Targets[0]
	badUTF8 := testManifest()
	badUTF8.Version = "\xff\xfe"
	lyingCount := rawEncode(&Manifest{Product: "p", Version: "v", Channel: "c", Recipe: "r"})
	lyingCount[len(lyingCount)-1] = 0xff // claims 255 targets, holds none

	cases := []struct {
		name  string
		input []byte
		want  string
	}{
		{"empty", nil, "truncated"},
		{"wrong tag", rawEncodeWithTag("chainiac/v1/block", valid), "domain tag"},
		{"trailing byte", append(append([]byte(nil), valid...), 0), "trailing"},
		{"unsorted targets", rawEncode(unsorted), "must be sorted"},
		{"duplicate targets", rawEncode(dup), "must be sorted"},
		{"invalid utf-8", rawEncode(badUTF8), "UTF-8"},
		{"lying target count", lyingCount, "exceeds remaining input"},
		{"oversized", make([]byte, MaxManifestSize+1), "at most"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseManifest(c.input)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.True(t, strings.HasPrefix(err.Error(), "release: "), err.Error())
		})
	}
}

// rawEncodeWithTag swaps the tag of an encoding for another one.
func rawEncodeWithTag(tag string, enc []byte) []byte {
	body := enc[1+int(enc[0]):]
	return append(append([]byte{byte(len(tag))}, tag...), body...)
}

func TestManifestEveryTruncationFails(t *testing.T) {
	enc := testManifest().Encode()
	for n := 0; n < len(enc); n++ {
		_, err := ParseManifest(enc[:n])
		require.Error(t, err, "prefix of %d bytes", n)
	}
}

func TestFieldLimitsAreEnforcedByDecoder(t *testing.T) {
	m := testManifest()
	m.Product = strings.Repeat("p", MaxProductLen+1)
	_, err := ParseManifest(rawEncode(m))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "product: wire: length 65 exceeds limit 64")
}

func TestManifestDisplay(t *testing.T) {
	m := testManifest()
	s := m.String()
	for _, want := range []string{
		"manifest " + m.Hash().String(), "tor-browser", "14.0.1", "1730419200 (2024-11-01T00:00:00Z)",
		"reference/v1", m.GitCommit.String(), "target linux-x86_64/ALL",
		"97000000 bytes", m.Targets[0].URL,
	} {
		assert.Contains(t, s, want)
	}
	assert.Less(t, strings.Index(s, "linux-x86_64"), strings.Index(s, "windows-x86_64"))

	js, err := json.Marshal(m)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(js, &got))
	assert.Equal(t, m.Hash().String(), got["hash"])
	assert.Equal(t, m.SourceSHA256.String(), got["source_sha256"])
	targets := got["targets"].([]any)
	require.Len(t, targets, 2)
	first := targets[0].(map[string]any)
	assert.Equal(t, "linux-x86_64", first["platform"])
	assert.Equal(t, m.Targets[1].SignedSHA512.String(), first["signed_sha512"])

	// The last valid epoch is displayed as a date, one past it (only in a manifest
	// that does not validate) is not.
	for _, c := range []struct {
		epoch uint64
		want  string
	}{
		{MaxSourceDateEpoch, "253402300799 (9999-12-31T23:59:59Z)"},
		{MaxSourceDateEpoch + 1, "253402300800 (out of range)"},
	} {
		m.SourceDateEpoch = c.epoch
		assert.Contains(t, m.String(), c.want)
	}
}

func TestHexTypes(t *testing.T) {
	type textual interface {
		MarshalText() ([]byte, error)
		String() string
	}
	h := fill256(1)
	h5 := fill512(2)
	c := testManifest().GitCommit
	k := testSigners(t, 1)[0].Public()
	var sig DeveloperSignature
	sig[0] = 9
	cases := []struct {
		in  textual
		out interface{ UnmarshalText([]byte) error }
		n   int
	}{
		{h, new(Hash256), 32}, {h5, new(Hash512), 64}, {c, new(GitCommit), 20},
		{k, new(DeveloperKey), 32}, {sig, new(DeveloperSignature), 64},
	}
	for _, tc := range cases {
		text, err := tc.in.MarshalText()
		require.NoError(t, err)
		assert.Equal(t, tc.in.String(), string(text))
		assert.Len(t, text, 2*tc.n)
		require.NoError(t, tc.out.UnmarshalText(text))
		require.NoError(t, tc.out.UnmarshalText([]byte(strings.ToUpper(string(text)))))
		assert.Equal(t, tc.in.String(), tc.out.(textual).String())
		assert.Error(t, tc.out.UnmarshalText(text[1:]), "short")
		assert.Error(t, tc.out.UnmarshalText(append(text[:len(text)-1:len(text)-1], 'g')), "not hex")
	}
	// A failed UnmarshalText leaves the value untouched.
	got := h
	require.Error(t, got.UnmarshalText([]byte(strings.Repeat("zz", 32))))
	assert.Equal(t, h, got)
}

func TestErrorsAreDistinguishable(t *testing.T) {
	m := testManifest()
	m.Targets = nil
	err := m.Validate()
	assert.True(t, errors.Is(err, ErrInvalidManifest))
	assert.False(t, errors.Is(err, ErrThreshold))
}

// The field validators apply exactly the manifest's rules, for tools that check values
// before a manifest exists.
func TestFieldValidators(t *testing.T) {
	assert.NoError(t, ValidateProduct("tor-browser"))
	assert.NoError(t, ValidateVersion("115.0esr+build1"))
	assert.NoError(t, ValidateChannel("torbrowser-torproject-release"))
	assert.Error(t, ValidateProduct(""))
	assert.Error(t, ValidateProduct(".hidden"))
	assert.Error(t, ValidateChannel("a+b"), "+ only in versions")
	assert.Error(t, ValidateVersion(strings.Repeat("1", MaxVersionLen+1)))
	for _, channel := range []string{"release", "", "-x", "a b", "a/b"} {
		m := testManifest()
		m.Channel = channel
		assert.Equal(t, ValidateChannel(channel) == nil, m.Validate() == nil, "%q", channel)
	}
}
