package build

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzExtractArchive feeds arbitrary bytes to the archive extractor: it must return
// an error or succeed, never panic, and never create anything outside its
// destination.
func FuzzExtractArchive(f *testing.F) {
	f.Add(tarGz(f, dir("src/"), script("src/build.sh", "true"), symlink("src/l", "build.sh")))
	f.Add(tarXz(f, file("a", "x"), symlink("b", "a")))
	f.Add(tarGz(f, file("../evil", "x")))
	f.Add(tarGz(f, symlink("l", "."), file("l/x", "y")))
	f.Add(tarGz(f, tarEntry{name: "h", typeflag: tar.TypeLink, linkname: "a"}))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		archive := filepath.Join(parent, "archive")
		if err := os.WriteFile(archive, data, 0o600); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(parent, "dst")
		if err := os.Mkdir(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		limits := Limits{MaxSourceBytes: 1 << 20, MaxExtractedBytes: 1 << 20, MaxFiles: 100}
		if err := extractArchive(context.Background(), archive, dst, limits); err == nil {
			_ = checkSymlinks(dst)
		}
		entries, err := os.ReadDir(parent)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 {
			t.Fatalf("extraction wrote outside its destination: %v", entries)
		}
	})
}
