package mar

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validRaw is a small well-formed archive with one signature, a product
// information block and two entries (stored bytes; Open does not look at
// entry contents).
func validRaw() rawMAR {
	return rawMAR{
		sigs:     []Signature{{Algorithm: RSASHA384, Data: bytes.Repeat([]byte{7}, 64)}},
		sections: [][]byte{pib("release", "1.0", 8)},
		content:  []byte("aaaabbbbbb"),
		entries: []Entry{
			{Name: "a", Offset: 0, Size: 4, Mode: 0o644},
			{Name: "dir/b", Offset: 4, Size: 6, Mode: 0o755},
		},
	}
}

func TestRawEncoderIsValid(t *testing.T) {
	a := openBytes(t, validRaw().encode())
	assert.Equal(t, "release", a.Channel())
	assert.Equal(t, "1.0", a.Version())
	assert.Len(t, a.Entries(), 2)
	assert.Len(t, a.Signatures(), 1)
}

func TestOpenMalformed(t *testing.T) {
	// Offsets in validRaw().encode(): header 0-19, signature 20-91, section
	// count 92, product information 96-123, content 124-133, index 134.
	const indexAt, contentAt = 134, 124
	sigBlockEnd := 20 + 8 + 64

	mod := func(f func(m *rawMAR)) []byte { m := validRaw(); f(&m); return m.encode() }
	patch := func(f func(b []byte) []byte) []byte { return f(validRaw().encode()) }
	bigIndex := func(n int) rawMAR {
		m := validRaw()
		m.entries = nil
		for i := range n {
			m.entries = append(m.entries, Entry{Name: strings.Repeat("x", 1) + string(rune('a'+i%26)) + strings.Repeat("y", i/26%3) + itoa(i), Offset: 0, Size: 0})
		}
		return m
	}

	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"bad magic", patch(func(b []byte) []byte { b[0] = 'X'; return b }), "bad magic"},
		{"file size lies up", patch(func(b []byte) []byte { binary.BigEndian.PutUint64(b[8:], uint64(len(b)+1)); return b }), "header file size"},
		{"file size lies down", patch(func(b []byte) []byte { binary.BigEndian.PutUint64(b[8:], uint64(len(b)-1)); return b }), "header file size"},
		{"index offset past end", patch(func(b []byte) []byte { return putU32(b, 4, uint32(len(b))) }), "index"},
		{"index offset huge", patch(func(b []byte) []byte { return putU32(b, 4, 0xffffffff) }), "index"},
		{"index offset in header", patch(func(b []byte) []byte { return putU32(b, 4, 8) }), "index offset"},
		{"index offset in signature", patch(func(b []byte) []byte { return putU32(b, 4, 40) }), "signature 0 data not before index offset"},
		{"index offset in content", patch(func(b []byte) []byte { return putU32(b, 4, contentAt+2) }), "index size"},
		{"index size lies up", patch(func(b []byte) []byte { return putU32(b, indexAt, binary.BigEndian.Uint32(b[indexAt:])+1) }), "index size"},
		{"index size lies down", patch(func(b []byte) []byte { return putU32(b, indexAt, binary.BigEndian.Uint32(b[indexAt:])-1) }), "index size"},
		{"index size huge", patch(func(b []byte) []byte { return putU32(b, indexAt, 0xfffffff0) }), "index size"},
		{"entry offset past end", patch(func(b []byte) []byte { return putU32(b, indexAt+4, 0xfffffff0) }), "outside content area"},
		{"entry offset in header", patch(func(b []byte) []byte { return putU32(b, indexAt+4, 10) }), "outside content area"},
		{"entry offset in sections", patch(func(b []byte) []byte { return putU32(b, indexAt+4, uint32(sigBlockEnd)) }), "outside content area"},
		{"entry size into index", patch(func(b []byte) []byte { return putU32(b, indexAt+8, 11) }), "outside content area"},
		{"entry size huge", patch(func(b []byte) []byte { return putU32(b, indexAt+8, 0xffffffff) }), "outside content area"},
		{"overlapping entries", mod(func(m *rawMAR) { m.entries[1].Offset = 2 }), "overlap"},
		{"same offset entries", mod(func(m *rawMAR) { m.entries[1].Offset = 0; m.entries[1].Size = 1 }), "overlap"},
		{"duplicate names", mod(func(m *rawMAR) { m.entries[1].Name = "a" }), "duplicate name"},
		{"empty name", mod(func(m *rawMAR) { m.entries[0].Name = "" }), "empty name"},
		{"empty last name", mod(func(m *rawMAR) { m.entries[1].Name = "" }), "index entry 1"},
		{"name not terminated", patch(func(b []byte) []byte { return b[:len(b)-1] }), ""},
		{"name too long", mod(func(m *rawMAR) { m.entries[1].Name = strings.Repeat("n", MaxNameLen+1) }), "not NUL-terminated within"},
		{"too many entries", bigIndex(MaxEntries + 1).encode(), "more than"},
		{"signature count 9", patch(func(b []byte) []byte { return putU32(b, 16, 9) }), "signature count"},
		{"signature count huge", patch(func(b []byte) []byte { return putU32(b, 16, 0xffffffff) }), "signature count"},
		{"signature count 2", patch(func(b []byte) []byte { return putU32(b, 16, 2) }), ""},
		{"signature length 0", mod(func(m *rawMAR) { m.sigs[0].Data = nil }), "signature 0 length"},
		{"signature length 2049", mod(func(m *rawMAR) { m.sigs[0].Data = make([]byte, 2049) }), "signature 0 length"},
		{"signature length huge", patch(func(b []byte) []byte { return putU32(b, 24, 0xffffffff) }), "signature 0 length"},
		{"signature length past end", patch(func(b []byte) []byte { return putU32(b, 24, 2048) }), ""},
		{"section count huge", patch(func(b []byte) []byte { return putU32(b, sigBlockEnd, 0xffffffff) }), "section count"},
		{"section count 17", patch(func(b []byte) []byte { return putU32(b, sigBlockEnd, 17) }), "section count"},
		{"section count 2", patch(func(b []byte) []byte { return putU32(b, sigBlockEnd, 2) }), ""},
		{"section size 7", patch(func(b []byte) []byte { return putU32(b, sigBlockEnd+4, 7) }), "section 0 size"},
		{"section size huge", patch(func(b []byte) []byte { return putU32(b, sigBlockEnd+4, 0xffffffff) }), "section 0 size"},
		{"section past index", mod(func(m *rawMAR) { m.sections[0] = putU32(m.sections[0], 0, 4000) }), "past index offset"},
		{"product info without NULs", mod(func(m *rawMAR) { m.sections[0] = section(1, []byte("releaseversion")) }), "channel not NUL-terminated"},
		{"product info version without NUL", mod(func(m *rawMAR) { m.sections[0] = section(1, []byte("release\x001.0")) }), "version not NUL-terminated"},
		{"product info empty", mod(func(m *rawMAR) { m.sections[0] = section(1, nil) }), "channel not NUL-terminated"},
		{"product info non-zero padding", mod(func(m *rawMAR) { m.sections[0] = section(1, []byte("release\x001.0\x00\x00x")) }), "non-zero padding"},
		{"product info control character", mod(func(m *rawMAR) { m.sections[0] = pib("rel\nease", "1.0", 0) }), "printable"},
		{"two product info blocks", mod(func(m *rawMAR) { m.sections = append(m.sections, pib("x", "y", 0)) }), "second product information"},
		{"too small", []byte("MAR1"), "too small"},
		{"empty", nil, "too small"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(bytes.NewReader(tc.data), int64(len(tc.data)))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrFormat)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "mar: "), err.Error())
		})
	}
}

