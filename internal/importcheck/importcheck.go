package importcheck

import (
	"fmt"
	"os/exec"
	"strings"
)

// Violations returns the dependencies of the package in dir (".", from a test) that
// are one of forbidden or below one of them.
func Violations(dir string, forbidden ...string) ([]string, error) {
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("importcheck: go list: %w", err)
	}
	var bad []string
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				bad = append(bad, dep)
			}
		}
	}
	return bad, nil
}
