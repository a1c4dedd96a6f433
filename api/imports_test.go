package api

import (
	"testing"

	"github.com/chainiac/chainiac/internal/importcheck"
	"github.com/stretchr/testify/require"
)

// api is shared by node, client and monitor: it never imports onet or those packages.
func TestImportDirection(t *testing.T) {
	bad, err := importcheck.Violations(".", "go.dedis.ch/onet",
		"github.com/chainiac/chainiac/node", "github.com/chainiac/chainiac/client",
		"github.com/chainiac/chainiac/monitor", "github.com/chainiac/chainiac/cmd")
	require.NoError(t, err)
	require.Empty(t, bad)
}
