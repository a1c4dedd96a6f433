package mar

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every limit of Open is inclusive: an archive at the limit opens, one past it is
// refused (TestOpenMalformed). The cases are the smallest archives that reach each
// limit exactly.
func TestOpenAtLimits(t *testing.T) {
	mod := func(f func(m *rawMAR)) []byte { m := validRaw(); f(&m); return m.encode() }
	sigs := func(n, size int) []Signature {
		s := make([]Signature, n)
		for i := range s {
			s[i] = Signature{Algorithm: RSASHA384, Data: bytes.Repeat([]byte{byte(i + 1)}, size)}
		}
		return s
	}
	cases := []struct {
		name  string
		data  []byte
		check func(t *testing.T, a *Archive)
	}{
		{"smallest archive", rawMAR{}.encode(), func(t *testing.T, a *Archive) {
			assert.Equal(t, int64(headerSize+4+4), a.Size())
			assert.Empty(t, a.Entries())
		}},
		{"MaxSignatures signatures", mod(func(m *rawMAR) { m.sigs = sigs(MaxSignatures, 1) }), func(t *testing.T, a *Archive) {
			assert.Len(t, a.Signatures(), MaxSignatures)
		}},
		{"signature of MaxSignatureSize bytes", mod(func(m *rawMAR) { m.sigs = sigs(1, MaxSignatureSize) }), func(t *testing.T, a *Archive) {
			assert.Len(t, a.Signatures()[0].Data, MaxSignatureSize)
		}},
		{"MaxSections sections", mod(func(m *rawMAR) {
			for len(m.sections) < MaxSections {
				m.sections = append(m.sections, section(7, nil))
			}
		}), func(t *testing.T, a *Archive) { assert.Equal(t, "release", a.Channel()) }},
		{"section of MaxSectionSize bytes", mod(func(m *rawMAR) {
			m.sections = [][]byte{pib("release", "1.0", MaxSectionSize-sectionHdrSize-len("release\x001.0\x00"))}
			require.Len(t, m.sections[0], MaxSectionSize)
		}), func(t *testing.T, a *Archive) { assert.Equal(t, "1.0", a.Version()) }},
		{"section of header only", mod(func(m *rawMAR) { m.sections = [][]byte{section(7, nil)} }), func(t *testing.T, a *Archive) {
			assert.Equal(t, "", a.Channel())
		}},
		{"section ending at the index", rawMAR{sections: [][]byte{pib("c", "v", 0)}}.encode(), func(t *testing.T, a *Archive) {
			assert.Equal(t, "c", a.Channel())
		}},
		{"name of MaxNameLen bytes", mod(func(m *rawMAR) { m.entries[1].Name = strings.Repeat("n", MaxNameLen) }), func(t *testing.T, a *Archive) {
			assert.Len(t, a.Entries()[1].Name, MaxNameLen)
		}},
		{"channel and version of the printable range ends", mod(func(m *rawMAR) { m.sections = [][]byte{pib("a b", "~", 0)} }), func(t *testing.T, a *Archive) {
			assert.Equal(t, "a b", a.Channel())
			assert.Equal(t, "~", a.Version())
		}},
		{"name with a space", mod(func(m *rawMAR) { m.entries[1].Name = "dir/b c" }), func(t *testing.T, a *Archive) {
			assert.Equal(t, "dir/b c", a.Entries()[1].Name)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Open(bytes.NewReader(tc.data), int64(len(tc.data)))
			require.NoError(t, err)
			tc.check(t, a)
		})
	}
	assert.NoError(t, CheckName("a b"))
}

// An index of exactly MaxIndexSize bytes is read (16 MiB of empty entries with
// names of MaxNameLen bytes).
func TestOpenIndexOfMaximumSize(t *testing.T) {
	const full = indexEntryFixed + MaxNameLen + 1
	m := rawMAR{}
	for size := 0; size < MaxIndexSize; {
		nameLen := min(MaxNameLen, MaxIndexSize-size-indexEntryFixed-1)
		name := fmt.Sprintf("%08d", len(m.entries))
		m.entries = append(m.entries, Entry{Name: name + strings.Repeat("x", nameLen-len(name))})
		size += indexEntryFixed + nameLen + 1
	}
	require.Greater(t, len(m.entries), MaxIndexSize/full)
	a := openBytes(t, m.encode())
	assert.Len(t, a.Entries(), len(m.entries))
}

