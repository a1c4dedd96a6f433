package build

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// withDictProperty rewrites the LZMA2 dictionary property of an xz file's first block
// header and fixes the header's CRC32: the stream stays valid, and asks for another
// dictionary size (property 40: 4 GiB - 1).
func withDictProperty(t testing.TB, xz []byte, prop byte) []byte {
	b := bytes.Clone(xz)
	hdrSize := (int(b[12]) + 1) * 4
	hdr := b[12 : 12+hdrSize]
	i := bytes.Index(hdr, []byte{0x21, 0x01})
	require.Positive(t, i)
	hdr[i+2] = prop
	binary.LittleEndian.PutUint32(hdr[hdrSize-4:], crc32.ChecksumIEEE(hdr[:hdrSize-4]))
	return b
}

// The LZMA2 decoder allocates the dictionary a block header asks for, up front: a
// source archive of a few hundred bytes must not make the node allocate 4 GiB.
func TestSourceXZDictionaryIsBounded(t *testing.T) {
	archive := withDictProperty(t, tarXz(t, script("build.sh", makeMAR)), 40)
	src, sum := writeSource(t, archive, "src.tar.xz")
	r, work := newTestRunner(t)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), src)
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, ErrUnsafeSource)
	require.ErrorContains(t, err, "dictionary")
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(256<<20), "allocated for the dictionary")
	requireEmptyDir(t, work)

	// Within the limit (the writer's 8 MiB), the same archive extracts and builds.
	r, err = NewRunner(Config{WorkDir: t.TempDir(), Limits: Limits{MaxXZDict: 8 << 20}})
	require.NoError(t, err)
	src, sum = writeSource(t, withDictProperty(t, tarXz(t, script("build.sh", makeMAR)), 22), "src.tar.xz")
	res, err := r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), src)
	require.NoError(t, err)
	require.NoError(t, res.Close())
	r, err = NewRunner(Config{WorkDir: t.TempDir(), Limits: Limits{MaxXZDict: 4 << 20}})
	require.NoError(t, err)
	_, err = r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), src)
	require.ErrorIs(t, err, ErrUnsafeSource, "an 8 MiB dictionary over a 4 MiB limit")
}
