package wire

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

const testTag = "chainiac/v1/test"

type sample struct {
	small  uint8
	medium uint16
	index  uint32
	time   uint64
	id     [4]byte
	name   string
	blob   []byte
	items  []string
}

func (s sample) encode() []byte {
	e := NewEncoder(testTag).Uint8(s.small).Uint16(s.medium).Uint32(s.index).Uint64(s.time).
		Fixed(s.id[:]).String(s.name).Bytes(s.blob).Count(len(s.items))
	for _, it := range s.items {
		e.String(it)
	}
	return e.Out()
}

func decodeSample(b []byte) (sample, error) {
	var s sample
	d := NewDecoder(b, testTag)
	s.small = d.Uint8()
	s.medium = d.Uint16()
	s.index = d.Uint32()
	s.time = d.Uint64()
	d.Fixed(s.id[:])
	s.name = d.Field("name").String(16)
	s.blob = d.Field("blob").Bytes(32)
	n := d.Field("items").Count(8, 4)
	for i := 0; i < n; i++ {
		s.items = append(s.items, d.String(16))
	}
	return s, d.Finish()
}

func validSample() sample {
	return sample{1, 0x0203, 0x04050607, 0x08090a0b0c0d0e0f, [4]byte{9, 9, 9, 9},
		"name", []byte{0xff, 0}, []string{"a", "", "ccc"}}
}

func TestRoundTrip(t *testing.T) {
	want := validSample()
	enc := want.encode()
	got, err := decodeSample(enc)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Equal(t, enc, got.encode())
}

// The encoding is pinned: a change here changes every ID and signature in chainiac.
func TestKnownEncoding(t *testing.T) {
	enc := NewEncoder("t").Uint8(1).Uint16(2).Uint32(3).Uint64(4).Fixed([]byte{0xaa}).
		String("hi").Bytes(nil).Count(0).Out()
	want := []byte{1, 't', 1, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4, 0xaa,
		0, 0, 0, 2, 'h', 'i', 0, 0, 0, 0, 0, 0, 0, 0}
	require.Equal(t, want, enc)
}

func TestEveryTruncationFails(t *testing.T) {
	enc := validSample().encode()
	for n := 0; n < len(enc); n++ {
		_, err := decodeSample(enc[:n])
		require.Error(t, err, "prefix of %d bytes", n)
	}
}

func TestRejects(t *testing.T) {
	long := validSample()
	long.name = "this name is far too long"
	many := validSample()
	many.items = make([]string, 9)
	badUTF8 := validSample()
	badUTF8.name = "\xff"
	tests := []struct {
		name  string
		input []byte
		want  string
	}{
		{"empty", nil, "truncated"},
		{"wrong tag", NewEncoder("chainiac/v1/other").Out(), "domain tag"},
		{"trailing", append(validSample().encode(), 0), "trailing"},
		{"over limit", long.encode(), "name: wire: length 25 exceeds limit 16"},
		{"too many", many.encode(), "items: wire: length 9 exceeds limit 8"},
		{"not utf8", badUTF8.encode(), "UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeSample(tc.input)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestCountCannotOutrunInput(t *testing.T) {
	// A count within the limit but larger than the remaining input could hold.
	enc := NewEncoder(testTag).Count(1000).Out()
	d := NewDecoder(enc, testTag)
	require.Zero(t, d.Count(1<<20, 4))
	require.ErrorContains(t, d.Finish(), "exceeds remaining input")
}

func TestFailIsSticky(t *testing.T) {
	d := NewDecoder(NewEncoder(testTag).Uint32(7).Out(), testTag)
	d.Fail(errors.New("first"))
	require.Zero(t, d.Uint32())
	require.EqualError(t, d.Finish(), "first")
	require.ErrorIs(t, decodeErr(), ErrTruncated)
}

func decodeErr() error {
	d := NewDecoder([]byte{1}, "t")
	return d.Finish()
}

func FuzzDecode(f *testing.F) {
	f.Add(validSample().encode())
	f.Add([]byte{})
	f.Add(NewEncoder(testTag).Out())
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSample(b)
		if err != nil {
			return
		}
		if !bytes.Equal(s.encode(), b) {
			t.Fatalf("decode∘encode is not the identity: %x", b)
		}
	})
}

func ExampleEncoder() {
	msg := NewEncoder("chainiac/v1/example").Uint32(7).String("hello").Out()
	d := NewDecoder(msg, "chainiac/v1/example")
	n, s := d.Uint32(), d.String(64)
	fmt.Println(n, s, d.Finish())
	// Output: 7 hello <nil>
}

// A length or count that does not fit its u32 field would be written truncated, and
// two different messages would share one encoding: that is a programming error.
func TestEncoderRefusesLengthsOverU32(t *testing.T) {
	n := math.MaxUint32
	require.NotPanics(t, func() { NewEncoder(testTag).Count(n) })
	n++
	require.Panics(t, func() { NewEncoder(testTag).Count(n) })
	require.Panics(t, func() { NewEncoder(testTag).Count(-1) })
}
