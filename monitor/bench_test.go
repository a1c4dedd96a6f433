package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/monitor"
	"github.com/chainiac/chainiac/skipchain"
)

// BenchmarkVerifyChain verifies a chain from its genesis: every block, every link into
// it (16-member roster) and every release. CHAINIAC_BENCH_BLOCKS sets the length
// (default 500). Links are signed before the timer starts, and the chain is served
// from this process over 127.0.0.1 while the monitor runs in a child process (this
// test binary again, see benchChild), so that its figures are the monitor's alone:
// the rate (wall clock, which other load on the machine slows), its CPU time per
// block (user and system), its peak resident size and peak heap, the heap it keeps
// after the run, and the time a restart takes to resume from the stored chain
// (rebuilding the timeline state by applying every stored block).
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
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(exe, "-test.run", "^$")
		cmd.Env = append(os.Environ(), benchChildEnv+"="+c.ID().String()+" "+url+" "+b.TempDir())
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			b.Fatalf("monitor process: %v: %s", err, errOut.String())
		}
		var r benchResult
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			b.Fatalf("%v: %q", err, out.String())
		}
		if r.Verified != uint64(n) {
			b.Fatalf("verified %d of %d blocks", r.Verified, n)
		}
		b.ReportMetric(float64(n)/r.Seconds, "blocks/s")
		b.ReportMetric(r.CPUSeconds*1000/float64(n), "cpu-ms/block")
		b.ReportMetric(float64(r.PeakRSS)/(1<<20), "peak-rss-MiB")
		b.ReportMetric(float64(r.PeakHeap)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(r.KeptHeap)/(1<<20), "kept-heap-MiB")
		b.ReportMetric(r.ResumeSeconds, "resume-s")
	}
}

// benchChildEnv, set to "GENESIS URL DIR", makes this test binary run one monitor
// pass and print a benchResult instead of running tests (see TestMain).
const benchChildEnv = "CHAINIAC_BENCH_MONITOR"

type benchResult struct {
	Verified      uint64
	Seconds       float64 // the run, wall clock
	CPUSeconds    float64 // the run, user and system
	PeakRSS       int64   // of the process, bytes
	PeakHeap      uint64  // heap objects, live and not yet collected, bytes
	KeptHeap      uint64  // live heap after the run and a collection, bytes
	ResumeSeconds float64 // New on the stored chain, after Close
}

// benchChild runs the monitor of BenchmarkVerifyChain in its own process.
func benchChild(arg string) error {
	var g, url, dir string
	if _, err := fmt.Sscan(arg, &g, &url, &dir); err != nil {
		return err
	}
	var genesis skipchain.ID
	if err := genesis.UnmarshalText([]byte(g)); err != nil {
		return err
	}
	cfg := monitor.Config{Genesis: genesis, Mirrors: []string{url}, StateDir: dir, Clock: func() time.Time { return now }}
	m, err := monitor.New(cfg)
	if err != nil {
		return err
	}
	peak := sampleHeap()
	cpu := cpuTime()
	began := time.Now()
	rep, err := m.Run(context.Background())
	var r benchResult
	r.Seconds, r.CPUSeconds = time.Since(began).Seconds(), (cpuTime() - cpu).Seconds()
	r.PeakHeap = peak()
	if err != nil {
		return err
	}
	if rep.Status != monitor.Healthy {
		return fmt.Errorf("%s: %+v", rep.Status, rep.Alarms)
	}
	r.Verified = rep.Verified
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.KeptHeap = ms.HeapAlloc
	if err := m.Close(); err != nil {
		return err
	}
	began = time.Now()
	if m, err = monitor.New(cfg); err != nil {
		return err
	}
	r.ResumeSeconds = time.Since(began).Seconds()
	_ = m.Close()
	r.PeakRSS = peakRSS()
	return json.NewEncoder(os.Stdout).Encode(r)
}

// sampleHeap samples the bytes of heap objects (live and not yet collected) every
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
