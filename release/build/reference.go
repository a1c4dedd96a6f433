package build

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/chainiac/chainiac/internal/atomicfile"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/mar"
)

// ReferenceRecipeName is the recipe name a manifest gives to be rebuilt with the
// reference builder.
const ReferenceRecipeName = "reference/v2"

// ReferenceRecipe runs the reference builder through the runner: binary is the path
// of the chainiac executable (absolute, since the build's PATH is fixed), run as
// `chainiac build reference`, which reads the runner's environment and writes
// out/<platform>/<locale>.mar in the source directory. The limits suit the demo and
// test trees the reference builder is for; a node may raise them.
func ReferenceRecipe(binary string) Recipe {
	return Recipe{
		Name:           ReferenceRecipeName,
		Command:        []string{binary, "build", "reference"},
		TimeLimit:      30 * time.Minute,
		MaxOutputBytes: 4 << 30,
		MaxLogBytes:    1 << 20,
		OutputGlob:     "out/*/*.mar",
	}
}

// BuildReference is the deterministic reference builder: it turns the source tree
// srcDir into one unsigned MAR per target, written as outDir/<platform>/<locale>.mar,
// and returns their paths. outDir must not exist or be empty (its parents are
// created); it appears complete or not at all.
//
// The tree carries chainiac-build.toml (format, product, platforms, locales) at its
// root. Target (P, L) ships the regular files below common/, platform/P/ and
// locale/L/, each at its path relative to that directory, plus two generated files:
// platform.ini (product, version, channel, platform, locale and a BuildID derived
// from SourceDateEpoch) and updatev3.manifest (`type "complete"`, then `add "<name>"`
// for every other entry). Entries are sorted bytewise by name, modes are 0755 for
// files with any execute bit and 0644 otherwise, each entry is compressed with xz
// (release/mar's fixed settings), and the product information is (channel, version).
// Nothing else of the tree or the machine (times, owners, umask, locale, file system
// order) reaches the output, so the same tree and parameters give the same bytes
// anywhere, as long as the xz encoder is the same version.
func BuildReference(ctx context.Context, srcDir, outDir string, p ReferenceParams) (map[release.TargetKey]string, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(srcDir)
	if err != nil {
		return nil, fmt.Errorf("build: reference: source: %w", err)
	}
	defer root.Close()
	desc, err := readReferenceDescription(root)
	if err != nil {
		return nil, err
	}
	if desc.Product != p.Product {
		return nil, fmt.Errorf("build: reference: the source builds %q, not %q", desc.Product, p.Product)
	}
	targets := slices.Clone(p.Targets)
	slices.SortFunc(targets, func(a, b release.TargetKey) int { return compareKeys(a, b) })
	for _, k := range targets {
		if err := desc.supports(k); err != nil {
			return nil, err
		}
	}
	tree, err := scanReferenceTree(ctx, root, desc, targets)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(outDir)), 0o755); err != nil {
		return nil, fmt.Errorf("build: reference: %w", err)
	}
	info := mar.ProductInfo{Channel: p.Channel, Version: p.Version}
	paths := make(map[release.TargetKey]string, len(targets))
	err = atomicfile.WriteDir(outDir, func(tmp string) error {
		for _, k := range targets {
			files, err := tree.filesFor(ctx, k, p)
			if err != nil {
				return err
			}
			if err := writeReferenceMAR(tmp, k, info, files); err != nil {
				return err
			}
			paths[k] = filepath.Join(outDir, k.Platform, k.Locale+".mar")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return paths, nil
}

func readReferenceDescription(root *os.Root) (*referenceDescription, error) {
	st, err := root.Lstat(ReferenceDescriptionFile)
	if err != nil {
		return nil, fmt.Errorf("build: reference: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("build: reference: %s is a %s", ReferenceDescriptionFile, typeName(st.Mode()))
	}
	f, err := root.Open(ReferenceDescriptionFile)
	if err != nil {
		return nil, fmt.Errorf("build: reference: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxReferenceDescriptionSize+1))
	if err != nil {
		return nil, fmt.Errorf("build: reference: %s: %w", ReferenceDescriptionFile, err)
	}
	return parseReferenceDescription(b)
}

func writeReferenceMAR(outDir string, k release.TargetKey, info mar.ProductInfo, files []mar.File) error {
	dir := filepath.Join(outDir, k.Platform)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("build: reference: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, k.Locale+".mar"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("build: reference: %w", err)
	}
	err = mar.Write(f, info, files, mar.WriteOptions{Compression: mar.XZLiteral})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("build: reference: target %s: %w", k, err)
	}
	return atomicfile.SyncDir(dir)
}

// compareKeys orders target keys canonically, as TargetKey.Less does.
func compareKeys(a, b release.TargetKey) int {
	switch {
	case a.Less(b):
		return -1
	case b.Less(a):
		return 1
	}
	return 0
}
