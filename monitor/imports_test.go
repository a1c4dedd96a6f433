package monitor

import (
	"testing"

	"github.com/chainiac/chainiac/internal/importcheck"
	"github.com/stretchr/testify/require"
)

// A monitor is run outside the cothority: it never depends on the node or onet.
func TestImportDirection(t *testing.T) {
	bad, err := importcheck.Violations(".", "go.dedis.ch/onet", "github.com/chainiac/chainiac/node",
		"github.com/chainiac/chainiac/cmd", "github.com/chainiac/chainiac/simulation", "github.com/chainiac/chainiac/demo")
	require.NoError(t, err)
	require.Empty(t, bad)
}
