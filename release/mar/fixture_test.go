package mar

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var fixtureNames = []string{
	"Contents/MacOS/defaults/pref/channel-prefs.js",
	"Contents/MacOS/update-settings.ini",
	"defaults/pref/channel-prefs.js",
	"update-settings.ini",
	"update.manifest",
}

func entryNames(a *Archive) []string {
	var names []string
	for _, e := range a.Entries() {
		names = append(names, e.Name)
	}
	return names
}

func TestFixturesRead(t *testing.T) {
	for _, name := range []string{fixtureBZ2, fixtureXZ} {
		t.Run(name, func(t *testing.T) {
			a := openBytes(t, readTestdata(t, name))
			assert.Equal(t, "thunderbird-comm-esr", a.Channel())
			assert.Equal(t, "100.0", a.Version())
			info, ok := a.ProductInfo()
			assert.True(t, ok)
			assert.Equal(t, ProductInfo{"thunderbird-comm-esr", "100.0"}, info)
			assert.ElementsMatch(t, fixtureNames, entryNames(a))
		})
	}
	bz := openBytes(t, readTestdata(t, fixtureBZ2))
	sigs := bz.Signatures()
	require.Len(t, sigs, 1)
	assert.Equal(t, RSASHA1, sigs[0].Algorithm)
	assert.Len(t, sigs[0].Data, 256)
	assert.Empty(t, openBytes(t, readTestdata(t, fixtureXZ)).Signatures())
}

func TestFixtureVerifiesWithMozillaKey(t *testing.T) {
	a := openBytes(t, readTestdata(t, fixtureBZ2))
	require.NoError(t, Verify(a, publicKey(t, "test.pubkey")))

	// Another key does not verify it, and a key list needs only one match.
	err := Verify(a, publicKey(t, "key2048.pub.pem"))
	require.ErrorIs(t, err, ErrBadSignature)
	var se *SignatureError
	require.True(t, errors.As(err, &se))
	assert.Equal(t, 0, se.Index)
	assert.Equal(t, RSASHA1, se.Algorithm)
	require.NoError(t, Verify(a, publicKey(t, "key2048.pub.pem"), publicKey(t, "test.pubkey")))

	require.ErrorIs(t, Verify(openBytes(t, readTestdata(t, fixtureXZ)), publicKey(t, "test.pubkey")), ErrUnsigned)
}

func TestFixtureContentsAgree(t *testing.T) {
	bz := decompressAll(t, openBytes(t, readTestdata(t, fixtureBZ2)))
	xz := decompressAll(t, openBytes(t, readTestdata(t, fixtureXZ)))
	// Both archives package the same five files, one with bzip2 and one
	// with xz: every decompressed content must be identical.
	for _, name := range fixtureNames {
		require.Contains(t, bz, name)
		require.Contains(t, xz, name)
		assert.NotEmpty(t, bz[name], name)
		assert.Equal(t, bz[name], xz[name], name)
	}
	assert.Equal(t, "pref(\"app.update.channel\", \"release\");\n", string(xz["defaults/pref/channel-prefs.js"]))
	assert.Contains(t, string(bz["update.manifest"]), `add-if "update-settings.ini" "update-settings.ini"`)
}

func TestFixtureStripAddRoundTrip(t *testing.T) {
	orig := readTestdata(t, fixtureBZ2)
	a := openBytes(t, orig)
	stripped := stripBytes(t, a)
	assert.Len(t, stripped, len(orig)-(8+256))

	s := openBytes(t, stripped)
	assert.Empty(t, s.Signatures())
	assert.Equal(t, a.Channel(), s.Channel())
	assert.Equal(t, decompressAll(t, a), decompressAll(t, s))

	var back bytes.Buffer
	require.NoError(t, AddSignatures(&back, s, a.Signatures()))
	assert.Equal(t, orig, back.Bytes())
	require.NoError(t, CompareStripped(a, s))
}

// Rewriting the fixtures' stored entries with our writer gives Mozilla's
// bytes exactly: same header, product information padding, content
// layout and index encoding.
func TestWriterReproducesFixtureLayout(t *testing.T) {
	for _, tc := range []struct {
		name     string
		unsigned func(*testing.T, *Archive) []byte
	}{
		{fixtureXZ, func(t *testing.T, a *Archive) []byte { return readTestdata(t, fixtureXZ) }},
		{fixtureBZ2, func(t *testing.T, a *Archive) []byte { return stripBytes(t, a) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := openBytes(t, readTestdata(t, tc.name))
			var files []File
			for _, e := range a.Entries() {
				raw := make([]byte, e.Size)
				_, err := a.Raw(e).ReadAt(raw, 0)
				require.NoError(t, err)
				files = append(files, bytesFile(e.Name, e.Mode, raw))
			}
			info, _ := a.ProductInfo()
			got := writeBytes(t, info, files, WriteOptions{Compression: Stored})
			assert.Equal(t, tc.unsigned(t, a), got)
		})
	}
}
