package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	require.NoError(t, Write(path, 0o640, func(f *os.File) error {
		_, err := f.WriteString("hello")
		return err
	}))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(got))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), st.Mode().Perm())

	// A failing fill leaves the old file and no temporary file.
	boom := errors.New("boom")
	err = Write(path, 0o644, func(f *os.File) error {
		_, _ = f.WriteString("partial")
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, _ = os.ReadFile(path)
	assert.Equal(t, "hello", string(got))
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1)

	require.Error(t, Write(filepath.Join(dir, "missing", "out"), 0o644, func(*os.File) error { return nil }))
}

func TestWriteDir(t *testing.T) {
	parent := t.TempDir()
	path := filepath.Join(parent, "out")
	fill := func(dir string) error { return os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644) }
	require.NoError(t, WriteDir(path, fill))
	got, err := os.ReadFile(filepath.Join(path, "f"))
	require.NoError(t, err)
	assert.Equal(t, "x", string(got))

	// Not empty: refused before anything is created.
	require.ErrorContains(t, WriteDir(path, fill), "not empty")

	// An empty directory is replaced.
	empty := filepath.Join(parent, "empty")
	require.NoError(t, os.Mkdir(empty, 0o755))
	require.NoError(t, WriteDir(empty, fill))
	assert.FileExists(t, filepath.Join(empty, "f"))

	// A failing fill leaves nothing behind.
	boom := errors.New("boom")
	failed := filepath.Join(parent, "failed")
	require.ErrorIs(t, WriteDir(failed, func(dir string) error { _ = fill(dir); return boom }), boom)
	assert.NoDirExists(t, failed)
	entries, _ := os.ReadDir(parent)
	assert.Len(t, entries, 2)
}
