package mar

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"slices"
)

// Archive is a parsed MAR. Open checks every header field, the signature
// block, the additional sections and the index; the entry contents stay in
// the underlying io.ReaderAt and are read only on demand.
type Archive struct {
	r            io.ReaderAt
	size         int64
	indexOffset  int64
	sigs         []Signature
	sigHeaders   []int64 // offset of each signature's algorithm field
	sigEnd       int64   // first byte after the signature block
	contentStart int64   // first byte after the additional sections
	info         ProductInfo
	hasInfo      bool
	entries      []Entry // in index order
}

// Open parses the MAR of the given size read through r. It reads the
// header, signatures, sections and index (at most a few MiB, see the
// limits) and none of the entry contents. The Archive keeps r and reads
// entry contents from it on demand, so r must stay usable while it is.
func Open(r io.ReaderAt, size int64) (*Archive, error) {
	if r == nil {
		return nil, errors.New("mar: open: nil reader")
	}
	if size < 0 || size > MaxFileSize {
		return nil, formatError("file size %d outside [0, %d]", size, MaxFileSize)
	}
	if size < headerSize+4+4 {
		return nil, formatError("file size %d too small for header, sections and index", size)
	}
	a := &Archive{r: r, size: size}
	hdr, err := readAt(r, 0, headerSize)
	if err != nil {
		return nil, err
	}
	if string(hdr[:4]) != magic {
		return nil, formatError("bad magic %q", hdr[:4])
	}
	a.indexOffset = int64(be.Uint32(hdr[offIndexOffset:]))
	if declared := be.Uint64(hdr[offFileSize:]); declared != uint64(size) {
		return nil, formatError("header file size %d, actual size %d", declared, size)
	}
	// Everything up to the index lies before it, so checking the index
	// offset against the size here bounds every later read.
	if a.indexOffset < headerSize+4 || a.indexOffset+4 > size {
		return nil, formatError("index offset %d outside [%d, %d]", a.indexOffset, headerSize+4, size-4)
	}
	if err := a.readSignatures(be.Uint32(hdr[offSigCount:])); err != nil {
		return nil, err
	}
	if err := a.readSections(); err != nil {
		return nil, err
	}
	if err := a.readIndex(); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Archive) readSignatures(count uint32) error {
	if count > MaxSignatures {
		return formatError("signature count %d exceeds %d", count, MaxSignatures)
	}
	pos := int64(headerSize)
	for i := range int(count) {
		if pos+sigHeaderSize > a.indexOffset {
			return formatError("signature %d header not before index offset", i)
		}
		h, err := readAt(a.r, pos, sigHeaderSize)
		if err != nil {
			return err
		}
		alg, n := Algorithm(be.Uint32(h)), be.Uint32(h[4:])
		if n == 0 || n > MaxSignatureSize {
			return formatError("signature %d length %d outside [1, %d]", i, n, MaxSignatureSize)
		}
		if pos+sigHeaderSize+int64(n) > a.indexOffset {
			return formatError("signature %d data not before index offset", i)
		}
		data, err := readAt(a.r, pos+sigHeaderSize, int(n))
		if err != nil {
			return err
		}
		a.sigHeaders = append(a.sigHeaders, pos)
		a.sigs = append(a.sigs, Signature{Algorithm: alg, Data: data})
		pos += sigHeaderSize + int64(n)
	}
	a.sigEnd = pos
	return nil
}

func (a *Archive) readSections() error {
	pos := a.sigEnd
	if pos+4 > a.indexOffset {
		return formatError("section count at %d not before index offset %d", pos, a.indexOffset)
	}
	b, err := readAt(a.r, pos, 4)
	if err != nil {
		return err
	}
	count := be.Uint32(b)
	if count > MaxSections {
		return formatError("additional section count %d exceeds %d", count, MaxSections)
	}
	pos += 4
	for i := range int(count) {
		if pos+sectionHdrSize > a.indexOffset {
			return formatError("section %d header not before index offset", i)
		}
		h, err := readAt(a.r, pos, sectionHdrSize)
		if err != nil {
			return err
		}
		size, id := be.Uint32(h), be.Uint32(h[4:])
		if size < sectionHdrSize || size > MaxSectionSize {
			return formatError("section %d size %d outside [%d, %d]", i, size, sectionHdrSize, MaxSectionSize)
		}
		if pos+int64(size) > a.indexOffset {
			return formatError("section %d extends past index offset", i)
		}
		if id == productInfoID {
			if a.hasInfo {
				return formatError("second product information block (section %d)", i)
			}
			data, err := readAt(a.r, pos+sectionHdrSize, int(size)-sectionHdrSize)
			if err != nil {
				return err
			}
			if a.info, err = parseProductInfo(data); err != nil {
				return err
			}
			a.hasInfo = true
		}
		pos += int64(size)
	}
	a.contentStart = pos
	return nil
}

