package build

import (
	"archive/tar"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Archives that try to write or point outside their root are refused before anything
// runs, and nothing lands outside the workspace.
func TestUnsafeArchivesRefused(t *testing.T) {
	build := script("build.sh", makeMAR+"\n")
	cases := []struct {
		name    string
		entries []tarEntry
		limits  Limits
		want    string
	}{
		{"parent escape", []tarEntry{build, file("../evil", "x")}, Limits{}, "contains .."},
		{"nested parent escape", []tarEntry{build, file("a/../../evil", "x")}, Limits{}, "contains .."},
		{"absolute path", []tarEntry{build, file("/tmp/evil", "x")}, Limits{}, "absolute entry name"},
		{"absolute symlink", []tarEntry{build, symlink("etc", "/etc")}, Limits{}, "is absolute"},
		{"escaping symlink", []tarEntry{build, symlink("up", "../..")}, Limits{}, "leaves the source tree"},
		{"deep escaping symlink", []tarEntry{build, dir("a/"), symlink("a/up", "../../x")}, Limits{}, "leaves the source tree"},
		{"write through symlink", []tarEntry{build, dir("real/"), symlink("link", "real"), file("link/f", "x")}, Limits{}, "under the symlink"},
		{"symlink chain escape", []tarEntry{build, dir("d1/d2/"), symlink("d1/d2/b", "../../z"), dir("z/"),
			symlink("z/deep", "."), symlink("a", "d1/d2/b/../..")}, Limits{}, "resolves outside the source tree"},
		{"symlink then file over it", []tarEntry{build, symlink("x", "build.sh"), file("x", "y")}, Limits{}, "exists"},
		{"duplicate file", []tarEntry{build, file("f", "1"), file("f", "2")}, Limits{}, "exists"},
		{"hard link", []tarEntry{build, {name: "h", typeflag: tar.TypeLink, linkname: "build.sh"}}, Limits{}, "only files, directories and symlinks"},
		{"fifo", []tarEntry{build, {name: "p", typeflag: tar.TypeFifo}}, Limits{}, "only files"},
		{"char device", []tarEntry{build, {name: "null", typeflag: tar.TypeChar}}, Limits{}, "only files"},
		{"too many files", []tarEntry{build, file("a", "1"), file("b", "2")}, Limits{MaxFiles: 2}, "more than 2 entries"},
		{"too large", []tarEntry{build, file("big", strings.Repeat("x", 200))}, Limits{MaxExtractedBytes: 100}, "extracted size over 100 bytes"},
		{"empty name", []tarEntry{build, dir("./")}, Limits{}, "empty entry name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			parent := t.TempDir()
			work := filepath.Join(parent, "work")
			require.NoError(t, os.Mkdir(work, 0o755))
			r, err := NewRunner(Config{WorkDir: work, Limits: c.limits})
			require.NoError(t, err)
			src, sum := writeSource(t, tarGz(t, c.entries...), "src.tar.gz")
			_, err = r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), src)
			require.ErrorIs(t, err, ErrUnsafeSource)
			assert.Contains(t, err.Error(), c.want)
			requireEmptyDir(t, work)
			entries, err := os.ReadDir(parent)
			require.NoError(t, err)
			assert.Len(t, entries, 1, "something was written next to the work dir")
		})
	}
}

// The extracted-size limit is inclusive and counts every file: a source of exactly
// MaxExtractedBytes (the build script included) and an empty file are extracted; two
// files that fit the limit one by one but not together are refused.
func TestExtractedSizeLimit(t *testing.T) {
	build := script("build.sh", makeMAR+"\n")
	limit := int64(len(build.body) + 100)
	cases := []struct {
		name    string
		entries []tarEntry
		want    string
	}{
		{"exactly the limit", []tarEntry{build, file("a", strings.Repeat("x", 100))}, ""},
		{"empty file", []tarEntry{build, file("empty", "")}, ""},
		{"over the limit together", []tarEntry{build, file("a", strings.Repeat("x", 60)), file("b", strings.Repeat("y", 60))},
			fmt.Sprintf("extracted size over %d bytes", limit)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewRunner(Config{WorkDir: t.TempDir(), Limits: Limits{MaxExtractedBytes: limit}})
			require.NoError(t, err)
			src, sum := writeSource(t, tarGz(t, c.entries...), "src.tar.gz")
			res, err := r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), src)
			if c.want != "" {
				require.ErrorIs(t, err, ErrUnsafeSource)
				assert.ErrorContains(t, err, c.want)
				return
			}
			require.NoError(t, err)
			assert.Len(t, res.MARs, 1)
			require.NoError(t, res.Close())
		})
	}
}

