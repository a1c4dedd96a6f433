package mar

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fuzzSeeds(f *testing.F) [][]byte {
	unsigned := writeBytes(f, sampleInfo, sampleFiles(), WriteOptions{})
	return [][]byte{
		readTestdata(f, fixtureBZ2),
		readTestdata(f, fixtureXZ),
		validRaw().encode(),
		unsigned,
		writeBytes(f, sampleInfo, sampleFiles(), WriteOptions{Compression: BZip2}),
		signBytes(f, unsigned, privateKey(f, "key2048-pkcs8.pem")),
	}
}

var fuzzLimits = Limits{MaxEntrySize: 1 << 20, MaxTotalSize: 4 << 20, MaxXZDict: 8 << 20}

// FuzzOpen: garbage gives ErrFormat, never a panic; whatever opens strips
// to an archive that opens, and adding the signatures back gives the input
// bytes exactly.
func FuzzOpen(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	key := publicKey(f, "test.pubkey")
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			require.ErrorIs(t, err, ErrFormat)
			return
		}
		stripped := stripBytes(t, a)
		s, err := Open(bytes.NewReader(stripped), int64(len(stripped)))
		require.NoError(t, err)
		assert.Empty(t, s.Signatures())
		assert.Equal(t, a.Channel(), s.Channel())
		assert.Equal(t, a.Version(), s.Version())
		assert.Equal(t, entryNames(a), entryNames(s))

		if len(a.Signatures()) == 0 {
			assert.Equal(t, data, stripped, "an unsigned archive strips to itself")
			require.ErrorIs(t, Verify(a, key), ErrUnsigned)
		} else {
			var back bytes.Buffer
			require.NoError(t, AddSignatures(&back, s, a.Signatures()))
			assert.Equal(t, data, back.Bytes(), "strip then add is the identity")
			require.NoError(t, CompareStripped(a, s))
			_ = Verify(a, key) // must not panic; the fixture seed verifies
		}
		for _, e := range a.Entries() {
			if _, err := readEntry(a, e, fuzzLimits); err != nil {
				require.True(t, errors.Is(err, ErrCompression) || errors.Is(err, ErrTooLarge), "%v", err)
			}
		}
	})
}

// FuzzEntry feeds arbitrary bytes to the decompressors through an entry.
func FuzzEntry(f *testing.F) {
	text := bytes.Repeat([]byte("pref(\"app.update.channel\", \"release\");\n"), 20)
	var bz bytes.Buffer
	require.NoError(f, compress(&bz, bytes.NewReader(text), BZip2))
	f.Add(xzBytes(f, text))
	f.Add(smallMultiBlockXZ(f, text[:100], nil, text[100:]))
	f.Add(xzStreamOf(xzBlock{prop: 0, declU: -1, lzma2: miscountedChunk(f, text, +1), uncomp: int64(len(text))}))
	f.Add(bz.Bytes())
	for _, name := range []string{fixtureBZ2, fixtureXZ} {
		a := openBytes(f, readTestdata(f, name))
		for _, e := range a.Entries() {
			raw, err := io.ReadAll(a.Raw(e))
			require.NoError(f, err)
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, e := storedArchive(t, raw)
		got, err := readEntry(a, e, fuzzLimits)
		if err != nil {
			require.True(t, errors.Is(err, ErrCompression) || errors.Is(err, ErrTooLarge), "%v", err)
			return
		}
		assert.LessOrEqual(t, int64(len(got)), fuzzLimits.MaxEntrySize)
	})
}
