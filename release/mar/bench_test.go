package mar

import (
	"bytes"
	"crypto/sha512"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz/lzma"
)

const benchSize = 100 << 20

// bigSignedMAR writes, in a temporary directory, a signed MAR of about
// 100 MiB: 100 entries of 1 MiB of incompressible bytes, stored as is.
func bigSignedMAR(b *testing.B) *os.File {
	b.Helper()
	dir := b.TempDir()
	var files []File
	for i := range 100 {
		files = append(files, File{Name: "blob/" + itoa(i), Mode: 0o644, Open: func() (io.ReadCloser, error) {
			seed := [32]byte{byte(i)}
			return io.NopCloser(io.LimitReader(rand.NewChaCha8(seed), benchSize/100)), nil
		}})
	}
	unsigned, err := os.Create(filepath.Join(dir, "unsigned.mar"))
	require.NoError(b, err)
	defer unsigned.Close()
	require.NoError(b, Write(unsigned, sampleInfo, files, WriteOptions{Compression: Stored}))
	size, err := unsigned.Seek(0, io.SeekCurrent)
	require.NoError(b, err)
	a, err := Open(unsigned, size)
	require.NoError(b, err)
	signed, err := os.Create(filepath.Join(dir, "signed.mar"))
	require.NoError(b, err)
	b.Cleanup(func() { signed.Close() })
	require.NoError(b, Sign(signed, a, privateKey(b, "key2048-pkcs8.pem")))
	return signed
}

// peakHeap samples HeapInuse every few milliseconds until stop, and
// returns the largest value seen above the level when it started.
type peakHeap struct {
	base, peak uint64
	done       chan struct{}
	wg         sync.WaitGroup
}

func startPeakHeap() *peakHeap {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p := &peakHeap{base: ms.HeapInuse, peak: ms.HeapInuse, done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				p.peak = max(p.peak, ms.HeapInuse)
			}
		}
	}()
	return p
}

func (p *peakHeap) stop() float64 {
	close(p.done)
	p.wg.Wait()
	return float64(p.peak-p.base) / (1 << 20)
}

func benchOverFile(b *testing.B, op func(a *Archive) error) {
	f := bigSignedMAR(b)
	st, err := f.Stat()
	require.NoError(b, err)
	b.SetBytes(st.Size())
	b.ReportAllocs()
	peak := startPeakHeap()
	b.ResetTimer()
	for b.Loop() {
		a, err := Open(f, st.Size())
		if err != nil {
			b.Fatal(err)
		}
		if err := op(a); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(peak.stop(), "peak-heap-MiB")
}

// BenchmarkStripSHA512 strips a signed 100 MiB MAR into SHA-512, the
// hash a manifest records for the unsigned file.
func BenchmarkStripSHA512(b *testing.B) {
	benchOverFile(b, func(a *Archive) error {
		h := sha512.New()
		if err := Strip(h, a); err != nil {
			return err
		}
		h.Sum(nil)
		return nil
	})
}

// BenchmarkVerify hashes the signed ranges of a 100 MiB MAR with SHA-384
// and checks one RSA-2048 signature.
func BenchmarkVerify(b *testing.B) {
	key := publicKey(b, "key2048.pub.pem")
	benchOverFile(b, func(a *Archive) error { return Verify(a, key) })
}

// BenchmarkSHA512Baseline hashes the same file's bytes with no MAR
// processing, as the yardstick for the two above.
func BenchmarkSHA512Baseline(b *testing.B) {
	buf := make([]byte, copyBufferSize)
	benchOverFile(b, func(a *Archive) error {
		h := sha512.New()
		if _, err := io.CopyBuffer(h, io.NewSectionReader(a.r, 0, a.size), buf); err != nil {
			return err
		}
		h.Sum(nil)
		return nil
	})
}

// BenchmarkXZEmptyBlocks decodes 200 empty blocks (3.6 KB), each declaring a 64 MiB
// dictionary: B/op is what a tiny hostile stream makes the reader allocate.
func BenchmarkXZEmptyBlocks(b *testing.B) {
	raw := emptyBlocks(200)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewXZReader(bytes.NewReader(raw), int64(len(raw)), DefaultMaxXZDict)
		require.NoError(b, err)
		n, err := io.Copy(io.Discard, r)
		require.NoError(b, err)
		require.Zero(b, n)
	}
}

// blocksXZ is the entry Write makes of data with the given workers.
func blocksXZ(t testing.TB, data []byte, workers int) []byte {
	out := writeBytes(t, sampleInfo, []File{bytesFile("f", 0o644, data)}, WriteOptions{Workers: workers})
	return out[contentStart : len(out)-4-indexEntryFixed-2]
}

// BenchmarkXZEntry compresses one entry with the writer XZ entries used to
// come from (one xz.Writer stream, "legacy") and with Write's blocks
// ("blocks", as many workers as GOMAXPROCS, and "blocks-1worker"), on incompressible bytes and on
// text that compresses like a source tree. B/s is uncompressed bytes; ratio
// is compressed over uncompressed size.
func BenchmarkXZEntry(b *testing.B) {
	for _, in := range []struct {
		name string
		data []byte
	}{
		{"random-4MiB", chachaBytes(4<<20, 1)},
		{"source-16MiB", sourceLike(16<<20, 1)},
	} {
		for _, w := range []struct {
			name   string
			encode func(testing.TB, []byte) []byte
		}{
			{"legacy", legacyXZ},
			{"blocks-1worker", func(t testing.TB, data []byte) []byte { return blocksXZ(t, data, 1) }},
			{"blocks", func(t testing.TB, data []byte) []byte { return blocksXZ(t, data, 0) }},
		} {
			b.Run("in="+in.name+"/w="+w.name, func(b *testing.B) {
				b.SetBytes(int64(len(in.data)))
				var out []byte
				for b.Loop() {
					out = w.encode(b, in.data)
				}
				b.ReportMetric(float64(len(out))/float64(len(in.data)), "ratio")
			})
		}
	}
}

// BenchmarkLZMA2Knobs measures what ulikunitz/xz's LZMA2 encoder settings
// cost on 1 MiB of incompressible bytes, where every setting ends in the
// same uncompressed chunks: the match finder (HashTable4, the default, or
// BinaryTree), the dictionary (8 MiB, Write's, against 1 MiB and 64 KiB),
// and the look-ahead buffer.
func BenchmarkLZMA2Knobs(b *testing.B) {
	data := chachaBytes(1<<20, 3)
	for _, c := range []struct {
		name string
		cfg  lzma.Writer2Config
	}{
		{"hashtable-8MiB", lzma.Writer2Config{DictCap: 8 << 20}},
		{"hashtable-1MiB", lzma.Writer2Config{DictCap: 1 << 20}},
		{"hashtable-64KiB", lzma.Writer2Config{DictCap: 64 << 10}},
		{"hashtable-8MiB-buf64KiB", lzma.Writer2Config{DictCap: 8 << 20, BufSize: 64 << 10}},
		{"binarytree-8MiB", lzma.Writer2Config{DictCap: 8 << 20, Matcher: lzma.BinaryTree}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			var out bytes.Buffer
			for b.Loop() {
				out.Reset()
				w, err := c.cfg.NewWriter2(&out)
				require.NoError(b, err)
				_, err = w.Write(data)
				require.NoError(b, err)
				require.NoError(b, w.Close())
			}
			b.ReportMetric(float64(out.Len())/float64(len(data)), "ratio")
		})
	}
}
