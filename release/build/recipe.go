package build

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/chainiac/chainiac/release"
)

// Recipe is how a node rebuilds releases that name it: a manifest's Recipe field is
// looked up by Name in the node's configuration.
type Recipe struct {
	Name string
	// Command is the build's argv, run in the source directory. Command[0] is looked
	// up in the runner's fixed PATH.
	Command []string
	// TimeLimit bounds the whole build; at the limit the process group is killed.
	TimeLimit time.Duration
	// MaxOutputBytes bounds the sum of the sizes of the MAR files the build produces
	// (each is also at most release.MaxMARSize).
	MaxOutputBytes int64
	// MaxLogBytes is how much of the build's combined stdout and stderr is kept (the
	// last bytes); the rest is counted and dropped, never blocking the build.
	MaxLogBytes int64
	// OutputGlob, relative to the source directory, matches the MAR files the build
	// produced, e.g. "out/*/*.mar". Each match must be <dir>/<platform>/<locale>.mar.
	OutputGlob string
}

// Validate checks that the recipe can run: a command, positive limits, and a relative
// output glob that cannot leave the source directory.
func (r Recipe) Validate() error {
	if r.Name == "" || len(r.Name) > release.MaxRecipeLen {
		return fmt.Errorf("build: recipe name %q: want 1..%d bytes", r.Name, release.MaxRecipeLen)
	}
	if len(r.Command) == 0 || r.Command[0] == "" {
		return fmt.Errorf("build: recipe %q: empty command", r.Name)
	}
	if r.TimeLimit <= 0 {
		return fmt.Errorf("build: recipe %q: time limit must be positive", r.Name)
	}
	if r.MaxOutputBytes <= 0 || r.MaxLogBytes <= 0 {
		return fmt.Errorf("build: recipe %q: output and log limits must be positive", r.Name)
	}
	if err := checkGlob(r.OutputGlob); err != nil {
		return fmt.Errorf("build: recipe %q: output glob: %w", r.Name, err)
	}
	return nil
}

func checkGlob(g string) error {
	if g == "" {
		return errors.New("empty")
	}
	if filepath.IsAbs(g) {
		return fmt.Errorf("%q is absolute", g)
	}
	for _, part := range strings.Split(g, "/") {
		if part == ".." {
			return fmt.Errorf("%q leaves the source directory", g)
		}
	}
	if !strings.HasSuffix(g, ".mar") {
		return fmt.Errorf("%q must end in .mar", g)
	}
	if _, err := filepath.Match(g, ""); err != nil {
		return fmt.Errorf("%q: %w", g, err)
	}
	return nil
}
