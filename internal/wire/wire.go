package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// MaxTagLen bounds domain tags; tags are short ASCII names.
const MaxTagLen = 64

// ErrTruncated is returned when the input ends before a field does.
var ErrTruncated = errors.New("wire: truncated input")

// Encoder appends fields to a buffer. It never fails: limits are the decoder's job, and
// encoders of chainiac types check their own invariants before encoding. A length or
// count over 2³²−1 is a programming error and panics.
type Encoder struct {
	buf []byte
}

// NewEncoder starts a message with the given domain tag.
func NewEncoder(tag string) *Encoder {
	if len(tag) == 0 || len(tag) > MaxTagLen {
		panic("wire: bad tag length") // a programming error, never input-driven
	}
	e := &Encoder{buf: make([]byte, 0, 256)}
	e.buf = append(e.buf, byte(len(tag)))
	e.buf = append(e.buf, tag...)
	return e
}

// Uint8 appends one byte.
func (e *Encoder) Uint8(v uint8) *Encoder { e.buf = append(e.buf, v); return e }

// Uint16 appends a big-endian u16.
func (e *Encoder) Uint16(v uint16) *Encoder {
	e.buf = binary.BigEndian.AppendUint16(e.buf, v)
	return e
}

// Uint32 appends a big-endian u32.
func (e *Encoder) Uint32(v uint32) *Encoder {
	e.buf = binary.BigEndian.AppendUint32(e.buf, v)
	return e
}

// Uint64 appends a big-endian u64.
func (e *Encoder) Uint64(v uint64) *Encoder {
	e.buf = binary.BigEndian.AppendUint64(e.buf, v)
	return e
}

// Fixed appends raw bytes whose length is fixed by the field's type.
func (e *Encoder) Fixed(b []byte) *Encoder { e.buf = append(e.buf, b...); return e }

// Bytes appends a u32 length and the bytes.
func (e *Encoder) Bytes(b []byte) *Encoder {
	e.Uint32(u32Length(len(b)))
	e.buf = append(e.buf, b...)
	return e
}

// String appends a string as Bytes.
func (e *Encoder) String(s string) *Encoder {
	e.Uint32(u32Length(len(s)))
	e.buf = append(e.buf, s...)
	return e
}

// Count appends a list length.
func (e *Encoder) Count(n int) *Encoder { return e.Uint32(u32Length(n)) }

// u32Length is a length or count as its u32 field. One that does not fit would be
// written truncated, and two messages would share an encoding: a programming error,
// since encoders of chainiac types check their limits first.
func u32Length(n int) uint32 {
	if n < 0 || uint64(n) > math.MaxUint32 {
		panic(fmt.Sprintf("wire: length %d does not fit a u32 field", n))
	}
	return uint32(n)
}

// Out returns the encoded message.
func (e *Encoder) Out() []byte { return e.buf }

// Decoder reads fields in order. After the first error every read returns a zero value
// and Finish reports that first error.
type Decoder struct {
	buf   []byte
	off   int
	err   error
	field string
}

// NewDecoder checks the domain tag and returns a decoder positioned after it.
func NewDecoder(b []byte, tag string) *Decoder {
	d := &Decoder{buf: b}
	n := int(d.Uint8())
	got := d.take(n)
	if d.err == nil && string(got) != tag {
		d.err = fmt.Errorf("wire: domain tag %q, want %q", truncate(got), tag)
	}
	return d
}

// Field names the field being read, so that errors say where the input went wrong.
func (d *Decoder) Field(name string) *Decoder {
	d.field = name
	return d
}

func (d *Decoder) fail(err error) {
	if d.err == nil {
		if d.field != "" {
			err = fmt.Errorf("%s: %w", d.field, err)
		}
		d.err = err
	}
}

func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.buf)-d.off {
		d.fail(ErrTruncated)
		return nil
	}
	b := d.buf[d.off : d.off+n]
	d.off += n
	return b
}

// Uint8 reads one byte.
func (d *Decoder) Uint8() uint8 {
	b := d.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

// Uint16 reads a big-endian u16.
func (d *Decoder) Uint16() uint16 {
	b := d.take(2)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint16(b)
}

// Uint32 reads a big-endian u32.
func (d *Decoder) Uint32() uint32 {
	b := d.take(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

// Uint64 reads a big-endian u64.
func (d *Decoder) Uint64() uint64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// Fixed reads exactly n raw bytes into dst's length; dst must have length n.
func (d *Decoder) Fixed(dst []byte) {
	copy(dst, d.take(len(dst)))
}

// Bytes reads a length-prefixed byte string of at most max bytes. The result is a copy,
// so callers may keep it after the input buffer is reused.
func (d *Decoder) Bytes(max int) []byte {
	n := d.length(max)
	b := d.take(n)
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// String reads a length-prefixed UTF-8 string of at most max bytes.
func (d *Decoder) String(max int) string {
	n := d.length(max)
	b := d.take(n)
	if d.err == nil && !utf8.Valid(b) {
		d.fail(errors.New("wire: string is not valid UTF-8"))
		return ""
	}
	return string(b)
}

// Count reads a list length of at most max elements, each at least minSize encoded
// bytes long, so a lying count cannot make the caller allocate more than the input
// could hold.
func (d *Decoder) Count(max, minSize int) int {
	n := d.length(max)
	if d.err == nil && minSize > 0 && n > (len(d.buf)-d.off)/minSize {
		d.fail(fmt.Errorf("wire: count %d exceeds remaining input", n))
		return 0
	}
	return n
}

func (d *Decoder) length(max int) int {
	v := d.Uint32()
	if d.err != nil {
		return 0
	}
	if uint64(v) > uint64(max) {
		d.fail(fmt.Errorf("wire: length %d exceeds limit %d", v, max))
		return 0
	}
	return int(v)
}

// Fail records an error found by the caller (an invalid value in a well-formed field),
// so that it is reported by Finish like any other.
func (d *Decoder) Fail(err error) { d.fail(err) }

// Err returns the first error so far.
func (d *Decoder) Err() error { return d.err }

// Finish returns the first error, or an error if input remains after the last field.
func (d *Decoder) Finish() error {
	if d.err != nil {
		return d.err
	}
	if d.off != len(d.buf) {
		return fmt.Errorf("wire: %d trailing bytes", len(d.buf)-d.off)
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > MaxTagLen {
		b = b[:MaxTagLen]
	}
	return string(b)
}
