package build

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
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

// collectOutputs finds the recipe's MAR files. Naming convention: every match of
// OutputGlob is <any dirs>/<platform>/<locale>.mar, for example
// out/linux-x86_64/ALL.mar; platform and locale follow the manifest's rules. Matches
// must be regular files reached through real directories (no symlinks), each at most
// release.MaxMARSize and together at most the recipe's MaxOutputBytes.
func collectOutputs(buildDir string, recipe Recipe) (map[release.TargetKey]Rebuilt, error) {
	matches, err := filepath.Glob(filepath.Join(buildDir, filepath.FromSlash(recipe.OutputGlob)))
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
	for _, p := range matches {
		rel, err := filepath.Rel(buildDir, p)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrOutput, err)
		}
		rel = filepath.ToSlash(rel)
		if err := noSymlinkParents(buildDir, rel); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrOutput, err)
		}
		st, err := os.Lstat(p)
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
			Platform: filepath.Base(filepath.Dir(p)),
			Locale:   strings.TrimSuffix(filepath.Base(p), ".mar"),
		}
		if err := key.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %s: want <platform>/<locale>.mar: %v", ErrOutput, rel, err)
		}
		if prev, dup := out[key]; dup {
			return nil, fmt.Errorf("%w: %s and %s are both target %s", ErrOutput, prev.Path, rel, key)
		}
		sum, err := hashMAR(p, st.Size())
		if err != nil {
			return nil, err
		}
		out[key] = Rebuilt{Path: p, Size: st.Size(), SHA256: sum}
	}
	return out, nil
}

func hashMAR(p string, size int64) (release.Hash256, error) {
	f, err := os.Open(p)
	if err != nil {
		return release.Hash256{}, fmt.Errorf("%w: %v", ErrOutput, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, size+1))
	if err != nil {
		return release.Hash256{}, fmt.Errorf("%w: %v", ErrOutput, err)
	}
	if n != size {
		return release.Hash256{}, fmt.Errorf("%w: %s changed size while hashed", ErrOutput, p)
	}
	return release.Hash256(h.Sum(nil)), nil
}
