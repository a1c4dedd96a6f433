package api

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/chainiac/chainiac/internal/atomicfile"
	"github.com/chainiac/chainiac/skipchain"
)

// WriteStatic writes data as the file that serves urlPath (a path of this package)
// under dir, so that any web server rooted at dir serves the same bytes a node does.
// A file that already holds data is left alone; any other is replaced atomically, so
// a reader sees the old or the new file, never a part. It reports whether it wrote.
func WriteStatic(dir, urlPath string, data []byte) (bool, error) {
	if _, err := ParsePath(urlPath); err != nil {
		return false, fmt.Errorf("api: export: %q is not a chain path", urlPath)
	}
	p := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(urlPath, "/")))
	if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return false, fmt.Errorf("api: export: %w", err)
	}
	if err := atomicfile.WriteBytes(p, data, 0o644); err != nil {
		return false, fmt.Errorf("api: export: %w", err)
	}
	return true, nil
}

// BlockFiles are the static files that serve one block: the served block with its
// links, its header, its payload and each link alone, by URL path.
func BlockFiles(genesis skipchain.ID, sb *ServedBlock) (map[string][]byte, error) {
	i := sb.Block.Index()
	files := map[string][]byte{
		Block(genesis, i):   sb.Encode(),
		Header(genesis, i):  sb.Block.Header().Encode(),
		Payload(genesis, i): sb.Block.Payload(),
	}
	for _, l := range sb.Links {
		level, err := l.Level(sb.Block.Header().Params())
		if err != nil {
			return nil, fmt.Errorf("api: block %d: %w", i, err)
		}
		files[Link(genesis, i, level)] = l.Encode()
	}
	return files, nil
}