func itoa(i int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		if i /= 10; i == 0 {
			return string(b)
		}
	}
}

func TestOpenAcceptsUnknownSectionsAndNoProductInfo(t *testing.T) {
	m := validRaw()
	m.sections = [][]byte{section(7, []byte("opaque")), pib("c", "v", 0)}
	a := openBytes(t, m.encode())
	assert.Equal(t, "c", a.Channel())

	m.sections = nil
	a = openBytes(t, m.encode())
	_, ok := a.ProductInfo()
	assert.False(t, ok)
	assert.Equal(t, "", a.Channel())
}

// Every truncation of a valid archive fails, both as is (the header's file
// size no longer matches) and with the file size field patched to the new
// length, which makes the parser run into the missing bytes.
func TestOpenTruncated(t *testing.T) {
	for _, full := range [][]byte{validRaw().encode(), readTestdata(t, fixtureBZ2), readTestdata(t, fixtureXZ)} {
		for n := range len(full) {
			b := bytes.Clone(full[:n])
			_, err := Open(bytes.NewReader(b), int64(n))
			require.ErrorIs(t, err, ErrFormat, "truncated at %d", n)
			if n >= 16 {
				binary.BigEndian.PutUint64(b[8:], uint64(n))
				_, err = Open(bytes.NewReader(b), int64(n))
				require.ErrorIs(t, err, ErrFormat, "truncated at %d with patched size", n)
			}
		}
	}
}