// parseProductInfo reads channel NUL version NUL and checks that the rest
// is zero padding.
func parseProductInfo(data []byte) (ProductInfo, error) {
	channel, rest, ok := bytes.Cut(data, []byte{0})
	if !ok {
		return ProductInfo{}, formatError("product information: channel not NUL-terminated")
	}
	version, pad, ok := bytes.Cut(rest, []byte{0})
	if !ok {
		return ProductInfo{}, formatError("product information: version not NUL-terminated")
	}
	if !printable(string(channel)) || !printable(string(version)) {
		return ProductInfo{}, formatError("product information: channel or version not printable ASCII")
	}
	if bytes.ContainsFunc(pad, func(r rune) bool { return r != 0 }) {
		return ProductInfo{}, formatError("product information: non-zero padding")
	}
	return ProductInfo{Channel: string(channel), Version: string(version)}, nil
}

func (a *Archive) readIndex() error {
	b, err := readAt(a.r, a.indexOffset, 4)
	if err != nil {
		return err
	}
	declared := int64(be.Uint32(b))
	if actual := a.size - a.indexOffset - 4; declared != actual {
		return formatError("index size %d, but %d bytes follow the index offset", declared, actual)
	}
	if declared > MaxIndexSize {
		return formatError("index size %d exceeds %d", declared, MaxIndexSize)
	}
	index, err := readAt(a.r, a.indexOffset+4, int(declared))
	if err != nil {
		return err
	}
	seen := make(map[string]bool)
	for len(index) > 0 {
		if len(a.entries) == MaxEntries {
			return formatError("more than %d entries", MaxEntries)
		}
		if len(index) < indexEntryFixed+2 {
			return formatError("index entry %d truncated", len(a.entries))
		}
		e := Entry{Offset: be.Uint32(index), Size: be.Uint32(index[4:]), Mode: be.Uint32(index[8:])}
		name := index[indexEntryFixed:]
		end := bytes.IndexByte(name[:min(len(name), MaxNameLen+1)], 0)
		switch {
		case end < 0:
			return formatError("index entry %d: name not NUL-terminated within %d bytes", len(a.entries), MaxNameLen)
		case end == 0:
			return formatError("index entry %d: empty name", len(a.entries))
		}
		e.Name = string(name[:end])
		if seen[e.Name] {
			return formatError("index entry %d: duplicate name %q", len(a.entries), e.Name)
		}
		seen[e.Name] = true
		if int64(e.Offset) < a.contentStart || int64(e.Offset)+int64(e.Size) > a.indexOffset {
			return formatError("entry %q [%d, +%d) outside content area [%d, %d)",
				e.Name, e.Offset, e.Size, a.contentStart, a.indexOffset)
		}
		a.entries = append(a.entries, e)
		index = name[end+1:]
	}
	return checkOverlap(a.entries)
}

func checkOverlap(entries []Entry) error {
	byOffset := slices.Clone(entries)
	// Ties broken by size, so an empty entry at another's start is fine
	// whatever order the index lists them in.
	slices.SortFunc(byOffset, func(x, y Entry) int {
		return cmp.Or(cmp.Compare(x.Offset, y.Offset), cmp.Compare(x.Size, y.Size))
	})
	for i := 1; i < len(byOffset); i++ {
		prev, cur := byOffset[i-1], byOffset[i]
		if int64(prev.Offset)+int64(prev.Size) > int64(cur.Offset) {
			return formatError("entries %q and %q overlap", prev.Name, cur.Name)
		}
	}
	return nil
}

// Size is the archive's size in bytes.
func (a *Archive) Size() int64 { return a.size }

// Channel is the update channel of the product information block, or ""
// if the archive has none.
func (a *Archive) Channel() string { return a.info.Channel }

// Version is the product version of the product information block, or ""
// if the archive has none.
func (a *Archive) Version() string { return a.info.Version }

// ProductInfo returns the product information block and whether there is one.
func (a *Archive) ProductInfo() (ProductInfo, bool) { return a.info, a.hasInfo }

// Signatures returns a copy of the signature block.
func (a *Archive) Signatures() []Signature {
	out := make([]Signature, len(a.sigs))
	for i, s := range a.sigs {
		out[i] = Signature{Algorithm: s.Algorithm, Data: slices.Clone(s.Data)}
	}
	return out
}

// Entries returns the index entries in index order.
func (a *Archive) Entries() []Entry { return slices.Clone(a.entries) }

// Entry returns the entry with the given name.
func (a *Archive) Entry(name string) (Entry, bool) {
	for _, e := range a.entries {
		if e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

// Raw returns the stored (compressed) bytes of e, an entry of this archive.
func (a *Archive) Raw(e Entry) *io.SectionReader {
	return io.NewSectionReader(a.r, int64(e.Offset), int64(e.Size))
}
