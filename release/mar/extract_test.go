package mar

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExtractFixtures(t *testing.T) {
	for _, name := range []string{fixtureBZ2, fixtureXZ} {
		t.Run(name, func(t *testing.T) {
			a := openBytes(t, readTestdata(t, name))
			dir := t.TempDir()
			require.NoError(t, Extract(a, dir, Limits{}))
			want := decompressAll(t, a)
			for _, e := range a.Entries() {
				got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.Name)))
				require.NoError(t, err)
				assert.Equal(t, want[e.Name], got)
				st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(e.Name)))
				require.NoError(t, err)
				assert.Equal(t, fs.FileMode(e.Mode)&^0o022, st.Mode().Perm()&^0o022)
			}
			// Extracting again over the same files is refused.
			require.ErrorIs(t, Extract(a, dir, Limits{}), fs.ErrExist)
		})
	}
}

func storedEntries(t testing.TB, entries map[string][]byte) *Archive {
	t.Helper()
	m := rawMAR{sections: [][]byte{pib("c", "v", 0)}}
	for name, data := range entries {
		m.entries = append(m.entries, Entry{Name: name, Offset: uint32(len(m.content)), Size: uint32(len(data)), Mode: 0o644})
		m.content = append(m.content, data...)
	}
	return openBytes(t, m.encode())
}

func TestExtractRefusesUnsafeNames(t *testing.T) {
	payload := xzBytes(t, []byte("pwned"))
	for _, name := range []string{"../evil", "/tmp/evil", "a/../../evil", "a\\..\\evil", "./evil", "a//b"} {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "out")
			require.NoError(t, os.Mkdir(dir, 0o755))
			a := storedEntries(t, map[string][]byte{"fine": payload, name: payload})
			err := Extract(a, dir, Limits{})
			require.ErrorIs(t, err, ErrUnsafeName)
			left, _ := os.ReadDir(dir)
			assert.Empty(t, left, "names are checked before anything is written")
			outside, _ := os.ReadDir(parent)
			assert.Len(t, outside, 1)
		})
	}
}

func TestExtractDoesNotFollowSymlinksOut(t *testing.T) {
	parent := t.TempDir()
	dir, outside := filepath.Join(parent, "out"), filepath.Join(parent, "outside")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.Mkdir(outside, 0o755))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "link")))
	a := storedEntries(t, map[string][]byte{"link/evil": xzBytes(t, []byte("pwned"))})
	require.Error(t, Extract(a, dir, Limits{}))
	left, _ := os.ReadDir(outside)
	assert.Empty(t, left)
}

func TestExtractLimits(t *testing.T) {
	bomb := xzBytes(t, make([]byte, 8<<20)) // 8 MiB of zeros in about a kilobyte
	require.Less(t, len(bomb), 4096)
	a := storedEntries(t, map[string][]byte{"bomb": bomb})
	err := Extract(a, t.TempDir(), Limits{MaxEntrySize: 1 << 20})
	require.ErrorIs(t, err, ErrTooLarge)
	assert.NotContains(t, err.Error(), "all entries together", "the entry's own limit, not the total, stopped it")
	// With both limits equal, a first entry over them is too large on its own.
	err = Extract(a, t.TempDir(), Limits{MaxEntrySize: 1 << 20, MaxTotalSize: 1 << 20})
	require.ErrorIs(t, err, ErrTooLarge)
	assert.NotContains(t, err.Error(), "all entries together")

	e, _ := a.Entry("bomb")
	got, err := readEntry(a, e, Limits{MaxEntrySize: 8 << 20})
	require.NoError(t, err, "exactly at the limit is fine")
	assert.Len(t, got, 8<<20)
	_, err = readEntry(a, e, Limits{MaxEntrySize: 8<<20 - 1})
	require.ErrorIs(t, err, ErrTooLarge)

	half := xzBytes(t, make([]byte, 600<<10))
	two := storedEntries(t, map[string][]byte{"one": half, "two": half})
	err = Extract(two, t.TempDir(), Limits{MaxTotalSize: 1 << 20})
	require.ErrorIs(t, err, ErrTooLarge)
	assert.ErrorContains(t, err, "all entries together")
	require.NoError(t, Extract(two, t.TempDir(), Limits{MaxTotalSize: 2 << 20}))
}

func TestExtractCorruptEntry(t *testing.T) {
	good := xzBytes(t, bytes.Repeat([]byte("x"), 1000))
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 0xff
	a := storedEntries(t, map[string][]byte{"bad": bad})
	require.ErrorIs(t, Extract(a, t.TempDir(), Limits{}), ErrCompression)
}