func TestArchiveFormatChecked(t *testing.T) {
	r, _ := newTestRunner(t)
	for name, data := range map[string][]byte{
		"plain tar":   tarBytes(t, []tarEntry{script("build.sh", "true")}),
		"zip magic":   []byte("PK\x03\x04 not a tar"),
		"broken gzip": append([]byte{0x1f, 0x8b}, strings.Repeat("x", 40)...),
		"broken xz":   append([]byte("\xfd7zXZ\x00"), strings.Repeat("x", 40)...),
	} {
		t.Run(name, func(t *testing.T) {
			src, sum := writeSource(t, data, "src")
			_, err := r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), src)
			require.ErrorIs(t, err, ErrUnsafeSource)
		})
	}
}

func TestSafeSymlinksAndModesAreKept(t *testing.T) {
	archive := tarXz(t,
		script("build.sh", "test -x tools/run.sh && test ! -x data.txt && test \"$(cat link)\" = hello && "+makeMAR),
		file("data.txt", "hello"),
		dir("tools/"),
		script("tools/run.sh", "#!/bin/sh\n"),
		symlink("link", "tools/../data.txt"),
		symlink("dangling", "missing/file"),
		tarEntry{typeflag: tar.TypeXGlobalHeader, body: "3b2d7c1e0f"},
	)
	src, sum := writeSource(t, archive, "src.tar.xz")
	r, _ := newTestRunner(t)
	res, err := r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), src)
	require.NoError(t, err)
	defer res.Close()
	st, err := os.Stat(filepath.Join(res.BuildDir, "data.txt"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
	assert.Equal(t, int64(1730419200), st.ModTime().Unix(), "mtime from the archive")
}

func TestResolveInside(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "x/y/z"), 0o755))
	require.NoError(t, os.Symlink("x/y/z", filepath.Join(root, "b")))
	require.NoError(t, os.Symlink("loop2", filepath.Join(root, "loop1")))
	require.NoError(t, os.Symlink("loop1", filepath.Join(root, "loop2")))
	cases := []struct {
		rel, want, err string
	}{
		{"b", "x/y/z", ""},
		{"b/..", "x/y", ""},
		{"b/../../../..", "", "outside"},
		{"missing/../..", "", "outside"},
		{"missing/a/..", "missing", ""},
		{"loop1", "", "more than 40 symlinks"},
	}
	for _, c := range cases {
		got, err := resolveInside(root, c.rel)
		if c.err != "" {
			assert.ErrorContains(t, err, c.err, c.rel)
			continue
		}
		require.NoError(t, err, c.rel)
		assert.Equal(t, c.want, got, c.rel)
	}
	// A link chain that escapes although each link looks local on its own.
	require.NoError(t, os.Symlink("b/../../../..", filepath.Join(root, "escape")))
	assert.ErrorIs(t, checkSymlinks(root), ErrUnsafeSource)
}

// Directories an archive never lists but whose files need them count as entries too:
// otherwise a few thousand deep names make millions of directories within MaxFiles.
// A directory listed before its files is counted once. pax global headers name no file
// but cost a parse of up to 1 MiB each: they count too.
func TestEntryLimitCountsImplicitDirectories(t *testing.T) {
	build := script("build.sh", makeMAR+"\n")
	for _, c := range []struct {
		name    string
		entries []tarEntry
		ok      bool
	}{
		{"listed directories", []tarEntry{build, dir("a/"), dir("a/b/"), file("a/b/f", "x")}, true},
		{"implicit directories", []tarEntry{build, file("a/b/f", "x")}, true},
		{"one implicit directory too many", []tarEntry{build, file("a/b/c/f", "x")}, false},
		{"implicit parents of a listed directory", []tarEntry{build, dir("a/b/c/d/")}, false},
		{"implicit parents of a symlink", []tarEntry{build, symlink("a/b/c/l", "x")}, false},
		{"global headers", []tarEntry{build, global("1"), file("f", "x"), global("2")}, true},
		{"too many global headers", []tarEntry{build, global("1"), global("2"), global("3"), global("4")}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewRunner(Config{WorkDir: t.TempDir(), Limits: Limits{MaxFiles: 4}})
			require.NoError(t, err)
			src, sum := writeSource(t, tarGz(t, c.entries...), "src.tar.gz")
			res, err := r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), src)
			if c.ok {
				require.NoError(t, err)
				require.NoError(t, res.Close())
				return
			}
			require.ErrorIs(t, err, ErrUnsafeSource)
			require.ErrorContains(t, err, "more than 4 entries")
		})
	}
}
