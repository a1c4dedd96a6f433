package build

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/chainiac/chainiac/release"
)

// Rebuilt is one MAR file a rebuild produced.
type Rebuilt struct {
	Path   string // inside the Result's workspace
	Size   int64
	SHA256 release.Hash256
}

// Result is a finished rebuild. MARs maps each target the build produced to its
// unsigned MAR: what CheckRebuild compares with the manifest and the signed MARs.
type Result struct {
	Dir        string // the workspace; Close removes it
	BuildDir   string // where the recipe ran
	MARs       map[release.TargetKey]Rebuilt
	Log        []byte // the last MaxLogBytes of stdout and stderr
	LogDropped int64  // bytes of output not kept
}

// Close removes the workspace and every file in it, MARs included.
func (r *Result) Close() error { return removeTree(r.Dir) }

// Keys returns the produced targets in canonical order.
func (r *Result) Keys() []release.TargetKey {
	keys := make([]release.TargetKey, 0, len(r.MARs))
	for k := range r.MARs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Less(keys[j]) })
	return keys
}

// collectOutputs finds the recipe's MAR files in the workspace ws, opened as root
// before the build ran (so that a build that renames the workspace or swaps a
// directory on the way for a symlink cannot point the node elsewhere); buildRel is
// the build directory's slash path in it. Naming convention: every match of OutputGlob
// is <any dirs>/<platform>/<locale>.mar, for example out/linux-x86_64/ALL.mar;
// platform and locale follow the manifest's rules. Matches must be regular files
// reached through real directories (no symlinks from the workspace down), each at
// most release.MaxMARSize and together at most the recipe's MaxOutputBytes.
func collectOutputs(root *os.Root, wsDir, buildRel string, recipe Recipe) (map[release.TargetKey]Rebuilt, error) {
	matches, err := fs.Glob(root.FS(), path.Join(buildRel, recipe.OutputGlob))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOutput, err)
	}
	if len(matches) == 0 {
		return nil, fmt.Errorf("%w: no file matches %q", ErrOutput, recipe.OutputGlob)
	}
	if len(matches) > release.MaxTargets {
		return nil, fmt.Errorf("%w: %d files match, at most %d targets", ErrOutput, len(matches), release.MaxTargets)
	}
	out := make(map[release.TargetKey]Rebuilt, len(matches))
	var total int64
	for _, m := range matches {
		rel := strings.TrimPrefix(m, buildRel+"/")
		if err := noSymlinkParents(root, m); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrOutput, rel, err)
		}
		st, err := root.Lstat(m)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrOutput, err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%w: %s is not a regular file", ErrOutput, rel)
		}
		if st.Size() == 0 || st.Size() > release.MaxMARSize {
			return nil, fmt.Errorf("%w: %s is %d bytes, want 1..%d", ErrOutput, rel, st.Size(), release.MaxMARSize)
		}
		total += st.Size()
		if total > recipe.MaxOutputBytes {
			return nil, fmt.Errorf("%w: MAR files exceed the output limit of %d bytes", ErrOutput, recipe.MaxOutputBytes)
		}
		key := release.TargetKey{
			Platform: path.Base(path.Dir(m)),
			Locale:   strings.TrimSuffix(path.Base(m), ".mar"),
		}
		if err := key.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %s: want <platform>/<locale>.mar: %v", ErrOutput, rel, err)
		}
		p := filepath.Join(wsDir, filepath.FromSlash(m))
		if prev, dup := out[key]; dup {
			return nil, fmt.Errorf("%w: %s and %s are both target %s", ErrOutput, prev.Path, p, key)
		}
		sum, err := hashMAR(root, m, st)
		if err != nil {
			return nil, err
		}
		out[key] = Rebuilt{Path: p, Size: st.Size(), SHA256: sum}
	}
	return out, nil
}

// hashMAR hashes the file name of root, which must still be the file st describes.
func hashMAR(root *os.Root, name string, st fs.FileInfo) (release.Hash256, error) {
	f, err := root.Open(name)
	if err != nil {
		return release.Hash256{}, fmt.Errorf("%w: %v", ErrOutput, err)
	}
	defer f.Close()
	if fst, err := f.Stat(); err != nil || !os.SameFile(st, fst) {
		return release.Hash256{}, fmt.Errorf("%w: %s changed while collected", ErrOutput, name)
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, st.Size()+1))
	if err != nil {
		return release.Hash256{}, fmt.Errorf("%w: %v", ErrOutput, err)
	}
	if n != st.Size() {
		return release.Hash256{}, fmt.Errorf("%w: %s changed size while hashed", ErrOutput, name)
	}
	return release.Hash256(h.Sum(nil)), nil
}
