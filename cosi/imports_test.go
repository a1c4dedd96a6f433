package cosi

import (
	"testing"

	"github.com/chainiac/chainiac/internal/importcheck"
	"github.com/stretchr/testify/require"
)

// cosi is pure computation: no network, no onet, nothing above it in chainiac.
func TestImportDirection(t *testing.T) {
	bad, err := importcheck.Violations(".", "net", "go.dedis.ch/onet",
		"github.com/chainiac/chainiac/skipchain", "github.com/chainiac/chainiac/release",
		"github.com/chainiac/chainiac/node", "github.com/chainiac/chainiac/client",
		"github.com/chainiac/chainiac/simulation", "github.com/chainiac/chainiac/cosi/protocol")
	require.NoError(t, err)
	require.Empty(t, bad)
}
