package build

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/chainiac/chainiac/release"
)

// FindMARs lists the MAR files of a directory laid out as <dir>/<platform>/<locale>.mar,
// the layout builds write and CheckRebuild's callers pass in, by target. Files not
// ending in .mar are ignored; a .mar file whose platform or locale is not a valid
// target name is an error, as are more than release.MaxTargets files.
func FindMARs(dir string) (map[release.TargetKey]string, error) {
	platforms, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("build: find MARs: %w", err)
	}
	out := map[release.TargetKey]string{}
	for _, p := range platforms {
		pdir := filepath.Join(dir, p.Name())
		if st, err := os.Stat(pdir); err != nil || !st.IsDir() {
			continue
		}
		files, err := os.ReadDir(pdir)
		if err != nil {
			return nil, fmt.Errorf("build: find MARs: %w", err)
		}
		for _, f := range files {
			locale, ok := strings.CutSuffix(f.Name(), ".mar")
			if !ok {
				continue
			}
			k := release.TargetKey{Platform: p.Name(), Locale: locale}
			if err := k.Validate(); err != nil {
				return nil, fmt.Errorf("build: find MARs: %s: want <platform>/<locale>.mar: %w", filepath.Join(pdir, f.Name()), err)
			}
			if len(out) == release.MaxTargets {
				return nil, fmt.Errorf("build: find MARs: more than %d MAR files in %s", release.MaxTargets, dir)
			}
			out[k] = filepath.Join(pdir, f.Name())
		}
	}
	return out, nil
}
