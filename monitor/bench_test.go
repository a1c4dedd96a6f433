package monitor_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/monitor"
)

// BenchmarkVerifyChain verifies a chain from its genesis: every block, every link into
// it (16-member roster) and every release. CHAINIAC_BENCH_BLOCKS sets the length
// (default 500). Links are signed before the timer starts.
//
//	CHAINIAC_BENCH_BLOCKS=2000 go test ./monitor -run XXX -bench VerifyChain -benchtime 1x
func BenchmarkVerifyChain(b *testing.B) {
	n := 500
	if v, err := strconv.Atoi(os.Getenv("CHAINIAC_BENCH_BLOCKS")); err == nil && v > 0 {
		n = v
	}
	c := testchain.New(b, testchain.Options{Members: 16})
	c.Releases(b, 1, n)
	p := c.Block(0).Header().Params()
	for i := uint64(1); i <= uint64(n); i++ {
		for _, pos := range p.LinksInto(i) {
			if _, err := c.SignLink(pos.From, pos.Level); err != nil {
				b.Fatal(err)
			}
		}
	}
	url := serveB(b, c)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		m, err := monitor.New(monitor.Config{Genesis: c.ID(), Mirrors: []string{url}, StateDir: dir,
			Clock: func() time.Time { return now }})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		began := time.Now()
		rep, err := m.Run(context.Background())
		elapsed := time.Since(began)
		b.StopTimer()
		if err != nil || rep.Status != monitor.Healthy || rep.Verified != uint64(n) {
			b.Fatalf("%v %+v", err, rep)
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(n)/elapsed.Seconds(), "blocks/s")
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(n), "alloc-B/block")
		b.ReportMetric(float64(after.HeapInuse)/(1<<20), "heap-MiB")
		_ = m.Close()
		b.StartTimer()
	}
}
