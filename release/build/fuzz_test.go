package build

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha512"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/mar"
)

// FuzzExtractArchive feeds arbitrary bytes to the archive extractor: it must return
// an error or succeed, never panic, and never create anything outside its
// destination.
func FuzzExtractArchive(f *testing.F) {
	f.Add(tarGz(f, dir("src/"), script("src/build.sh", "true"), symlink("src/l", "build.sh")))
	f.Add(tarXz(f, file("a", "x"), symlink("b", "a")))
	f.Add(tarGz(f, file("../evil", "x")))
	f.Add(tarGz(f, symlink("l", "."), file("l/x", "y")))
	f.Add(tarGz(f, tarEntry{name: "h", typeflag: tar.TypeLink, linkname: "a"}))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		archive := filepath.Join(parent, "archive")
		if err := os.WriteFile(archive, data, 0o600); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(parent, "dst")
		if err := os.Mkdir(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		limits := Limits{MaxSourceBytes: 1 << 20, MaxExtractedBytes: 1 << 20, MaxFiles: 100, MaxXZDict: 8 << 20}
		if err := extractArchive(context.Background(), archive, dst, limits); err == nil {
			_ = checkSymlinks(dst)
		}
		entries, err := os.ReadDir(parent)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 {
			t.Fatalf("extraction wrote outside its destination: %v", entries)
		}
	})
}

// FuzzCheckRebuild gives CheckRebuild's target check an arbitrary signed MAR whose
// hash and size the manifest names: it must never panic, and whenever it accepts,
// the bytes must really be a signed MAR that strips to the rebuilt one, as checked
// here independently with mar.Strip.
func FuzzCheckRebuild(f *testing.F) {
	p := referenceParams()
	p.Targets = []release.TargetKey{{Platform: "linux-x86_64", Locale: "de"}}
	rebuilt := buildReferenceCopy(f, p)
	signedPaths := signAll(f, rebuilt)
	m := manifestOf(f, p, rebuilt, signedPaths)
	unsigned, err := os.ReadFile(rebuilt[p.Targets[0]])
	if err != nil {
		f.Fatal(err)
	}
	signed, err := os.ReadFile(signedPaths[p.Targets[0]])
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Add(unsigned)
	f.Add(signed[:len(signed)-1])
	f.Add([]byte("MAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		mt := *m
		mt.Targets = []release.Target{m.Targets[0]}
		mt.Targets[0].SignedSHA512, mt.Targets[0].SignedSize = sha512.Sum512(data), uint64(len(data))
		err := checkTarget(&mt, mt.Targets[0], bytes.NewReader(unsigned), int64(len(unsigned)), bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, ErrRebuildMismatch) && len(data) > 0 {
				t.Fatalf("not a mismatch: %v", err)
			}
			return
		}
		a, err := mar.Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("accepted a malformed MAR: %v", err)
		}
		if len(a.Signatures()) == 0 {
			t.Fatal("accepted an unsigned MAR")
		}
		var stripped bytes.Buffer
		if err := mar.Strip(&stripped, a); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(stripped.Bytes(), unsigned) {
			t.Fatal("accepted a MAR that does not strip to the rebuilt one")
		}
	})
}

// FuzzParseReferenceDescription: the build description parser never panics, and what
// it accepts satisfies its rules.
func FuzzParseReferenceDescription(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(referenceSource, ReferenceDescriptionFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("format = \"chainiac-reference/v1\"\nproduct = \"x\"\nplatforms = [\"a\"]\nlocales = [\"a\", \"a\"]\n"))
	f.Add([]byte("format = 1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseReferenceDescription(data)
		if err != nil {
			return
		}
		if d.Format != ReferenceFormat || len(d.Platforms) == 0 || len(d.Locales) == 0 {
			t.Fatalf("accepted %+v", d)
		}
		for _, pl := range d.Platforms {
			for _, l := range d.Locales {
				k := release.TargetKey{Platform: pl, Locale: l}
				if err := k.Validate(); err != nil {
					t.Fatalf("accepted invalid target %s: %v", k, err)
				}
				if err := d.supports(k); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// FuzzParseTargets: accepted lists are valid, distinct keys that print and parse back
// to themselves.
func FuzzParseTargets(f *testing.F) {
	f.Add("linux-x86_64/en-US windows-x86_64/de")
	f.Add("a/b,c/d")
	f.Add("a/b a/b")
	f.Add("/")
	f.Fuzz(func(t *testing.T, s string) {
		keys, err := ParseTargets(s)
		if err != nil {
			return
		}
		parts := make([]string, len(keys))
		for i, k := range keys {
			if err := k.Validate(); err != nil {
				t.Fatalf("accepted invalid %s: %v", k, err)
			}
			parts[i] = k.String()
		}
		again, err := ParseTargets(strings.Join(parts, " "))
		if err != nil || !slices.Equal(again, keys) {
			t.Fatalf("round trip of %q: %v, %v", s, again, err)
		}
	})
}
