package mar

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompareStripped(t *testing.T) {
	unsigned := writeBytes(t, sampleInfo, sampleFiles(), WriteOptions{})
	signed := openBytes(t, signBytes(t, unsigned, privateKey(t, "key2048-pkcs8.pem")))
	require.NoError(t, CompareStripped(signed, openBytes(t, unsigned)))

	u := openBytes(t, unsigned)
	app, _ := u.Entry("bin/app")
	manifest, _ := u.Entry("update.manifest")
	cases := []struct {
		name   string
		mutate func([]byte) []byte
		region string
		entry  string
		offset int64
	}{
		{"entry byte", func(b []byte) []byte { b[app.Offset+10] ^= 1; return b }, "entry", "bin/app", int64(app.Offset) + 10},
		{"first entry byte", func(b []byte) []byte { b[manifest.Offset] ^= 1; return b }, "entry", "update.manifest", int64(manifest.Offset)},
		{"product info", func(b []byte) []byte { b[40] = 'X'; return b }, "additional sections", "", 40},
		{"index mode", func(b []byte) []byte { b[len(b)-2] = 'X'; return b }, "index", "", int64(len(unsigned) - 2)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			other := openBytes(t, tc.mutate(bytes.Clone(unsigned)))
			err := CompareStripped(signed, other)
			require.ErrorIs(t, err, ErrMismatch)
			var me *MismatchError
			require.True(t, errors.As(err, &me))
			assert.Equal(t, tc.region, me.Region)
			assert.Equal(t, tc.entry, me.Entry)
			assert.Equal(t, tc.offset, me.Offset)
		})
	}

	// A different archive of another length differs already in the header.
	shorter := openBytes(t, writeBytes(t, sampleInfo, sampleFiles()[:2], WriteOptions{}))
	var me *MismatchError
	require.True(t, errors.As(CompareStripped(signed, shorter), &me))
	assert.Equal(t, "header", me.Region)

	require.ErrorIs(t, CompareStripped(u, u), ErrUnsigned)
	require.ErrorIs(t, CompareStripped(signed, signed), ErrSigned)
}

func TestCompareStrippedFixtures(t *testing.T) {
	bz := openBytes(t, readTestdata(t, fixtureBZ2))
	require.NoError(t, CompareStripped(bz, openBytes(t, stripBytes(t, bz))))
	err := CompareStripped(bz, openBytes(t, readTestdata(t, fixtureXZ)))
	var me *MismatchError
	require.True(t, errors.As(err, &me), "%v", err)
	assert.Equal(t, int64(6), me.Offset, "index offsets (0x2d5 and 0x34c) differ first in their third byte")
	assert.Equal(t, "header", me.Region)
}
