package build

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/mar"
	"github.com/stretchr/testify/require"
)

// BenchmarkCheckRebuild checks one target whose MAR holds size bytes of incompressible
// content in 1 MiB entries (stored: the comparison never decompresses, so only the
// size matters). Both files are in the page cache after the first iteration, so this
// measures hashing and comparing, not the disk.
func BenchmarkCheckRebuild(b *testing.B) {
	for _, size := range []int{1 << 20, 100 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			m, rebuilt, signed := largeRelease(b, size)
			b.SetBytes(int64(m.Targets[0].UnsignedSize))
			b.ResetTimer()
			for b.Loop() {
				if err := CheckRebuild(m, rebuilt, signed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheckRebuildHashBaseline is the floor CheckRebuild cannot go below with
// one pass per hash: SHA-256 of the rebuilt file plus SHA-512 of the signed one, no
// parsing, no comparison.
func BenchmarkCheckRebuildHashBaseline(b *testing.B) {
	m, rebuilt, signed := largeRelease(b, 100<<20)
	k := m.Targets[0].Key()
	b.SetBytes(int64(m.Targets[0].UnsignedSize))
	buf := make([]byte, 256<<10)
	b.ResetTimer()
	for b.Loop() {
		for _, h := range []struct {
			path string
			hash hash.Hash
		}{{rebuilt[k], sha256.New()}, {signed[k], sha512.New()}} {
			f, err := os.Open(h.path)
			require.NoError(b, err)
			st, err := f.Stat()
			require.NoError(b, err)
			sum := make([]byte, h.hash.Size())
			require.NoError(b, digest(h.hash, f, st.Size(), buf, sum))
			f.Close()
		}
	}
}

// largeRelease writes a one-target release with an unsigned MAR of about size bytes.
func largeRelease(b *testing.B, size int) (*release.Manifest, map[release.TargetKey]string, map[release.TargetKey]string) {
	k := release.TargetKey{Platform: "linux-x86_64", Locale: "ALL"}
	dir := b.TempDir()
	unsigned := filepath.Join(dir, "unsigned.mar")
	out, err := os.Create(unsigned)
	require.NoError(b, err)
	var files []mar.File
	for i := range size >> 20 {
		files = append(files, mar.File{Name: fmt.Sprintf("browser/part-%03d.bin", i), Mode: 0o644,
			Open: func() (io.ReadCloser, error) {
				return io.NopCloser(io.LimitReader(rand.NewChaCha8([32]byte{byte(i)}), 1<<20)), nil
			}})
	}
	require.NoError(b, mar.Write(out, mar.ProductInfo{Channel: "release", Version: "1.0"}, files, mar.WriteOptions{Compression: mar.Stored}))
	require.NoError(b, out.Close())
	signed := filepath.Join(dir, "signed.mar")
	signFile(b, testSigningKey(b), unsigned, signed)
	rebuiltMap := map[release.TargetKey]string{k: unsigned}
	signedMap := map[release.TargetKey]string{k: signed}
	p := ReferenceParams{Product: "demo-browser", Version: "1.0", Channel: "release", SourceDateEpoch: 1, Targets: []release.TargetKey{k}}
	return manifestOf(b, p, rebuiltMap, signedMap), rebuiltMap, signedMap
}

// BenchmarkExtractXZ extracts a 32 MiB source (.tar.xz) through the dictionary-checking
// xz reader and its read window.
func BenchmarkExtractXZ(b *testing.B) {
	body := make([]byte, 32<<20)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range body {
		body[i] = byte('a' + rng.IntN(4)) // compressible, but not trivially
	}
	src, _ := writeSource(b, tarXz(b, file("big", string(body))), "src.tar.xz")
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for range b.N {
		dst := b.TempDir()
		if err := extractArchive(context.Background(), src, dst, DefaultLimits()); err != nil {
			b.Fatal(err)
		}
	}
}
