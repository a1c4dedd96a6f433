package node

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/api"
)

// A node with an export directory keeps a static copy that any file server serves
// byte for byte as the node does, and that grows and replaces files as the chain does.
func TestExportDirMatchesHTTP(t *testing.T) {
	export := t.TempDir()
	c := newCluster(t, 3)
	c.addNode(func(cfg *Config) { cfg.ExportDir = export })
	c.createChain(3, 0, 1, 2, 3)
	for _, v := range []string{"1.0", "1.1", "1.2"} {
		code, res := c.propose(3, releaseProposal(c.release(v, false)))
		require.Equal(t, http.StatusOK, code, "%+v", res)
	}
	static := httptest.NewServer(http.FileServer(http.Dir(export)))
	defer static.Close()
	paths := []string{api.Latest(c.genesis), api.Timestamp(c.genesis)}
	for i := uint64(0); i <= 3; i++ {
		paths = append(paths, api.Block(c.genesis, i))
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, p := range paths {
		for {
			want := getBody(t, c.url(3)+p)
			got, err := os.ReadFile(filepath.Join(export, filepath.FromSlash(p[1:])))
			if err == nil && bytes.Equal(want, got) {
				assert.Equal(t, want, getBody(t, static.URL+p), p)
				break
			}
			require.True(t, time.Now().Before(deadline), "export of %s never matched the node", p)
			time.Sleep(20 * time.Millisecond)
		}
	}
	// Nothing but chain paths, and no temporary files left behind.
	err := filepath.WalkDir(export, func(p string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(export, p)
		_, perr := api.ParsePath("/" + filepath.ToSlash(rel))
		assert.NoError(t, perr, "unexpected file %s", rel)
		return nil
	})
	require.NoError(t, err)
}
