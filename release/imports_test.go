package release

import (
	"testing"

	"github.com/chainiac/chainiac/internal/importcheck"
	"github.com/stretchr/testify/require"
)

// release is pure: it never reaches the network, onet, or the packages above it.
func TestImportDirection(t *testing.T) {
	bad, err := importcheck.Violations(".", "net/http", "go.dedis.ch/onet",
		"github.com/chainiac/chainiac/node", "github.com/chainiac/chainiac/client",
		"github.com/chainiac/chainiac/simulation", "github.com/chainiac/chainiac/cmd",
		"github.com/chainiac/chainiac/release/build")
	require.NoError(t, err)
	require.Empty(t, bad)
}
