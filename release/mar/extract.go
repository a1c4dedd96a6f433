package mar

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
)

// Extract writes every entry of a, decompressed, under dir, which must
// exist. Names are checked with CheckName and files are created through an
// os.Root, so nothing lands outside dir even through symlinks already in
// it; existing files are never overwritten. Each entry is limited to
// lim.MaxEntrySize and all together to lim.MaxTotalSize decompressed
// bytes. On error, files already written stay: callers wanting all or
// nothing extract into a fresh directory and rename it.
func Extract(a *Archive, dir string, lim Limits) error {
	lim = lim.withDefaults()
	for _, e := range a.entries {
		if err := CheckName(e.Name); err != nil {
			return err
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("mar: extract: %w", err)
	}
	defer root.Close()
	total := lim.MaxTotalSize
	for _, e := range a.entries {
		entryLim := lim
		entryLim.MaxEntrySize = min(lim.MaxEntrySize, total)
		n, err := extractEntry(root, a, e, entryLim)
		if errors.Is(err, ErrTooLarge) && entryLim.MaxEntrySize < lim.MaxEntrySize {
			err = fmt.Errorf("%w: all entries together exceed %d bytes", ErrTooLarge, lim.MaxTotalSize)
		}
		if err != nil {
			return err
		}
		total -= n
	}
	return nil
}

func extractEntry(root *os.Root, a *Archive, e Entry, lim Limits) (int64, error) {
	if dir := path.Dir(e.Name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return 0, fmt.Errorf("mar: extract %q: %w", e.Name, err)
		}
	}
	src, err := a.OpenEntry(e, lim)
	if err != nil {
		return 0, err
	}
	f, err := root.OpenFile(e.Name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, os.FileMode(e.Mode&0o777))
	if err != nil {
		return 0, fmt.Errorf("mar: extract %q: %w", e.Name, err)
	}
	n, err := io.Copy(f, src)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("mar: extract %q: %w", e.Name, err)
	}
	return n, nil
}
