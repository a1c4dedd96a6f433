package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// live holds the temporary files and directories being written, so that a program
// stopped by a signal can remove them (RemoveTemporaries) before it exits.
var live sync.Map

// renames is held around each final rename and by RemoveTemporaries, so that a
// temporary is never removed while it is being renamed into place (which would leave
// a part of it at the destination); stopped refuses new renames after it ran.
var (
	renames sync.Mutex
	stopped bool
)

func track(name string)   { live.Store(name, struct{}{}) }
func untrack(name string) { live.Delete(name) }

// errStopped is returned by a write that finishes after RemoveTemporaries.
var errStopped = errors.New("atomicfile: stopped: the program is exiting")

// publish runs the final step of a write (a rename or a link) unless
// RemoveTemporaries has run, and untracks the temporary.
func publish(tmp string, step func() error) error {
	renames.Lock()
	defer renames.Unlock()
	defer untrack(tmp)
	if stopped {
		_ = os.RemoveAll(tmp)
		return errStopped
	}
	return step()
}

// RemoveTemporaries removes every temporary file and directory a Write, WriteNew or
// WriteDir still has open, reports how many it removed, and makes every write that
// finishes later fail. A command calls it when a signal ends it, so an interrupted
// write leaves nothing behind, not even a part.
func RemoveTemporaries() int {
	renames.Lock()
	defer renames.Unlock()
	stopped = true
	n := 0
	live.Range(func(k, _ any) bool {
		if os.RemoveAll(k.(string)) == nil {
			n++
		}
		live.Delete(k)
		return true
	})
	return n
}

// Write creates or replaces the file at path with what fill writes into
// the temporary file it is given, with permissions perm.
func Write(path string, perm fs.FileMode, fill func(f *os.File) error) error {
	dir, base := split(path)
	tmp, err := writeTemp(dir, base, perm, fill)
	if err != nil {
		return err
	}
	err = publish(tmp, func() error {
		if err := os.Rename(tmp, path); err != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("atomicfile: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return SyncDir(dir)
}

// WriteBytes creates or replaces the file at path with data.
func WriteBytes(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, writeData(data))
}

// WriteNew writes data to path only if nothing is there yet, so that a key file is
// never silently overwritten. The error wraps fs.ErrExist if path exists.
func WriteNew(path string, data []byte, perm fs.FileMode) error {
	dir, base := split(path)
	tmp, err := writeTemp(dir, base, perm, writeData(data))
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	// Unlike rename, a hard link fails if the name exists.
	err = publish(tmp, func() error {
		if err := os.Link(tmp, path); err != nil {
			return fmt.Errorf("atomicfile: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return SyncDir(dir)
}

func split(path string) (dir, base string) {
	dir, base = filepath.Split(filepath.Clean(path))
	if dir == "" {
		dir = "."
	}
	return dir, base
}

func writeData(data []byte) func(*os.File) error {
	return func(f *os.File) error {
		_, err := f.Write(data)
		return err
	}
}

// writeTemp makes a temporary file of its own name in dir, fills it, sets perm and
// fsyncs it, and returns its name; on error nothing is left.
func writeTemp(dir, base string, perm fs.FileMode, fill func(f *os.File) error) (_ string, err error) {
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("atomicfile: %w", err)
	}
	track(f.Name())
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
			untrack(f.Name())
		}
	}()
	if err := fill(f); err != nil {
		return "", err
	}
	if err := f.Chmod(perm); err != nil {
		return "", fmt.Errorf("atomicfile: %w", err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("atomicfile: sync %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("atomicfile: close %s: %w", f.Name(), err)
	}
	return f.Name(), nil
}

// WriteDir creates the directory path, filled by fill through the
// temporary directory it is given. path must not exist, or be an empty
// directory (which is replaced: removed just before the rename).
func WriteDir(path string, fill func(dir string) error) (err error) {
	path = filepath.Clean(path)
	entries, statErr := os.ReadDir(path)
	switch {
	case statErr == nil && len(entries) > 0:
		return fmt.Errorf("atomicfile: %s is not empty", path)
	case statErr != nil && !errors.Is(statErr, fs.ErrNotExist):
		return fmt.Errorf("atomicfile: %w", statErr)
	}
	parent, base := filepath.Split(path)
	if parent == "" {
		parent = "."
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	track(tmp)
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
			untrack(tmp)
		}
	}()
	if err := fill(tmp); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	// Every directory fill made, not only the top one: a rename is durable only for
	// the entries each directory has synced.
	if err := filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		return SyncDir(p)
	}); err != nil {
		return err
	}
	// os.Rename refuses to replace a directory: remove the empty one
	// first (os.Remove fails if something was put in it meanwhile).
	if statErr == nil {
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("atomicfile: %w", err)
		}
	}
	if err := publish(tmp, func() error {
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("atomicfile: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	return SyncDir(parent)
}

// SyncDir fsyncs a directory, making the creation, renaming or removal of its entries
// durable. WriteDir syncs every directory of what it renames into place.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("atomicfile: sync %s: %w", dir, err)
	}
	return nil
}
