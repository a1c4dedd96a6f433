package node

import (
	"testing"

	"github.com/chainiac/chainiac/internal/importcheck"
	"github.com/stretchr/testify/require"
)

// The node never imports the updater, the monitor or the commands above it.
func TestImportDirection(t *testing.T) {
	bad, err := importcheck.Violations(".", "github.com/chainiac/chainiac/client",
		"github.com/chainiac/chainiac/monitor", "github.com/chainiac/chainiac/simulation",
		"github.com/chainiac/chainiac/cmd")
	require.NoError(t, err)
	require.Empty(t, bad)
}