// hugeReader claims to be larger than MaxFileSize; Open must refuse
// without reading.
type hugeReader struct{ reads int }

func (h *hugeReader) ReadAt(p []byte, off int64) (int, error) { h.reads++; return len(p), nil }

func TestOpenRefusesOversizedFile(t *testing.T) {
	h := &hugeReader{}
	_, err := Open(h, MaxFileSize+1)
	require.ErrorIs(t, err, ErrFormat)
	assert.Zero(t, h.reads)
	_, err = Open(h, -1)
	require.ErrorIs(t, err, ErrFormat)
}

func TestEmptyEntryAtAnothersStart(t *testing.T) {
	for _, order := range [][2]int{{0, 1}, {1, 0}} {
		m := validRaw()
		pair := []Entry{{Name: "empty", Offset: 4, Size: 0}, {Name: "full", Offset: 4, Size: 6}}
		m.entries = []Entry{m.entries[0], pair[order[0]], pair[order[1]]}
		a := openBytes(t, m.encode())
		assert.Len(t, a.Entries(), 3)
	}
}

func TestOpenEntryRefusesForeignEntry(t *testing.T) {
	a := openBytes(t, readTestdata(t, fixtureXZ))
	_, err := a.OpenEntry(Entry{Name: "forged", Offset: 0, Size: 20}, Limits{})
	require.ErrorContains(t, err, "not in this archive's content area")
}

// The section count (4 bytes) must fit between the end of the signature block and
// the index: a signature block ending 0 to 3 bytes before the index is refused, one
// ending 4 bytes before it leaves room for a count of zero.
func TestSignatureBlockEndsJustBeforeIndex(t *testing.T) {
	// header 0-15, signature count 16-19, signature header 20-27, signature data
	// 28-(28+L), section count, then the index at indexAt with an empty entry list.
	const L = 64
	const indexAt = 28 + L + 4
	base := rawMAR{sigs: []Signature{{Algorithm: RSASHA384, Data: bytes.Repeat([]byte{7}, L)}}}.encode()
	require.Equal(t, uint32(indexAt), binary.BigEndian.Uint32(base[4:]))
	a := openBytes(t, base)
	require.Len(t, a.Signatures(), 1)
	require.Empty(t, a.Entries())

	for gap := range 4 {
		t.Run(itoa(gap), func(t *testing.T) {
			// The signature swallows the section count but for gap bytes.
			b := putU32(bytes.Clone(base), 24, uint32(L+4-gap))
			_, err := Open(bytes.NewReader(b), int64(len(b)))
			require.ErrorIs(t, err, ErrFormat)
			require.ErrorContains(t, err, fmt.Sprintf("section count at %d not before index offset %d", indexAt-gap, indexAt))
		})
	}
}

// A difference in the byte just after an entry lies in the gap that follows it, not
// in the entry; an Entry that reaches past the content area (one not from this
// archive) is refused by OpenEntry.
func TestEntryBoundaries(t *testing.T) {
	m := rawMAR{
		sigs:     []Signature{{Algorithm: RSASHA384, Data: bytes.Repeat([]byte{7}, 64)}},
		sections: [][]byte{pib("release", "1.0", 8)},
		content:  []byte("aaaa-bbbbbb"),
		entries:  []Entry{{Name: "a", Offset: 0, Size: 4, Mode: 0o644}, {Name: "b", Offset: 5, Size: 6, Mode: 0o644}},
	}
	a := openBytes(t, m.encode())
	ea, _ := a.Entry("a")
	eb, _ := a.Entry("b")
	for off, want := range map[int64][2]string{
		int64(ea.Offset) + 3: {"entry", "a"},
		int64(ea.Offset) + 4: {"gap", ""},
		int64(eb.Offset):     {"entry", "b"},
		int64(eb.Offset) + 5: {"entry", "b"},
		int64(eb.Offset) + 6: {"index", ""},
	} {
		me := a.mismatchAt(off)
		assert.Equal(t, want[0], me.Region, "offset %d", off)
		assert.Equal(t, want[1], me.Entry, "offset %d", off)
	}

	for _, e := range []Entry{
		{Name: "b", Offset: eb.Offset, Size: eb.Size + 1},
		{Name: "a", Offset: ea.Offset - 1, Size: ea.Size},
	} {
		_, err := a.OpenEntry(e, Limits{})
		require.ErrorContains(t, err, "is not in this archive's content area")
	}
	_, err := a.OpenEntry(eb, Limits{})
	require.ErrorIs(t, err, ErrCompression, "in the content area: read, and not xz or bzip2")
}
