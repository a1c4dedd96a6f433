package build

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/release"
)

// TagSourceTree is the domain tag of a source directory's digest.
const TagSourceTree = "chainiac/v1/source-tree"

// Entry kinds in a tree digest.
const (
	kindDir        = 1
	kindFile       = 2
	kindExecutable = 3
	kindSymlink    = 4
)

// TreeDigest is the SHA-256 a manifest names for a source directory (instead of an
// archive's file digest). It covers names, kinds, the executable bit, file contents
// and symlink targets; not owners, times or other mode bits:
//
//	tag "chainiac/v1/source-tree"
//	u32 count, then per entry, ascending by slash-separated path (root excluded):
//	  string path
//	  u8 kind: 1 directory, 2 file, 3 executable file, 4 symlink
//	  file: fixed[32] SHA-256 of the contents, u64 size
//	  symlink: string target
//
// Anything else in the tree (devices, sockets, FIFOs) is an error.
func TreeDigest(root string, limits Limits) (release.Hash256, error) {
	type entry struct {
		path   string
		kind   uint8
		sum    [32]byte
		size   uint64
		target string
	}
	var entries []entry
	var total int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		if len(entries) >= limits.MaxFiles {
			return fmt.Errorf("%w: more than %d entries", ErrUnsafeSource, limits.MaxFiles)
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		e := entry{path: filepath.ToSlash(rel)}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			e.kind = kindDir
		case info.Mode().IsRegular():
			e.kind = kindFile
			if info.Mode()&0o111 != 0 {
				e.kind = kindExecutable
			}
			total += info.Size()
			if total > limits.MaxExtractedBytes {
				return fmt.Errorf("%w: tree larger than %d bytes", ErrUnsafeSource, limits.MaxExtractedBytes)
			}
			if e.sum, e.size, err = hashFileAt(p); err != nil {
				return err
			}
		case info.Mode()&os.ModeSymlink != 0:
			e.kind = kindSymlink
			if e.target, err = os.Readlink(p); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: %q is a %s", ErrUnsafeSource, e.path, info.Mode().Type())
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return release.Hash256{}, prefixed("tree digest", err)
	}
	slices.SortFunc(entries, func(a, b entry) int {
		switch {
		case a.path < b.path:
			return -1
		case a.path > b.path:
			return 1
		}
		return 0
	})
	enc := wire.NewEncoder(TagSourceTree).Count(len(entries))
	for _, e := range entries {
		enc.String(e.path).Uint8(e.kind)
		switch e.kind {
		case kindFile, kindExecutable:
			enc.Fixed(e.sum[:]).Uint64(e.size)
		case kindSymlink:
			enc.String(e.target)
		}
	}
	return sha256.Sum256(enc.Out()), nil
}

func hashFileAt(p string) ([32]byte, uint64, error) {
	f, err := os.Open(p)
	if err != nil {
		return [32]byte{}, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return [32]byte{}, 0, err
	}
	return [32]byte(h.Sum(nil)), uint64(n), nil
}

// copyTree copies a source directory into dst under the same rules as archive
// extraction: files, directories and safe symlinks only, within the limits, never
// following a link.
func copyTree(ctx context.Context, src, dst string, limits Limits) error {
	src, err := filepath.EvalSymlinks(src)
	if err != nil {
		return fmt.Errorf("build: source: %w", err)
	}
	var files int
	var total int64
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == src {
			return nil
		}
		files++
		if files > limits.MaxFiles {
			return fmt.Errorf("%w: more than %d entries", ErrUnsafeSource, limits.MaxFiles)
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		name, err := cleanEntryName(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		target := filepath.Join(dst, filepath.FromSlash(name))
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return mkdirNoLink(target)
		case info.Mode().IsRegular():
			if info.Size() > limits.MaxExtractedBytes-total {
				return fmt.Errorf("%w: tree larger than %d bytes", ErrUnsafeSource, limits.MaxExtractedBytes)
			}
			total += info.Size()
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			if err := writeFile(target, in, info.Size(), info.Mode()&0o111 != 0); err != nil {
				return err
			}
			return os.Chtimes(target, info.ModTime(), info.ModTime())
		case info.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := checkLinkTarget(name, link); err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			return fmt.Errorf("%w: %q is a %s", ErrUnsafeSource, name, info.Mode().Type())
		}
	})
	return prefixed("copy source", err)
}

// prefixed adds context to errors that do not already carry the package's own.
func prefixed(what string, err error) error {
	if err == nil || errors.Is(err, ErrUnsafeSource) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("build: %s: %w", what, err)
}
