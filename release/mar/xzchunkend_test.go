package mar

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os/exec"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// miscountedChunk is content as one LZMA chunk whose header claims delta more
// compressed bytes than the chunk has, then the end marker.
func miscountedChunk(t testing.TB, content []byte, delta int) []byte {
	t.Helper()
	d := lzma2Of(t, content)
	require.Equal(t, byte(0xe0), d[0], "one LZMA chunk with properties")
	c := int(binary.BigEndian.Uint16(d[3:])) + 1
	require.Equal(t, []byte{0}, d[6+c:], "the chunk, then the end marker")
	binary.BigEndian.PutUint16(d[3:], uint16(c-1+delta))
	return d
}

// systemXZ decodes raw with the system xz, or skips the test if it is absent.
func systemXZ(t *testing.T, raw []byte) ([]byte, error) {
	t.Helper()
	path, err := exec.LookPath("xz")
	if err != nil {
		t.Skip("xz command not found")
	}
	cmd := exec.Command(path, "-dc")
	cmd.Stdin = bytes.NewReader(raw)
	return cmd.Output()
}

// An LZMA chunk's header says how many compressed bytes it has, and the decoder must
// use exactly those: xz refuses a chunk whose header claims one byte more or one
// fewer. The first block's 4096 bytes are its whole dictionary, so the size walk
// stops after the chunk, and with one byte claimed too many the end marker counts as
// that byte while the decoder still ends on it: the block keeps its size, only the
// chunk boundary tells.
func TestXZChunkCompressedSizeIsExact(t *testing.T) {
	first := sourceLike(4096, 21)
	second := []byte("second block")
	stream := func(delta int) []byte {
		return xzStreamOf(
			xzBlock{prop: 0, declU: -1, lzma2: miscountedChunk(t, first, delta), uncomp: int64(len(first))},
			xzBlock{prop: 0, declU: -1, lzma2: uncompressedChunks(second), uncomp: int64(len(second))},
		)
	}
	want := append(bytes.Clone(first), second...)

	raw := stream(0)
	got, err := decodeXZ(bytes.NewReader(raw), int64(len(raw)))
	require.NoError(t, err)
	require.Equal(t, want, got)

	for _, delta := range []int{+1, -1} {
		t.Run(fmt.Sprintf("%+d", delta), func(t *testing.T) {
			raw := stream(delta)
			got, err := decodeXZ(bytes.NewReader(raw), int64(len(raw)))
			require.ErrorIs(t, err, ErrCompression)
			require.NotEqual(t, want, got)
			if delta < 0 { // the decoder needs the byte the header does not give it
				require.ErrorContains(t, err, "LZMA2 chunk data at 30: unexpected EOF")
				return
			}
			declared := int(binary.BigEndian.Uint16(raw[24+3:])) + 1
			require.ErrorContains(t, err, fmt.Sprintf("LZMA2 chunk data at 30: its header declares %d bytes, the decoder read %d",
				declared, declared-1))
		})
	}

	got, err = systemXZ(t, stream(0))
	require.NoError(t, err)
	require.Equal(t, want, got)
	for _, delta := range []int{+1, -1} {
		_, err := systemXZ(t, stream(delta))
		require.Error(t, err, "xz -dc accepts a chunk claiming %+d compressed bytes", delta)
	}
}

// Real files cross many chunk boundaries, of both kinds, each checked: xz's presets,
// its multi-block output, and this package's writer with a stored random piece.
func TestXZChunkBoundariesOfRealFiles(t *testing.T) {
	content := append(pseudoRandom(300_000, 22), sourceLike(3<<20, 22)...)
	streams := map[string][]byte{}
	if path, err := exec.LookPath("xz"); err == nil {
		for _, args := range [][]string{{"-6"}, {"-9"}, {"-T2", "--block-size=1MiB"}} {
			cmd := exec.Command(path, append(args, "-c")...)
			cmd.Stdin = bytes.NewReader(content)
			out, err := cmd.Output()
			require.NoError(t, err)
			streams[fmt.Sprint("xz ", args)] = out
		}
	} else {
		t.Log("xz command not found: its files skipped")
	}
	written := append(chachaBytes(minStoredPiece+5, 22), content[300_000:][:600_000]...)
	streams["XZ"] = xzBytes(t, written)
	streams["XZLiteral"] = xzLiteralBytes(t, written)

	for name, raw := range streams {
		t.Run(name, func(t *testing.T) {
			hdrSize := (int(raw[12]) + 1) * 4
			controls := lzma2Controls(raw[12+hdrSize:])
			require.Greater(t, len(controls), 3, "chunks of the first block")
			require.True(t, slices.ContainsFunc(controls, func(c byte) bool { return c == 1 || c == 2 }), "an uncompressed chunk in % x", controls)
			if name != "XZLiteral" {
				require.True(t, slices.ContainsFunc(controls, func(c byte) bool { return c >= 0x80 }), "an LZMA chunk in % x", controls)
			}
			want := content
			if name == "XZ" || name == "XZLiteral" {
				want = written
			}
			got, err := decodeXZ(bytes.NewReader(raw), int64(len(raw)))
			require.NoError(t, err)
			require.True(t, bytes.Equal(want, got))
		})
	}
}
