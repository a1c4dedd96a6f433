package build

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// release/build may fetch over HTTP, but it is not a node: no onet, nothing above it.
func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	forbidden := []string{"go.dedis.ch/onet", "github.com/chainiac/chainiac/node",
		"github.com/chainiac/chainiac/client", "github.com/chainiac/chainiac/simulation",
		"github.com/chainiac/chainiac/cmd"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			require.False(t, dep == f || strings.HasPrefix(dep, f+"/"), "release/build imports %s", dep)
		}
	}
}
