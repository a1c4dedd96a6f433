package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// export --json reports each chain copied: its head, its timestamp and how many
// files changed, and a second run over a current copy writes nothing.
func TestExportJSON(t *testing.T) {
	c := monitorChain(t, false)
	url := serveChain(t, c)
	site := filepath.Join(t.TempDir(), "site")
	out, err := runCLI(t, "export", "--node", url, "--output", site, "--genesis", c.ID().String(), "--json")
	require.NoError(t, err)
	var rep exportOutput
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, site, rep.Output)
	require.Len(t, rep.Chains, 1)
	got := rep.Chains[0]
	assert.Equal(t, c.ID().String(), got.Genesis)
	assert.EqualValues(t, c.Head().Index(), got.HeadIndex)
	require.NotNil(t, got.TimestampIndex)
	assert.EqualValues(t, c.Head().Index(), *got.TimestampIndex)
	files := 0
	require.NoError(t, filepath.Walk(site, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			files++
		}
		return err
	}))
	assert.Equal(t, files, got.FilesWritten)

	out, err = runCLI(t, "export", "--node", url, "--output", site, "--genesis", c.ID().String(), "--json")
	require.NoError(t, err)
	rep = exportOutput{}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Zero(t, rep.Chains[0].FilesWritten, "the copy was current")

	text, err := runCLI(t, "export", "--node", url, "--output", site, "--genesis", c.ID().String())
	require.NoError(t, err)
	assert.Contains(t, text, "chain "+c.ID().String()+": blocks 0..5, timestamp of block 5; 0 files written")
}
