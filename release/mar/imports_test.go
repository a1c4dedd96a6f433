package mar

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// release/mar is a leaf of the import graph: no network, no onet, no other
// chainiac package (see DESIGN.md, "Layout and import direction").
func TestImportDirection(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(gobin, "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	require.NoError(t, err)
	for _, dep := range strings.Fields(string(out)) {
		assert.NotEqual(t, "net/http", dep)
		assert.False(t, strings.HasPrefix(dep, "go.dedis.ch/onet"), dep)
		if strings.HasPrefix(dep, "github.com/chainiac/chainiac/") {
			assert.Equal(t, "github.com/chainiac/chainiac/release/mar", dep)
		}
	}
}
