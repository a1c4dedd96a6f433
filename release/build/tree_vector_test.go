package build

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainiac/chainiac/internal/golden"
	"github.com/stretchr/testify/require"
)

// TestTreeDigestVector writes testdata/tree-digest.txt: a small tree, the exact bytes
// of its encoding and its digest, built here by hand from wire-format.md (entries in
// the order listed below, which is bytewise order of the whole slash-separated path:
// "b-c" and "b.d" come before "b/…" because '-' (0x2d) and '.' (0x2e) are below
// '/' (0x2f), although a directory walk would visit b's children first). TreeDigest
// must give the same digest.
func TestTreeDigestVector(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "b", "c"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "a.txt"), []byte("hello\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "b", "run.sh"), []byte("#!/bin/sh\n"), 0o750))
	require.NoError(t, os.Symlink("../a.txt", filepath.Join(root, "b", "link")))
	require.NoError(t, os.WriteFile(filepath.Join(root, "b-c"), nil, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(root, "b.d"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "B"), []byte("upper"), 0o644))

	type entry struct {
		path, content, target string
		kind                  byte
	}
	entries := []entry{ // the order is the specification, not computed
		{path: "B", kind: 2, content: "upper"},
		{path: "a.txt", kind: 2, content: "hello\n"},
		{path: "b", kind: 1},
		{path: "b-c", kind: 2, content: ""},
		{path: "b.d", kind: 2, content: "x"},
		{path: "b/c", kind: 1},
		{path: "b/link", kind: 4, target: "../a.txt"},
		{path: "b/run.sh", kind: 3, content: "#!/bin/sh\n"},
	}
	u32 := func(b []byte, n int) []byte { return binary.BigEndian.AppendUint32(b, uint32(n)) }
	tag := "chainiac/v1/source-tree"
	enc := append([]byte{byte(len(tag))}, tag...)
	enc = u32(enc, len(entries))
	var listing strings.Builder
	for _, e := range entries {
		enc = u32(enc, len(e.path))
		enc = append(enc, e.path...)
		enc = append(enc, e.kind)
		switch e.kind {
		case 2, 3:
			sum := sha256.Sum256([]byte(e.content))
			enc = append(enc, sum[:]...)
			enc = binary.BigEndian.AppendUint64(enc, uint64(len(e.content)))
		case 4:
			enc = u32(enc, len(e.target))
			enc = append(enc, e.target...)
		}
		fmt.Fprintf(&listing, "  %d %q\n", e.kind, e.path)
	}
	digest := sha256.Sum256(enc)
	text := fmt.Sprintf("# TreeDigest known answer; see TestTreeDigestVector for the tree\nentries (kind, path), in encoding order:\n%sencoding %s\ndigest %x\n",
		listing.String(), hex.EncodeToString(enc), digest)
	golden.File(t, filepath.Join("testdata", "tree-digest.txt"), []byte(text))

	got, err := TreeDigest(root, DefaultLimits())
	require.NoError(t, err)
	require.Equal(t, hex.EncodeToString(digest[:]), got.String())
}
