package protocol

import (
	"testing"

	"github.com/chainiac/chainiac/internal/importcheck"
	"github.com/stretchr/testify/require"
)

// The protocol sits on cosi and onet only: it knows nothing of chains or releases.
// (onet itself brings net/http, for its websockets.)
func TestImportDirection(t *testing.T) {
	bad, err := importcheck.Violations(".",
		"github.com/chainiac/chainiac/skipchain", "github.com/chainiac/chainiac/release",
		"github.com/chainiac/chainiac/node", "github.com/chainiac/chainiac/client",
		"github.com/chainiac/chainiac/simulation")
	require.NoError(t, err)
	require.Empty(t, bad)
}
