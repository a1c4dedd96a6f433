package build

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxPathLen bounds entry names; Linux's PATH_MAX is 4096.
const maxPathLen = 4096

// cleanEntryName turns an archive or tree entry name into a clean relative slash path,
// refusing absolute names, ".." anywhere, and empty names.
func cleanEntryName(name string) (string, error) {
	if len(name) > maxPathLen {
		return "", fmt.Errorf("%w: entry name of %d bytes", ErrUnsafeSource, len(name))
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("%w: absolute entry name %q", ErrUnsafeSource, name)
	}
	if strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("%w: NUL in entry name %q", ErrUnsafeSource, name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("%w: entry name %q contains ..", ErrUnsafeSource, name)
		}
	}
	clean := path.Clean(name)
	if clean == "." {
		return "", fmt.Errorf("%w: empty entry name %q", ErrUnsafeSource, name)
	}
	return clean, nil
}

// checkLinkTarget refuses symlink targets that are absolute or that leave the root,
// judged lexically from the link's own directory.
func checkLinkTarget(linkName, target string) error {
	if target == "" || strings.HasPrefix(target, "/") {
		return fmt.Errorf("%w: symlink %q -> %q is absolute or empty", ErrUnsafeSource, linkName, target)
	}
	joined := path.Join(path.Dir(linkName), target)
	if joined == ".." || strings.HasPrefix(joined, "../") {
		return fmt.Errorf("%w: symlink %q -> %q leaves the source tree", ErrUnsafeSource, linkName, target)
	}
	return nil
}

// noSymlinkParents checks that no directory on the way from root to the slash path
// rel is a symlink.
func noSymlinkParents(root *os.Root, rel string) error {
	parts := strings.Split(rel, "/")
	for i := range parts[:len(parts)-1] {
		dir := strings.Join(parts[:i+1], "/")
		st, err := root.Lstat(dir)
		if err != nil {
			return err
		}
		if st.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("%q lies under the symlink %q", rel, dir)
		}
		if !st.IsDir() {
			return fmt.Errorf("%q lies under the non-directory %q", rel, dir)
		}
	}
	return nil
}

// maxLinkHops bounds symlink chains, as the kernel's ELOOP limit does.
const maxLinkHops = 40

// checkSymlinks resolves every symlink in the tree, following chains of links inside
// it, and refuses any that ends outside the root. Each link was checked lexically
// when it was created, but a chain (a -> b/.., b -> x/y/z) can still escape.
func checkSymlinks(root string) error {
	return filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&os.ModeSymlink == 0 {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if _, err := resolveInside(root, filepath.ToSlash(rel)); err != nil {
			return fmt.Errorf("%w: symlink %q: %v", ErrUnsafeSource, rel, err)
		}
		return nil
	})
}

// resolveInside resolves rel under root like the kernel would, component by
// component, failing if any step leaves root. Missing components end the walk (a
// dangling link is harmless).
func resolveInside(root, rel string) (string, error) {
	var resolved []string // components below root
	pending := strings.Split(rel, "/")
	hops := 0
	for len(pending) > 0 {
		part := pending[0]
		pending = pending[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			if len(resolved) == 0 {
				return "", fmt.Errorf("resolves outside the source tree")
			}
			resolved = resolved[:len(resolved)-1]
			continue
		}
		cur := filepath.Join(append([]string{root}, append(resolved, part)...)...)
		st, err := os.Lstat(cur)
		if os.IsNotExist(err) {
			// Dangling: what remains is resolved lexically.
			resolved = append(resolved, part)
			for _, rest := range pending {
				switch rest {
				case "", ".":
				case "..":
					if len(resolved) == 0 {
						return "", fmt.Errorf("resolves outside the source tree")
					}
					resolved = resolved[:len(resolved)-1]
				default:
					resolved = append(resolved, rest)
				}
			}
			return path.Join(resolved...), nil
		}
		if err != nil {
			return "", err
		}
		if st.Mode()&os.ModeSymlink == 0 {
			resolved = append(resolved, part)
			continue
		}
		hops++
		if hops > maxLinkHops {
			return "", fmt.Errorf("more than %d symlinks in a chain", maxLinkHops)
		}
		target, err := os.Readlink(cur)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			return "", fmt.Errorf("absolute target %q", target)
		}
		pending = append(strings.Split(target, "/"), pending...)
	}
	return path.Join(resolved...), nil
}
