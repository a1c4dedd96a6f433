package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// workspace is one build's fresh temporary directory:
//
//	source.archive  the fetched archive, as hashed
//	src/            the extracted or copied source; the build runs in it (or in its
//	                single top-level directory)
//	home/           HOME
//	tmp/            TMPDIR
type workspace struct {
	dir, archive, src, home, tmp string
}

func newWorkspace(parent string) (*workspace, error) {
	dir, err := os.MkdirTemp(parent, "chainiac-build-*")
	if err != nil {
		return nil, fmt.Errorf("build: workspace: %w", err)
	}
	ws := &workspace{
		dir:     dir,
		archive: filepath.Join(dir, "source.archive"),
		src:     filepath.Join(dir, "src"),
		home:    filepath.Join(dir, "home"),
		tmp:     filepath.Join(dir, "tmp"),
	}
	for _, d := range []string{ws.src, ws.home, ws.tmp} {
		if err := os.Mkdir(d, 0o755); err != nil {
			_ = removeTree(dir)
			return nil, fmt.Errorf("build: workspace: %w", err)
		}
	}
	return ws, nil
}

// removeTree removes dir even where the build left read-only directories (Go's
// module cache does), by making directories writable and retrying once.
func removeTree(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	if err := os.RemoveAll(dir); err != nil {
		return errors.Join(fmt.Errorf("build: remove workspace %s", dir), err)
	}
	return nil
}
