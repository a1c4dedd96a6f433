package mar

import "encoding/binary"

// rawMAR is a test-side MAR encoder, written independently of the package's
// writer so malformed files can be built field by field. Entry offsets are
// relative to the start of content.
type rawMAR struct {
	sigs     []Signature
	sections [][]byte // each complete, with its 8-byte header
	content  []byte
	entries  []Entry
}

func (m rawMAR) encode() []byte {
	var body []byte
	body = binary.BigEndian.AppendUint32(body, uint32(len(m.sigs)))
	for _, s := range m.sigs {
		body = binary.BigEndian.AppendUint32(body, uint32(s.Algorithm))
		body = binary.BigEndian.AppendUint32(body, uint32(len(s.Data)))
		body = append(body, s.Data...)
	}
	body = binary.BigEndian.AppendUint32(body, uint32(len(m.sections)))
	for _, s := range m.sections {
		body = append(body, s...)
	}
	contentStart := 16 + len(body)
	body = append(body, m.content...)
	indexOffset := 16 + len(body)
	var index []byte
	for _, e := range m.entries {
		index = binary.BigEndian.AppendUint32(index, e.Offset+uint32(contentStart))
		index = binary.BigEndian.AppendUint32(index, e.Size)
		index = binary.BigEndian.AppendUint32(index, e.Mode)
		index = append(append(index, e.Name...), 0)
	}
	body = binary.BigEndian.AppendUint32(body, uint32(len(index)))
	body = append(body, index...)
	out := []byte("MAR1")
	out = binary.BigEndian.AppendUint32(out, uint32(indexOffset))
	out = binary.BigEndian.AppendUint64(out, uint64(16+len(body)))
	return append(out, body...)
}

// section builds an additional section with the given id and data.
func section(id uint32, data []byte) []byte {
	s := binary.BigEndian.AppendUint32(nil, uint32(8+len(data)))
	s = binary.BigEndian.AppendUint32(s, id)
	return append(s, data...)
}

// pib builds a product information block padded to pad data bytes.
func pib(channel, version string, pad int) []byte {
	data := append([]byte(channel+"\x00"+version+"\x00"), make([]byte, pad)...)
	return section(1, data)
}

// putU32 overwrites a big-endian u32 at off.
func putU32(b []byte, off int, v uint32) []byte {
	binary.BigEndian.PutUint32(b[off:], v)
	return b
}
