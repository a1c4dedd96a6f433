package mar

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"os/exec"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// xzBlockHeader is a one-filter LZMA2 block header with the given dictionary
// property, no size fields, and a valid CRC32.
func xzBlockHeader(prop byte) []byte {
	h := []byte{2, 0, 0x21, 0x01, prop, 0, 0, 0} // size byte 2: 12 bytes
	return binary.LittleEndian.AppendUint32(h, crc32.ChecksumIEEE(h))
}

func uvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

// xzDesync builds an xz stream whose index claims a layout that differs from
// what a forward decoder sees: the first block really ends earlier than the
// index says, and the forward decoder then finds a block header asking for a
// dictionary of 2<<(evil/2+11) bytes where the backward walk sees only
// padding inside block 0. The backward walk's block 1 is a harmless header.
func xzDesync(t *testing.T, evil byte) []byte {
	good := withDictProperty(t, xzBytes(t, []byte("x")), 0) // 4 KiB dictionary
	// Split the writer's single-block stream: header, block 0, index+footer.
	footer := good[len(good)-12:]
	indexSize := (int(binary.LittleEndian.Uint32(footer[4:8])) + 1) * 4
	block0 := good[12 : len(good)-12-indexSize]
	streamHdr := good[:12]

	var body []byte
	body = append(body, block0...)
	body = append(body, xzBlockHeader(evil)...) // seen only by the forward decoder
	body = append(body, make([]byte, 16)...)
	p0 := len(body) // block 0 as the index claims it
	body = append(body, xzBlockHeader(0)...)
	body = append(body, make([]byte, 4)...)
	p1 := len(body) - p0

	idx := []byte{0}
	idx = uvarint(idx, 2)
	idx = uvarint(uvarint(idx, uint64(p0)), 1)
	idx = uvarint(uvarint(idx, uint64(p1)), 1)
	for len(idx)%4 != 0 {
		idx = append(idx, 0)
	}
	idx = binary.LittleEndian.AppendUint32(idx, crc32.ChecksumIEEE(idx))

	ft := binary.LittleEndian.AppendUint32(nil, uint32(len(idx)/4-1))
	ft = append(ft, footer[8:10]...)
	ft = append(binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(ft)), ft...)
	ft = append(ft, 'Y', 'Z')

	out := append(bytes.Clone(streamHdr), body...)
	out = append(out, idx...)
	return append(out, ft...)
}

// The dictionary pre-check walks the container backwards through the index,
// but the decoder walks forwards and compares its blocks with the index only
// at the end. A stream whose index lies about block 0's size hides a block
// header from the pre-check, and the decoder allocates that header's
// dictionary.
func TestXZDictionaryCheckMatchesDecoder(t *testing.T) {
	const limit = 4096  // MaxXZDict for this test: property 0
	const evilProp = 24 // 2<<23 = 16 MiB dictionary
	const evilDict = 16 << 20
	a, e := storedArchive(t, xzDesync(t, evilProp))

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r, err := a.OpenEntry(e, Limits{MaxXZDict: limit})
	if err == nil {
		_, err = io.Copy(io.Discard, r)
	}
	runtime.ReadMemStats(&after)
	require.Error(t, err)
	allocated := after.TotalAlloc - before.TotalAlloc
	require.Less(t, allocated, uint64(evilDict),
		"decoder allocated %d bytes for a dictionary the %d-byte limit should have refused (error: %v)", allocated, limit, err)
	require.ErrorContains(t, err, "dictionary")
}

// The forward reader accepts every check type xz writes, and refuses or decodes
// unchanged every single-byte change of a checked stream.
func TestXZCheckTypesAndMangling(t *testing.T) {
	xzPath, err := exec.LookPath("xz")
	if err != nil {
		t.Skip("xz command not found")
	}
	content := append(pseudoRandom(300, 5), bytes.Repeat([]byte("tor "), 200)...)
	for _, check := range []string{"none", "crc32", "crc64", "sha256"} {
		t.Run(check, func(t *testing.T) {
			cmd := exec.Command(xzPath, "--check="+check, "-c")
			cmd.Stdin = bytes.NewReader(content)
			raw, err := cmd.Output()
			require.NoError(t, err)
			a, e := storedArchive(t, raw)
			got, err := readEntry(a, e, Limits{})
			require.NoError(t, err)
			require.True(t, bytes.Equal(content, got))
			if check == "none" {
				return // nothing to catch a change in the compressed data
			}
			for i := range raw {
				bad := bytes.Clone(raw)
				bad[i] ^= 0x01
				a, e := storedArchive(t, bad)
				got, err := readEntry(a, e, Limits{})
				if err == nil {
					require.True(t, bytes.Equal(content, got), "byte %d changed decodes to other content", i)
				}
			}
		})
	}
}

// NewXZReader is the same forward reader for a whole xz file, as release/build uses
// for source archives.
func TestNewXZReader(t *testing.T) {
	content := bytes.Repeat([]byte("source "), 1000)
	raw := xzBytes(t, content)
	r, err := NewXZReader(bytes.NewReader(raw), int64(len(raw)), DefaultMaxXZDict)
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, content, got)

	r, err = NewXZReader(bytes.NewReader(raw), int64(len(raw)), 1<<20)
	if err == nil {
		_, err = io.ReadAll(r)
	}
	require.ErrorIs(t, err, ErrCompression)
	require.ErrorContains(t, err, "dictionary")
}
