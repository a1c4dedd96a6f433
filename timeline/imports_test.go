package timeline

import (
	"testing"

	"github.com/chainiac/chainiac/internal/importcheck"
	"github.com/stretchr/testify/require"
)

// timeline is pure, like the packages below it: node, client and monitor share it, so
// it never reaches the network, onet, the rebuild runner or the packages above it.
func TestImportDirection(t *testing.T) {
	bad, err := importcheck.Violations(".", "net/http", "go.dedis.ch/onet", "os/exec",
		"github.com/chainiac/chainiac/node", "github.com/chainiac/chainiac/client",
		"github.com/chainiac/chainiac/monitor", "github.com/chainiac/chainiac/simulation",
		"github.com/chainiac/chainiac/cmd", "github.com/chainiac/chainiac/release/build")
	require.NoError(t, err)
	require.Empty(t, bad)
}
