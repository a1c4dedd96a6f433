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

func TestWriteBytesReplacesAndSetsMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	require.NoError(t, WriteBytes(path, []byte("one"), 0o644))
	require.NoError(t, WriteBytes(path, []byte("two"), 0o600))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "two", string(b))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	assertOnly(t, dir, "f")
}

func TestWriteNewRefusesExisting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	require.NoError(t, WriteNew(path, []byte("secret"), 0o600))
	err := WriteNew(path, []byte("other"), 0o600)
	require.ErrorIs(t, err, os.ErrExist)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "secret", string(b))
	assertOnly(t, dir, "key")
}

func TestWriteIntoMissingDirFails(t *testing.T) {
	err := WriteBytes(filepath.Join(t.TempDir(), "no", "such"), []byte("x"), 0o644)
	assert.ErrorContains(t, err, "atomicfile: ")
}

// assertOnly checks that no temporary file was left behind.
func assertOnly(t *testing.T, dir string, names ...string) {
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	assert.Equal(t, names, got)
}

// WriteNew's temporary file has a name of its own: a file that happens to be called
// like it is neither replaced nor removed, and keygens racing for one path leave the
// winner's bytes in it, never another's.
func TestWriteNewTouchesNothingElse(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".key.new"), []byte("precious"), 0o600))
	require.NoError(t, WriteNew(path, []byte("secret"), 0o600))
	b, err := os.ReadFile(filepath.Join(dir, ".key.new"))
	require.NoError(t, err, "an unrelated file was removed")
	assert.Equal(t, "precious", string(b))
	assertOnly(t, dir, ".key.new", "key")

	race := filepath.Join(dir, "raced")
	const n = 16
	type result struct {
		i   int
		err error
	}
	results := make(chan result, n)
	for i := range n {
		go func() { results <- result{i, WriteNew(race, []byte{byte(i)}, 0o600)} }()
	}
	winner := -1
	for range n {
		r := <-results
		if r.err != nil {
			require.ErrorIs(t, r.err, os.ErrExist)
			continue
		}
		require.Equal(t, -1, winner, "two writers both succeeded")
		winner = r.i
	}
	require.NotEqual(t, -1, winner, "one writer succeeds")
	b, err = os.ReadFile(race)
	require.NoError(t, err)
	assert.Equal(t, []byte{byte(winner)}, b, "the file holds the winner's bytes")
	assertOnly(t, dir, ".key.new", "key", "raced")
}

// A write interrupted by a signal leaves its temporary file, which RemoveTemporaries
// (called by the signal handler) deletes; finished writes leave nothing to remove.
func TestRemoveTemporaries(t *testing.T) {
	t.Cleanup(func() {
		renames.Lock()
		stopped = false // RemoveTemporaries is for a process that is exiting
		renames.Unlock()
	})
	dir := t.TempDir()
	require.NoError(t, WriteBytes(filepath.Join(dir, "done"), []byte("x"), 0o644))
	require.Zero(t, RemoveTemporaries(), "a finished write is not tracked")
	inFill := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Write(filepath.Join(dir, "busy"), 0o644, func(f *os.File) error {
			close(inFill)
			<-release
			return nil
		})
	}()
	<-inFill
	require.Equal(t, 1, RemoveTemporaries())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the finished file is left")
	close(release)
	require.Error(t, <-done, "the write whose file was removed fails")
	require.ErrorIs(t, WriteBytes(filepath.Join(dir, "later"), []byte("x"), 0o644), errStopped,
		"nothing is published after RemoveTemporaries")
	_, err = os.Stat(filepath.Join(dir, "later"))
	require.True(t, os.IsNotExist(err))
}
