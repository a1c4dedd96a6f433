package monitor_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/monitor"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/stretchr/testify/require"
)

// TestSitePagesAtScale writes the site of a chain of CHAINIAC_SITE_BLOCKS releases
// (skipped when unset; it takes minutes at 10⁵) and checks that no page of it
// (index, rosters, pages/N, blocks/I) reaches 200 KB. The chain has a one-member
// roster and only level-0 links, so that signing and verifying it costs one
// signature per block; the pages' rows are the same as under a larger roster but
// for the few characters of "signers" and "which members".
//
//	CHAINIAC_SITE_BLOCKS=100000 go test ./monitor -run SitePagesAtScale -v -timeout 60m
func TestSitePagesAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CHAINIAC_SITE_BLOCKS"))
	if n <= 0 {
		t.Skip("set CHAINIAC_SITE_BLOCKS to the chain's length")
	}
	began := time.Now()
	c := testchain.New(t, testchain.Options{Members: 1, Params: skipchain.Params{Base: 2, MaxHeight: 1}})
	c.Releases(t, 1, n)
	t.Logf("chain of %d blocks built in %s", n, time.Since(began).Round(time.Second))
	site := t.TempDir()
	m, err := monitor.New(monitor.Config{Genesis: c.ID(), Mirrors: []string{serve(t, c)}, StateDir: t.TempDir(),
		SiteDir: site, Clock: func() time.Time { return now }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	began = time.Now()
	rep, err := m.Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, monitor.Healthy, rep.Status, "%+v", rep.Alarms)
	require.Equal(t, uint64(n), rep.Verified)
	t.Logf("verified and site written in %s", time.Since(began).Round(time.Second))

	largest := map[string]int64{}
	files := map[string]int{}
	err = filepath.WalkDir(site, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		kind := filepath.Base(filepath.Dir(p))
		if kind == filepath.Base(site) {
			kind = filepath.Base(p)
		}
		files[kind]++
		largest[kind] = max(largest[kind], info.Size())
		if filepath.Ext(p) == ".html" {
			require.Less(t, info.Size(), int64(200<<10), "%s is %d bytes", p, info.Size())
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, n/monitor.DefaultPageSize+1, files["pages"])
	require.Equal(t, n+1, files["blocks"])
	for k, v := range largest {
		t.Logf("%-14s %6d files, largest %s", k, files[k], fmt.Sprintf("%.1f KB", float64(v)/1000))
	}
}
