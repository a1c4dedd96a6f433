package client

import (
	"testing"

	"github.com/chainiac/chainiac/internal/importcheck"
	"github.com/stretchr/testify/require"
)

// The updater speaks HTTP only: it never links the node, onet or the tools above it.
func TestImportDirection(t *testing.T) {
	bad, err := importcheck.Violations(".", "go.dedis.ch/onet", "github.com/chainiac/chainiac/node",
		"github.com/chainiac/chainiac/cmd", "github.com/chainiac/chainiac/monitor",
		"github.com/chainiac/chainiac/simulation", "github.com/chainiac/chainiac/demo")
	require.NoError(t, err)
	require.Empty(t, bad)
}
