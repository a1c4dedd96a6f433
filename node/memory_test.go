package node

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/testrand"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// BenchmarkNodeOpen builds a chain of CHAINIAC_BENCH_BLOCKS releases (default 10⁴;
// the docs report 10⁵) for a one-member roster, then measures what a node costs when
// it opens that chain: the time to replay every block through the timeline rules,
// and the heap it keeps afterwards. The chain is built once, outside the timer; put
// TMPDIR on a tmpfs to build it fast (every append is an fsync).
func BenchmarkNodeOpen(b *testing.B) {
	blocks := 10_000
	if s := os.Getenv("CHAINIAC_BENCH_BLOCKS"); s != "" {
		var err error
		blocks, err = strconv.Atoi(s)
		require.NoError(b, err)
	}
	dir := b.TempDir()
	cfgPath, entry, err := Setup(SetupOptions{Address: freeAddr(b), HTTP: "127.0.0.1:0", Dir: dir}, testrand.New("memory node"))
	require.NoError(b, err)
	cfg, err := LoadConfig(cfgPath)
	require.NoError(b, err)
	key, err := loadKey(cfg.path(cfg.KeyFile))
	require.NoError(b, err)
	roster, err := skipchain.ParseRosterTOML(entry)
	require.NoError(b, err)
	weights, err := roster.Cosi()
	require.NoError(b, err)
	dev, err := release.GenerateDeveloperKey(testrand.New("memory developer"))
	require.NoError(b, err)
	policy, err := release.NewPolicy([]release.DeveloperKey{dev.Public()}, 1)
	require.NoError(b, err)
	g, err := timeline.NewGenesis(skipchain.DefaultParams(), roster, "demo-browser", policy)
	require.NoError(b, err)
	chainDir := filepath.Join(cfg.path(cfg.DataDir), "chains")
	require.NoError(b, os.MkdirAll(chainDir, 0o700))
	c, err := createChain(chainDir, g)
	require.NoError(b, err)
	start := time.Now()
	for i := 1; i <= blocks; i++ {
		m := manifestFor(fmt.Sprintf("1.%d", i))
		sm, err := release.NewSignedManifest(m)
		require.NoError(b, err)
		require.NoError(b, dev.SignManifest(sm))
		back, err := c.back(uint64(i))
		require.NoError(b, err)
		blk, err := c.state.NewBlock(back, roster, sm)
		require.NoError(b, err)
		var links []*skipchain.ForwardLink
		for _, from := range back {
			share, err := key.Sign(weights, skipchain.LinkMessage(from.ID(), blk.ID(), blk.Index(), roster.ID()))
			require.NoError(b, err)
			sig, err := cosi.Aggregate(share)
			require.NoError(b, err)
			l, err := skipchain.NewForwardLink(from, blk.Header(), sig)
			require.NoError(b, err)
			links = append(links, l)
		}
		require.NoError(b, c.appendBlock(blk, links))
	}
	require.NoError(b, c.store.Close())
	b.Logf("built %d blocks in %s", blocks, time.Since(start).Round(time.Second))
	st, err := os.Stat(chainFile(chainDir, g.ID()))
	require.NoError(b, err)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		n, err := Start(cfg, Options{})
		require.NoError(b, err)
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		require.EqualValues(b, blocks, n.chainOf(g.ID()).state.Head().Index())
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(st.Size())/(1<<20), "store-MiB")
		require.NoError(b, n.Close())
		b.StartTimer()
	}
}

func manifestFor(version string) *release.Manifest {
	m := &release.Manifest{
		Product: "demo-browser", Version: version, Channel: "release", SourceDateEpoch: 1764547200,
		Recipe: "reference/v2", GitCommit: release.GitCommit{1}, SourceSHA256: release.Hash256{2},
	}
	for i, p := range []string{"linux-x86_64", "windows-x86_64"} {
		m.Targets = append(m.Targets, release.Target{
			Platform: p, Locale: "en-US", UnsignedSHA256: release.Hash256{byte(i + 1)}, UnsignedSize: 100 << 20,
			SignedSHA512: release.Hash512{byte(i + 1)}, SignedSize: 100<<20 + 512,
			URL: "https://cdn.example.org/demo-browser/" + version + "/" + p + ".mar",
		})
	}
	return m
}
