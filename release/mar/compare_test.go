package mar

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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
			where := "in the " + tc.region
			if tc.region == "entry" {
				where = fmt.Sprintf("in entry %q", tc.entry)
			}
			assert.Equal(t, fmt.Sprintf("%v: first difference at offset %d, %s", ErrMismatch, tc.offset, where), err.Error())
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

// failingReaderAt serves b but fails every read that reaches [from, to).
type failingReaderAt struct {
	b        []byte
	from, to int64
	err      error // nil: pretend the source ends at from (a short read with io.EOF)
}

func (r *failingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	end := off + int64(len(p))
	if end <= r.from || off >= r.to {
		return bytes.NewReader(r.b).ReadAt(p, off)
	}
	n := 0
	if off < r.from {
		n, _ = bytes.NewReader(r.b).ReadAt(p[:r.from-off], off)
	}
	if r.err == nil {
		return n, io.EOF
	}
	return n, r.err
}

// A failure reading the unsigned archive is an error, never a *MismatchError: a
// witness would refuse a good release with a false reason.
func TestCompareStrippedReadErrors(t *testing.T) {
	unsigned := writeBytes(t, sampleInfo, sampleFiles(), WriteOptions{})
	signed := openBytes(t, signBytes(t, unsigned, privateKey(t, "key2048-pkcs8.pem")))
	app, _ := openBytes(t, unsigned).Entry("bin/app")
	at := int64(app.Offset) + 10
	disk := errors.New("input/output error")

	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"read fails", disk, disk},
		{"source ends early", nil, io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &failingReaderAt{b: unsigned, from: at, to: at + 1, err: tc.err}
			u, err := Open(r, int64(len(unsigned)))
			require.NoError(t, err, "opening reads no entry contents")
			err = CompareStripped(signed, u)
			require.ErrorIs(t, err, tc.want)
			assert.NotErrorIs(t, err, ErrMismatch)
			var me *MismatchError
			assert.False(t, errors.As(err, &me))
			assert.Contains(t, err.Error(), "mar: compare: read unsigned archive at offset")
		})
	}

	// A real difference before the failing read is still reported as one.
	changed := bytes.Clone(unsigned)
	changed[at-1] ^= 1
	u, err := Open(&failingReaderAt{b: changed, from: at, to: at + 1, err: disk}, int64(len(changed)))
	require.NoError(t, err)
	var me *MismatchError
	require.ErrorAs(t, CompareStripped(signed, u), &me)
	assert.Equal(t, at-1, me.Offset)
}

// CompareStripped compares in chunks of copyBufferSize: differences just before, at
// and just after each chunk boundary are found at their offsets, and so is a read
// failure at a boundary. (The other tests' archives fit in one chunk.)
func TestCompareStrippedAcrossBuffers(t *testing.T) {
	const b = copyBufferSize
	big := File{Name: "big.bin", Mode: 0o644, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(pseudoRandom(3*b, 7))), nil
	}}
	unsigned := writeBytes(t, sampleInfo, []File{big}, WriteOptions{Compression: Stored})
	require.Greater(t, len(unsigned), 3*b)
	signed := openBytes(t, signBytes(t, unsigned, privateKey(t, "key2048-pkcs8.pem")))
	require.NoError(t, CompareStripped(signed, openBytes(t, unsigned)))

	for _, off := range []int64{b - 1, b, b + 1, 2*b - 1, 2 * b, 2*b + 1, 3 * b, int64(len(unsigned)) - 2} {
		other := bytes.Clone(unsigned)
		other[off] ^= 0x80
		var me *MismatchError
		require.ErrorAs(t, CompareStripped(signed, openBytes(t, other)), &me, "offset %d", off)
		assert.Equal(t, off, me.Offset)
		if off < int64(len(unsigned))-2 {
			assert.Equal(t, "entry", me.Region, "offset %d", off)
			assert.Equal(t, "big.bin", me.Entry)
		}
	}

	disk := errors.New("input/output error")
	for _, off := range []int64{b, 2*b + 1} {
		u, err := Open(&failingReaderAt{b: unsigned, from: off, to: off + 1, err: disk}, int64(len(unsigned)))
		require.NoError(t, err)
		err = CompareStripped(signed, u)
		require.ErrorIs(t, err, disk)
		assert.NotErrorIs(t, err, ErrMismatch)
		assert.ErrorContains(t, err, fmt.Sprintf("read unsigned archive at offset %d:", off))
	}
}

// A signed archive whose file ends early, or fails, while it is stripped, compared or
// verified gives an I/O error (io.ErrUnexpectedEOF for the early end), never a
// mismatch or a bad signature: the missing bytes were never seen.
func TestSignedSourceEndsEarly(t *testing.T) {
	unsigned := writeBytes(t, sampleInfo, sampleFiles(), WriteOptions{})
	key := privateKey(t, "key2048-pkcs8.pem")
	signed := signBytes(t, unsigned, key)
	u := openBytes(t, unsigned)
	app, _ := openBytes(t, signed).Entry("bin/app")
	disk := errors.New("input/output error")
	for _, at := range []int64{int64(app.Offset), int64(app.Offset) + int64(app.Size) - 1} {
		for _, tc := range []struct {
			err, want error
		}{{nil, io.ErrUnexpectedEOF}, {disk, disk}} {
			s, err := Open(&failingReaderAt{b: signed, from: at, to: at + 1, err: tc.err}, int64(len(signed)))
			require.NoError(t, err, "opening reads no entry contents")

			err = CompareStripped(s, u)
			require.ErrorIs(t, err, tc.want, "at %d", at)
			assert.NotErrorIs(t, err, ErrMismatch)
			assert.ErrorContains(t, err, "mar: compare: read signed archive")

			require.ErrorIs(t, Strip(io.Discard, s), tc.want)

			err = Verify(s, &key.PublicKey)
			require.ErrorIs(t, err, tc.want)
			assert.NotErrorIs(t, err, ErrBadSignature)
			var se *SignatureError
			assert.False(t, errors.As(err, &se))
		}
	}
}
