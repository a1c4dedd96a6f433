package mar

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz/lzma"
)

// xzBlock is one block of a hand-made xz stream with check type none: a header with
// the given dictionary property (and, if uncomp >= 0, a declared uncompressed size)
// followed by raw LZMA2 data. unpadded and uncomp are what the index records.
type xzBlock struct {
	prop   byte
	declU  int64 // declared uncompressed size, or -1
	declC  bool  // declare the compressed size, len(lzma2)
	lzma2  []byte
	uncomp int64
}

// xzStreamOf builds a stream (check type none) holding the given blocks.
func xzStreamOf(blocks ...xzBlock) []byte {
	out := []byte(xzHeaderMagic)
	out = append(out, 0, 0)
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE([]byte{0, 0}))
	idx := binary.AppendUvarint([]byte{0}, uint64(len(blocks)))
	for _, b := range blocks {
		h := []byte{0, 0}
		if b.declC {
			h[1] |= 0x40
			h = binary.AppendUvarint(h, uint64(len(b.lzma2)))
		}
		if b.declU >= 0 {
			h[1] |= 0x80
			h = binary.AppendUvarint(h, uint64(b.declU))
		}
		h = append(h, xzFilterLZMA2, 1, b.prop)
		for (len(h)+4)%4 != 0 {
			h = append(h, 0)
		}
		h[0] = byte((len(h)+4)/4 - 1)
		h = binary.LittleEndian.AppendUint32(h, crc32.ChecksumIEEE(h))
		out = append(out, h...)
		out = append(out, b.lzma2...)
		unpadded := len(h) + len(b.lzma2)
		for (len(h)+len(b.lzma2))%4 != 0 {
			b.lzma2 = append(b.lzma2, 0)
			out = append(out, 0)
		}
		idx = binary.AppendUvarint(idx, uint64(unpadded))
		idx = binary.AppendUvarint(idx, uint64(b.uncomp))
	}
	for len(idx)%4 != 0 {
		idx = append(idx, 0)
	}
	idx = binary.LittleEndian.AppendUint32(idx, crc32.ChecksumIEEE(idx))
	out = append(out, idx...)
	ft := binary.LittleEndian.AppendUint32(nil, uint32(len(idx)/4-1))
	ft = append(ft, 0, 0)
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(ft))
	out = append(out, ft...)
	return append(out, xzFooterMagic...)
}

// xzProp64MiB is the LZMA2 dictionary property for 64 MiB, DefaultMaxXZDict.
const xzProp64MiB = 28

// emptyBlocks is n blocks that each ask for a 64 MiB dictionary and hold nothing
// (LZMA2 data: the end marker alone).
func emptyBlocks(n int) []byte {
	blocks := make([]xzBlock, n)
	for i := range blocks {
		blocks[i] = xzBlock{prop: xzProp64MiB, declU: -1, lzma2: []byte{0}}
	}
	return xzStreamOf(blocks...)
}

// uncompressedChunks is LZMA2 data holding p as uncompressed chunks (the first with a
// dictionary reset), then the end marker.
func uncompressedChunks(p []byte) []byte {
	var out []byte
	ctrl := byte(1)
	for len(p) > 0 {
		n := min(len(p), 1<<16)
		out = append(out, ctrl, byte((n-1)>>8), byte(n-1))
		out = append(out, p[:n]...)
		p, ctrl = p[n:], 2
	}
	return append(out, 0)
}

// allocatedReading returns the bytes allocated while decoding raw with
// NewXZReader, what it decoded, and the error.
func allocatedReading(t *testing.T, raw []byte, maxDict int64) (uint64, []byte, error) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var got []byte
	r, err := NewXZReader(bytes.NewReader(raw), int64(len(raw)), maxDict)
	if err == nil {
		got, err = io.ReadAll(r)
	}
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, got, err
}

// A stream of empty blocks, each declaring a 64 MiB dictionary, produces no output,
// so no output limit stops it: each block must cost no more than the little it can
// need. (200 such blocks are 3.6 KB; the decoder used to allocate 12.5 GiB.)
func TestXZEmptyBlocksAllocateLittle(t *testing.T) {
	raw := emptyBlocks(200)
	require.Less(t, len(raw), 4000)
	allocated, got, err := allocatedReading(t, raw, DefaultMaxXZDict)
	require.NoError(t, err)
	require.Empty(t, got)
	require.Less(t, allocated, uint64(4<<20), "decoding %d bytes of empty blocks allocated %d bytes", len(raw), allocated)
}