// A file of MaxFileSize bytes passes the size check: Open goes on to read its header.
func TestOpenReadsFileOfMaximumSize(t *testing.T) {
	h := &hugeReader{}
	_, err := Open(h, MaxFileSize)
	require.ErrorIs(t, err, ErrFormat) // a header of zeros
	assert.ErrorContains(t, err, "bad magic")
	assert.NotZero(t, h.reads)
}

// The index offset error names the range it allows; the index's last entry being
// shorter than an entry's fixed part plus a name and its NUL is refused as truncated
// (10, 11, 12 and 13 bytes: none may be read as an entry).
func TestOpenIndexErrors(t *testing.T) {
	b := putU32(validRaw().encode(), 4, 8)
	_, err := Open(bytes.NewReader(b), int64(len(b)))
	assert.ErrorContains(t, err, fmt.Sprintf("index offset 8 outside [%d, %d]", headerSize+4, len(b)-4))

	const indexAt = 134
	for n := 1; n < indexEntryFixed+2; n++ {
		b := append(validRaw().encode(), make([]byte, n)...)
		binary.BigEndian.PutUint64(b[8:], uint64(len(b)))
		putU32(b, indexAt, binary.BigEndian.Uint32(b[indexAt:])+uint32(n))
		_, err := Open(bytes.NewReader(b), int64(len(b)))
		assert.ErrorContains(t, err, "index entry 2 truncated", "%d trailing bytes", n)
	}
}

// AddSignatures accepts a signature of MaxSignatureSize bytes and refuses one more.
func TestAddSignaturesAtLimits(t *testing.T) {
	m := validRaw()
	m.sigs = nil
	a := openBytes(t, m.encode())
	var out bytes.Buffer
	sig := Signature{Algorithm: RSASHA384, Data: make([]byte, MaxSignatureSize)}
	require.NoError(t, AddSignatures(&out, a, []Signature{sig}))
	assert.Len(t, openBytes(t, out.Bytes()).Signatures()[0].Data, MaxSignatureSize)
	sig.Data = append(sig.Data, 0)
	assert.ErrorContains(t, AddSignatures(&bytes.Buffer{}, a, []Signature{sig}), "outside [1, 2048]")
}

// sparseMAR is an unsigned archive of the given size whose content is zeros, served
// without holding it: head, then zeros, then tail (the index).
type sparseMAR struct {
	head, tail []byte
	size       int64
}

func newSparseMAR(size int64) *sparseMAR {
	head := binary.BigEndian.AppendUint32([]byte("MAR1"), uint32(size-4))
	head = binary.BigEndian.AppendUint64(head, uint64(size))
	head = append(head, make([]byte, 8)...)                          // no signatures, no sections
	return &sparseMAR{head: head, tail: make([]byte, 4), size: size} // empty index
}

func (s *sparseMAR) ReadAt(p []byte, off int64) (int, error) {
	for i := range p {
		switch o := off + int64(i); {
		case o < int64(len(s.head)):
			p[i] = s.head[o]
		case o >= s.size-int64(len(s.tail)) && o < s.size:
			p[i] = s.tail[o-(s.size-int64(len(s.tail)))]
		default:
			p[i] = 0
		}
	}
	return len(p), nil
}

type failingWriter struct{}

var errWriteRefused = errors.New("test writer refuses")

func (failingWriter) Write([]byte) (int, error) { return 0, errWriteRefused }

// An archive that grows to exactly MaxFileSize with its signature block is
// written (the test's writer stops it at the first bytes); one byte more is refused
// before anything is written.
func TestAddSignaturesResultOfMaximumSize(t *testing.T) {
	sig := Signature{Algorithm: RSASHA384, Data: []byte{1}}
	grow := int64(sigHeaderSize + len(sig.Data))
	for _, c := range []struct {
		size int64
		want error
	}{
		{MaxFileSize - grow, errWriteRefused},
		{MaxFileSize - grow + 1, nil},
	} {
		s := newSparseMAR(c.size)
		a, err := Open(s, s.size)
		require.NoError(t, err)
		err = AddSignatures(failingWriter{}, a, []Signature{sig})
		if c.want != nil {
			assert.ErrorIs(t, err, c.want, "size %d", c.size)
		} else {
			assert.ErrorContains(t, err, "exceeds", "size %d", c.size)
		}
	}
}
