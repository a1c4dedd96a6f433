package release

import (
	"fmt"
	"testing"
)

// benchManifest has n targets, like a multi-locale release.
func benchManifest(n int) *Manifest {
	m := testManifest()
	m.Targets = nil
	for i := range n {
		m.Targets = append(m.Targets, Target{
			Platform: "linux-x86_64", Locale: fmt.Sprintf("l%03d", i),
			UnsignedSHA256: fill256(byte(i) | 1), UnsignedSize: 90_000_000,
			SignedSHA512: fill512(byte(i) | 1), SignedSize: 90_000_264,
			URL: fmt.Sprintf("https://cdn.example.org/tor-browser/14.0.1/linux-x86_64-l%03d.mar", i),
		})
	}
	return m
}

func BenchmarkParseManifest(b *testing.B) {
	for _, n := range []int{1, 100, MaxTargets} {
		enc := benchManifest(n).Encode()
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				if _, err := ParseManifest(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifyManifest(b *testing.B) {
	for _, c := range []struct{ keys, threshold int }{{3, 2}, {9, 5}} {
		devs := testSigners(b, c.keys)
		policy, err := NewPolicy(publicKeys(devs), c.threshold)
		if err != nil {
			b.Fatal(err)
		}
		sm, err := NewSignedManifest(benchManifest(10))
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range devs[:c.threshold] {
			if err := d.SignManifest(sm); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("%d-of-%d", c.threshold, c.keys), func(b *testing.B) {
			for b.Loop() {
				if _, err := policy.VerifyManifest(sm); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNewPolicy measures the prime-order check of every admitted key.
func BenchmarkNewPolicy(b *testing.B) {
	keys := publicKeys(testSigners(b, 9))
	for b.Loop() {
		if _, err := NewPolicy(keys, 5); err != nil {
			b.Fatal(err)
		}
	}
}