// A block that declares its uncompressed size needs no dictionary larger than that;
// it still gets as much as it uses (here matches 20000 bytes back).
func TestXZDeclaredSizeBoundsDictionary(t *testing.T) {
	r := pseudoRandom(20000, 9)
	content := append(bytes.Clone(r), r...)
	blocks := make([]xzBlock, 8)
	var want []byte
	for i := range blocks {
		data := lzma2Of(t, content)
		if i%2 == 1 {
			data = uncompressedChunks(content)
		}
		blocks[i] = xzBlock{prop: xzProp64MiB, declU: int64(len(content)), lzma2: data, uncomp: int64(len(content))}
		want = append(want, content...)
	}
	allocated, got, err := allocatedReading(t, xzStreamOf(blocks...), DefaultMaxXZDict)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Less(t, allocated, uint64(8<<20))
}

// lzma2Of is content compressed as raw LZMA2 data by the xz library's writer.
func lzma2Of(t testing.TB, content []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := lzma.Writer2Config{DictCap: 8 << 20}.NewWriter2(&buf)
	require.NoError(t, err)
	_, err = w.Write(content)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// Blocks that do not declare their size, as xz -T1 --block-size writes them (with
// the preset's dictionary, 64 MiB for -9, in every header), get a dictionary sized
// by what their LZMA2 chunks declare.
func TestXZUndeclaredSizeBoundsDictionary(t *testing.T) {
	var blocks []xzBlock
	var want []byte
	for i := range 6 {
		content := append(pseudoRandom(20000, uint64(i)), bytes.Repeat([]byte("tor "), 10000*i)...)
		data := lzma2Of(t, content)
		if i%2 == 1 {
			data = uncompressedChunks(content) // several chunks, types 1 and 2
		}
		blocks = append(blocks, xzBlock{prop: xzProp64MiB, declU: -1, lzma2: data, uncomp: int64(len(content))})
		want = append(want, content...)
	}
	allocated, got, err := allocatedReading(t, xzStreamOf(blocks...), DefaultMaxXZDict)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Less(t, allocated, uint64(16<<20))
}

// All the dictionaries a reader allocates come to at most DefaultMaxXZDict (or the
// limit, if larger) plus what it has decoded. An empty block costs the decoder's
// minimum dictionary, 4 KiB: so 16384 of them fit, one more does not, and output
// earns room.
func TestXZDictionaryBudget(t *testing.T) {
	const fit = DefaultMaxXZDict / lzma.MinDictCap
	empty := xzBlock{prop: xzProp64MiB, declU: -1, lzma2: []byte{0}}
	repeat := func(first []xzBlock, n int) []byte {
		for range n {
			first = append(first, empty)
		}
		return xzStreamOf(first...)
	}
	_, _, err := allocatedReading(t, repeat(nil, fit), DefaultMaxXZDict)
	require.NoError(t, err)

	_, _, err = allocatedReading(t, repeat(nil, fit+1), DefaultMaxXZDict)
	require.ErrorIs(t, err, ErrCompression)
	require.ErrorContains(t, err, fmt.Sprintf("block %d: LZMA2 dictionaries of %d bytes for 0 bytes of output exceed the budget", fit, (fit+1)*lzma.MinDictCap))

	// A larger limit is a larger budget.
	_, _, err = allocatedReading(t, repeat(nil, fit+1), 2*DefaultMaxXZDict)
	require.NoError(t, err)

	// A first block of 8 KiB pays for its own 8 KiB dictionary.
	content := bytes.Repeat([]byte("x"), 8192)
	data := xzBlock{prop: xzProp64MiB, declU: -1, lzma2: uncompressedChunks(content), uncomp: 8192}
	_, got, err := allocatedReading(t, repeat([]xzBlock{data}, fit), DefaultMaxXZDict)
	require.NoError(t, err)
	require.Equal(t, content, got)
}

// The dictionary is sized by the chunk headers before decoding; the decoder must
// then read the chunks they declare. Here an LZMA chunk claims one byte more than
// the decoder reads, and that byte would end the data for the decoder, while the
// size walk sees one more uncompressed chunk: refused where the chunk ends.
func TestXZChunkSizesMustMatchDecoder(t *testing.T) {
	d := lzma2Of(t, bytes.Repeat([]byte("abc"), 100))
	require.Equal(t, byte(0xe0), d[0]) // one LZMA chunk with properties
	c := int(binary.BigEndian.Uint16(d[3:])) + 1
	chunk := bytes.Clone(d[:6+c])
	binary.BigEndian.PutUint16(chunk[3:], uint16(c)) // c+1 bytes
	chunk = append(chunk, 0x00, 0x02, 0, 0, 'X', 0x00)
	_, _, err := allocatedReading(t, xzStreamOf(xzBlock{prop: 0, declU: -1, lzma2: chunk, uncomp: 300}), DefaultMaxXZDict)
	require.ErrorIs(t, err, ErrCompression)
	require.ErrorContains(t, err, fmt.Sprintf("LZMA2 chunk data at 30: its header declares %d bytes, the decoder read %d", c+1, c))
}

// Chunk headers the size walk cannot read are refused before the decoder starts.
func TestXZBadChunkHeaders(t *testing.T) {
	for name, tc := range map[string]struct {
		data []byte
		msg  string
	}{
		"control byte 3":             {[]byte{0x03, 0, 0, 0}, "bad LZMA2 chunk control byte 0x3"},
		"control byte 0x7f":          {[]byte{0x7f, 0, 0, 0}, "bad LZMA2 chunk control byte 0x7f"},
		"no end marker":              {nil, "LZMA2 chunk header: truncated"},
		"uncompressed header cut":    {[]byte{0x01, 0}, "LZMA2 chunk header: truncated"},
		"LZMA header cut":            {[]byte{0x80, 0, 0, 0}, "LZMA2 chunk header: truncated"},
		"LZMA properties header cut": {[]byte{0xe0, 0, 0, 0, 0}, "LZMA2 chunk header: truncated"},
		"chunk past the data":        {[]byte{0x01, 0, 9, 'a'}, "LZMA2 chunk header: truncated"},
	} {
		t.Run(name, func(t *testing.T) {
			// The block's declared compressed size ends its data where tc.data ends.
			raw := xzStreamOf(xzBlock{prop: 0, declU: -1, declC: true, lzma2: tc.data})
			_, _, err := allocatedReading(t, raw, DefaultMaxXZDict)
			require.ErrorIs(t, err, ErrCompression)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

// lzma2Controls lists the control bytes of the chunks of LZMA2 data.
func lzma2Controls(d []byte) []byte {
	var out []byte
	for p := 0; p < len(d); {
		c := d[p]
		out = append(out, c)
		switch {
		case c == 0:
			return out
		case c < 0x80:
			p += 3 + int(binary.BigEndian.Uint16(d[p+1:])) + 1
		case c < 0xc0:
			p += 5 + int(binary.BigEndian.Uint16(d[p+3:])) + 1
		default:
			p += 6 + int(binary.BigEndian.Uint16(d[p+3:])) + 1
		}
	}
	return out
}

// Every kind of LZMA2 chunk is walked with its own header length: LZMA chunks
// without a reset (0x80) and with a state reset and new properties but no
// dictionary reset (0xc0), as well as those the other tests use.
func TestXZChunkKinds(t *testing.T) {
	// A 4-letter alphabet fills a 64 KiB compressed chunk with about 250 KB; what
	// follows the first chunk, under 64 KiB, gets control byte 0x80 exactly.
	letters := func(n int) []byte {
		b := pseudoRandom(n, 3)
		for i := range b {
			b[i] = "acgt"[b[i]%4]
		}
		return b
	}
	first := lzma2Of(t, letters(400_000))
	firstSize := int(first[0]&0x1f)<<16 | int(binary.BigEndian.Uint16(first[1:])) + 1
	content := letters(firstSize + 30000)
	multi := lzma2Of(t, content)
	require.Contains(t, lzma2Controls(multi), byte(0x80))

	// An uncompressed chunk of four zero bytes resets the dictionary, then an LZMA
	// chunk made with properties (0xe0) is relabelled 0xc0: a state reset and new
	// properties keeping the dictionary. Its matches never reach into the zeros, and
	// after four zeros the literal and position contexts are those of a fresh start.
	small := []byte("chunk kinds, chunk kinds, chunk kinds")
	lz := lzma2Of(t, small)
	require.Equal(t, []byte{0xe0, 0}, lzma2Controls(lz))
	lz[0] = 0xc0
	relabelled := append([]byte{0x01, 0, 3, 0, 0, 0, 0}, lz[:len(lz)-1]...)
	relabelled = append(relabelled, 0x02, 0, 1, 'o', 'k', 0x00) // and two more bytes

	raw := xzStreamOf(
		xzBlock{prop: xzProp64MiB, declU: -1, lzma2: multi, uncomp: int64(len(content))},
		xzBlock{prop: xzProp64MiB, declU: -1, lzma2: relabelled, uncomp: int64(4 + len(small) + 2)},
	)
	allocated, got, err := allocatedReading(t, raw, DefaultMaxXZDict)
	require.NoError(t, err)
	want := append(bytes.Clone(content), make([]byte, 4)...)
	want = append(append(want, small...), "ok"...)
	require.Equal(t, want, got)
	require.Less(t, allocated, uint64(16<<20))
}
