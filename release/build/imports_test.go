package build

import (
	"testing"

	"github.com/chainiac/chainiac/internal/importcheck"
	"github.com/stretchr/testify/require"
)

// release/build may fetch over HTTP, but it is not a node: no onet, nothing above it.
func TestImportDirection(t *testing.T) {
	bad, err := importcheck.Violations(".", "go.dedis.ch/onet",
		"github.com/chainiac/chainiac/node", "github.com/chainiac/chainiac/client",
		"github.com/chainiac/chainiac/simulation", "github.com/chainiac/chainiac/cmd")
	require.NoError(t, err)
	require.Empty(t, bad)
}
