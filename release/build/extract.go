package build

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/chainiac/chainiac/release/mar"
)

// extractArchive unpacks a .tar.gz or .tar.xz (told apart by their magic bytes) into
// dst. It refuses absolute names, "..", symlinks that leave the tree, hard links,
// devices and FIFOs, entries under a symlink, duplicate files, and anything past the
// size and count limits. Regular files get mode 0644 or 0755 and the header's mtime.
func extractArchive(ctx context.Context, archive, dst string, limits Limits) error {
	f, err := os.Open(archive)
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	var magic [6]byte
	n, _ := f.ReadAt(magic[:], 0)
	var in io.Reader
	switch {
	case n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		gz, err := gzip.NewReader(bufio.NewReader(f))
		if err != nil {
			return fmt.Errorf("%w: gzip: %v", ErrUnsafeSource, err)
		}
		defer gz.Close()
		in = gz
	case n == 6 && string(magic[:]) == "\xfd7zXZ\x00":
		// Not xz.NewReader: it allocates whatever dictionary a block header asks for
		// (up to 4 GiB). mar's reader refuses one over the limit before decoding.
		xr, err := mar.NewXZReader(f, st.Size(), limits.MaxXZDict)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUnsafeSource, err)
		}
		in = xr
	default:
		return fmt.Errorf("%w: source archive is neither gzip nor xz", ErrUnsafeSource)
	}
	return extractTar(ctx, tar.NewReader(in), dst, limits)
}

func extractTar(ctx context.Context, tr *tar.Reader, dst string, limits Limits) error {
	// entries counts headers and the directories made for them that the archive did
	// not list: a deep name makes one directory per component.
	var entries int
	var total int64
	count := func(n int) error {
		entries += n
		if entries > limits.MaxFiles {
			return fmt.Errorf("%w: more than %d entries", ErrUnsafeSource, limits.MaxFiles)
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: tar: %v", ErrUnsafeSource, err)
		}
		// A pax global header names no file, but its parse costs up to 1 MiB.
		if err := count(1); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue // git archive stores the commit ID here
		}
		name, err := cleanEntryName(hdr.Name)
		if err != nil {
			return err
		}
		made, err := makeParents(dst, name)
		if err != nil {
			return err
		}
		if err := count(made); err != nil {
			return err
		}
		target := filepath.Join(dst, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := mkdirNoLink(target); err != nil {
				return err
			}
		case tar.TypeReg:
			if hdr.Size < 0 || hdr.Size > limits.MaxExtractedBytes-total {
				return fmt.Errorf("%w: extracted size over %d bytes", ErrUnsafeSource, limits.MaxExtractedBytes)
			}
			total += hdr.Size
			if err := writeFile(target, tr, hdr.Size, hdr.Mode&0o111 != 0); err != nil {
				return err
			}
			if !hdr.ModTime.IsZero() {
				if err := os.Chtimes(target, hdr.ModTime, hdr.ModTime); err != nil {
					return fmt.Errorf("build: %w", err)
				}
			}
		case tar.TypeSymlink:
			if err := checkLinkTarget(name, hdr.Linkname); err != nil {
				return err
			}
			if err := os.Symlink(hdr.Linkname, target); err != nil {
				return fmt.Errorf("%w: %v", ErrUnsafeSource, err)
			}
		default:
			return fmt.Errorf("%w: entry %q of type %q (only files, directories and symlinks)", ErrUnsafeSource, name, hdr.Typeflag)
		}
	}
}

// makeParents creates the missing directories above the slash path rel below root, one
// at a time, and returns how many it made. An existing symlink or non-directory on the
// way is refused, so that nothing is ever created through a link.
func makeParents(root, rel string) (int, error) {
	made := 0
	dir := root
	parts := strings.Split(rel, "/")
	for _, part := range parts[:len(parts)-1] {
		dir = filepath.Join(dir, part)
		st, err := os.Lstat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Mkdir(dir, 0o755); err != nil {
				return made, fmt.Errorf("%w: %v", ErrUnsafeSource, err)
			}
			made++
		case err != nil:
			return made, fmt.Errorf("build: %w", err)
		case st.Mode()&os.ModeSymlink != 0:
			return made, fmt.Errorf("%w: %q lies under the symlink %q", ErrUnsafeSource, rel, part)
		case !st.IsDir():
			return made, fmt.Errorf("%w: %q lies under the non-directory %q", ErrUnsafeSource, rel, part)
		}
	}
	return made, nil
}

// mkdirNoLink creates a directory whose parent exists, accepting an existing directory
// but never an existing symlink in its place.
func mkdirNoLink(dir string) error {
	err := os.Mkdir(dir, 0o755)
	if err == nil {
		return nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %v", ErrUnsafeSource, err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%w: %s is not a directory", ErrUnsafeSource, dir)
	}
	return nil
}

// writeFile creates a new file (O_EXCL: no duplicates, no writing through a final
// symlink) with exactly size bytes from r. The parent directory exists.
func writeFile(target string, r io.Reader, size int64, exec bool) error {
	mode := os.FileMode(0o644)
	if exec {
		mode = 0o755
	}
	out, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnsafeSource, err)
	}
	defer out.Close()
	if err := out.Chmod(mode); err != nil { // whatever the node's umask
		return fmt.Errorf("build: %w", err)
	}
	n, err := io.Copy(out, io.LimitReader(r, size))
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnsafeSource, target, err)
	}
	if n != size {
		return fmt.Errorf("%w: %s: %d of %d bytes", ErrUnsafeSource, target, n, size)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	return nil
}
