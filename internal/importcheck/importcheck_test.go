package importcheck

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestViolations(t *testing.T) {
	// This package uses os/exec, so it depends on os and not on net/http.
	bad, err := Violations(".", "os", "net/http")
	require.NoError(t, err)
	assert.Contains(t, bad, "os")
	assert.Contains(t, bad, "os/exec", "subpackages of a forbidden package count")
	assert.NotContains(t, bad, "net/http")
}
