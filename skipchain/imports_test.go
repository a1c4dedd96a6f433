package skipchain_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImportDirection enforces DESIGN.md's layering: skipchain builds on cosi and
// internal packages only, and never reaches the network.
func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/chainiac/chainiac/skipchain").CombinedOutput()
	require.NoError(t, err, string(out))
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "net/http", strings.HasPrefix(dep, "go.dedis.ch/onet"):
			t.Errorf("skipchain depends on %s", dep)
		case strings.HasPrefix(dep, "github.com/chainiac/chainiac/"):
			rest := strings.TrimPrefix(dep, "github.com/chainiac/chainiac/")
			if rest != "cosi" && rest != "skipchain" && !strings.HasPrefix(rest, "internal/") {
				t.Errorf("skipchain depends on %s, which is above it", dep)
			}
		}
	}
}
