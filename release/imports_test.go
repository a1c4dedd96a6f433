package release

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// release is pure: it never reaches the network, onet, or the packages above it.
func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	forbidden := []string{"net/http", "go.dedis.ch/onet", "github.com/chainiac/chainiac/node",
		"github.com/chainiac/chainiac/client", "github.com/chainiac/chainiac/simulation",
		"github.com/chainiac/chainiac/cmd", "github.com/chainiac/chainiac/release/build"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			require.False(t, dep == f || strings.HasPrefix(dep, f+"/"), "release imports %s", dep)
		}
	}
}
