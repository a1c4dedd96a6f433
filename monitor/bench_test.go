package monitor_test

import (
	"context"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/monitor"
)

// BenchmarkVerifyChain verifies a chain from its genesis: every block, every link into
// it (16-member roster) and every release. CHAINIAC_BENCH_BLOCKS sets the length
// (default 500). Links are signed before the timer starts. It reports the rate
// (wall clock, which other load on the machine slows), the CPU time per block
// (user and system, of the whole process: the in-process mirror included), the
// monitor's heap (its peak during the run and what it keeps after, both over what
// the test chain itself holds) and the time a restart takes to resume from the
// stored chain (rebuilding the timeline state by applying every stored block).
//
//	CHAINIAC_BENCH_BLOCKS=10000 go test ./monitor -run XXX -bench VerifyChain -benchtime 1x -timeout 30m
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
		cfg := monitor.Config{Genesis: c.ID(), Mirrors: []string{url}, StateDir: dir, Clock: func() time.Time { return now }}
		m, err := monitor.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		base := liveHeap()
		peak := sampleHeap()
		cpu := cpuTime()
		b.StartTimer()
		began := time.Now()
		rep, err := m.Run(context.Background())
		elapsed := time.Since(began)
		b.StopTimer()
		used := cpuTime() - cpu
		top := peak()
		if err != nil || rep.Status != monitor.Healthy || rep.Verified != uint64(n) {
			b.Fatalf("%v %+v", err, rep)
		}
		kept := liveHeap()
		_ = m.Close()
		began = time.Now()
		m, err = monitor.New(cfg)
		resume := time.Since(began)
		if err != nil {
			b.Fatal(err)
		}
		_ = m.Close()
		b.ReportMetric(float64(n)/elapsed.Seconds(), "blocks/s")
		b.ReportMetric(used.Seconds()*1000/float64(n), "cpu-ms/block")
		b.ReportMetric(float64(top-base)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(kept-base)/(1<<20), "kept-heap-MiB")
		b.ReportMetric(resume.Seconds(), "resume-s")
		b.StartTimer()
	}
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	return s.HeapAlloc
}

// sampleHeap samples the bytes of live and not yet collected heap objects every
// 10 ms until the returned func is called, which stops the sampler and returns the
// largest value seen.
func sampleHeap() func() uint64 {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var top uint64
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			top = max(top, s[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		wg.Wait()
		return top
	}
}
