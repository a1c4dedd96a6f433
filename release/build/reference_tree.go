package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/mar"
)

// Where a reference source tree keeps what it ships, and the names the builder
// generates in every MAR.
const (
	referenceCommonDir   = "common"
	referencePlatformDir = "platform"
	referenceLocaleDir   = "locale"
	generatedPlatformINI = "platform.ini"
	generatedUpdateList  = "updatev3.manifest"
)

// shippedFile is a file of the source tree that goes into a MAR.
type shippedFile struct {
	name   string // entry name in the MAR
	source string // slash path below the tree root
	mode   uint32 // 0644 or 0755
}

// referenceTree holds the file sets of a source tree, scanned once for all targets.
type referenceTree struct {
	root      *os.Root
	common    []shippedFile
	platforms map[string][]shippedFile
	locales   map[string][]shippedFile
}

// scanReferenceTree lists common/, and platform/<p>/ and locale/<l>/ for every
// platform and locale the build asks for. Directories under platform/ and locale/
// that the description does not declare are errors (most likely a typo, which would
// otherwise silently ship nothing).
func scanReferenceTree(ctx context.Context, root *os.Root, d *referenceDescription, targets []release.TargetKey) (*referenceTree, error) {
	t := &referenceTree{root: root, platforms: map[string][]shippedFile{}, locales: map[string][]shippedFile{}}
	var err error
	if t.common, err = scanShipped(ctx, root, referenceCommonDir); err != nil {
		return nil, err
	}
	if err := checkDeclared(root, referencePlatformDir, d.Platforms); err != nil {
		return nil, err
	}
	if err := checkDeclared(root, referenceLocaleDir, d.Locales); err != nil {
		return nil, err
	}
	for _, k := range targets {
		if _, done := t.platforms[k.Platform]; !done {
			if t.platforms[k.Platform], err = scanShipped(ctx, root, referencePlatformDir+"/"+k.Platform); err != nil {
				return nil, err
			}
		}
		if _, done := t.locales[k.Locale]; !done {
			if t.locales[k.Locale], err = scanShipped(ctx, root, referenceLocaleDir+"/"+k.Locale); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

// realDir reports whether dir exists as a directory (not a symlink to one). A missing
// dir is not an error: it ships nothing.
func realDir(root *os.Root, dir string) (bool, error) {
	st, err := root.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("build: reference: %w", err)
	}
	if !st.IsDir() {
		return false, fmt.Errorf("build: reference: %s is a %s, want a directory", dir, typeName(st.Mode()))
	}
	return true, nil
}

func checkDeclared(root *os.Root, dir string, declared []string) error {
	ok, err := realDir(root, dir)
	if err != nil || !ok {
		return err
	}
	entries, err := fs.ReadDir(root.FS(), dir)
	if err != nil {
		return fmt.Errorf("build: reference: %w", err)
	}
	for _, e := range entries {
		if !slices.Contains(declared, e.Name()) {
			return fmt.Errorf("build: reference: %s/%s is not declared in %s", dir, e.Name(), ReferenceDescriptionFile)
		}
	}
	return nil
}

// scanShipped lists the regular files below dir, named relative to it. Symlinks and
// special files are errors: a MAR holds regular files only.
func scanShipped(ctx context.Context, root *os.Root, dir string) ([]shippedFile, error) {
	ok, err := realDir(root, dir)
	if err != nil || !ok {
		return nil, err
	}
	var files []shippedFile
	err = fs.WalkDir(root.FS(), dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is a %s; only regular files are shipped", p, typeName(d.Type()))
		}
		if len(files) == mar.MaxEntries {
			return fmt.Errorf("%s holds more than %d files", dir, mar.MaxEntries)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, dir+"/")
		if err := mar.CheckName(name); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if strings.ContainsRune(name, '"') {
			return fmt.Errorf("%s: a double quote cannot be listed in %s", p, generatedUpdateList)
		}
		mode := uint32(0o644)
		if info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		files = append(files, shippedFile{name: name, source: p, mode: mode})
		return nil
	})
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, fmt.Errorf("build: reference: %w", err)
	}
	return files, nil
}

func typeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m.IsRegular():
		return "regular file"
	case m.IsDir():
		return "directory"
	}
	return "special file (" + m.Type().String() + ")"
}

// filesFor composes target k's MAR entries: common, platform and locale files plus
// the two generated files, sorted bytewise by name. A name shipped twice is an error.
func (t *referenceTree) filesFor(ctx context.Context, k release.TargetKey, p ReferenceParams) ([]mar.File, error) {
	from := map[string]string{}
	var shipped []shippedFile
	for _, set := range [][]shippedFile{t.common, t.platforms[k.Platform], t.locales[k.Locale]} {
		for _, f := range set {
			if f.name == generatedPlatformINI || f.name == generatedUpdateList {
				return nil, fmt.Errorf("build: reference: %s: %s is generated by the builder", f.source, f.name)
			}
			if prev, dup := from[f.name]; dup {
				return nil, fmt.Errorf("build: reference: target %s: %s and %s both ship %q", k, prev, f.source, f.name)
			}
			from[f.name] = f.source
			shipped = append(shipped, f)
		}
	}
	files := make([]mar.File, 0, len(shipped)+2)
	for _, f := range shipped {
		files = append(files, mar.File{Name: f.name, Mode: f.mode, Open: t.opener(ctx, f.source)})
	}
	files = append(files, generated(generatedPlatformINI, platformINI(k, p)))
	slices.SortFunc(files, func(a, b mar.File) int { return strings.Compare(a.Name, b.Name) })
	// The update list names every other entry, in entry order.
	var list strings.Builder
	list.WriteString("type \"complete\"\n")
	for _, f := range files {
		fmt.Fprintf(&list, "add \"%s\"\n", f.Name)
	}
	files = append(files, generated(generatedUpdateList, list.String()))
	slices.SortFunc(files, func(a, b mar.File) int { return strings.Compare(a.Name, b.Name) })
	return files, nil
}

// opener opens a shipped file through the root (no path can leave the tree) and
// checks that it is still a regular file.
func (t *referenceTree) opener(ctx context.Context, source string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f, err := t.root.Open(source)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err == nil && !st.Mode().IsRegular() {
			err = fmt.Errorf("%s is no longer a regular file", source)
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
}

func generated(name, content string) mar.File {
	return mar.File{Name: name, Mode: 0o644, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(content)), nil
	}}
}

// platformINI is the generated platform.ini: what makes the targets of one source
// differ, and the one place the build's clock (SOURCE_DATE_EPOCH) shows.
func platformINI(k release.TargetKey, p ReferenceParams) string {
	buildID := time.Unix(int64(p.SourceDateEpoch), 0).UTC().Format("20060102150405")
	return fmt.Sprintf("[Build]\nProduct=%s\nVersion=%s\nChannel=%s\nPlatform=%s\nLocale=%s\nBuildID=%s\nSourceDateEpoch=%d\n",
		p.Product, p.Version, p.Channel, k.Platform, k.Locale, buildID, p.SourceDateEpoch)
}
