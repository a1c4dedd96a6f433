package build_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/build"
	"github.com/chainiac/chainiac/release/mar"
)

// Build the unsigned MAR of one target from the reference source tree and list it:
// common, platform and locale files plus the generated platform.ini and
// updatev3.manifest, sorted, with normalised modes.
func ExampleBuildReference() {
	out, _ := os.MkdirTemp("", "reference-")
	defer os.RemoveAll(out)
	p := build.ReferenceParams{Product: "demo-browser", Version: "1.0", Channel: "release",
		SourceDateEpoch: 1730419200, Targets: []release.TargetKey{{Platform: "linux-x86_64", Locale: "en-US"}}}
	paths, err := build.BuildReference(context.Background(), "testdata/reference-src", filepath.Join(out, "out"), p)
	if err != nil {
		panic(err)
	}
	for k, path := range paths {
		f, _ := os.Open(path)
		defer f.Close()
		st, _ := f.Stat()
		a, err := mar.Open(f, st.Size())
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: channel %s, version %s\n", k, a.Channel(), a.Version())
		for _, e := range a.Entries() {
			fmt.Printf("%04o %s\n", e.Mode, e.Name)
		}
	}
	// Output:
	// linux-x86_64/en-US: channel release, version 1.0
	// 0644 README.txt
	// 0644 browser/locale/messages.properties
	// 0644 browser/omni.txt
	// 0644 defaults/pref/channel-prefs.js
	// 0755 demo-browser
	// 0644 platform.ini
	// 0644 updatev3.manifest
}

// A node checks a release: its own rebuild against the manifest, and the signed MAR
// against its rebuild. A signed MAR that is not exactly the rebuild plus a signature
// is refused, with the entry and offset of the first difference.
func ExampleCheckRebuild() {
	work, _ := os.MkdirTemp("", "check-")
	defer os.RemoveAll(work)
	k := release.TargetKey{Platform: "linux-x86_64", Locale: "en-US"}
	p := build.ReferenceParams{Product: "demo-browser", Version: "1.0", Channel: "release",
		SourceDateEpoch: 1730419200, Targets: []release.TargetKey{k}}

	// The release team builds and signs; a node rebuilds the same source.
	team, err := build.BuildReference(context.Background(), "testdata/reference-src", filepath.Join(work, "team"), p)
	if err != nil {
		panic(err)
	}
	signed := map[release.TargetKey]string{k: filepath.Join(work, "signed.mar")}
	signMAR(team[k], signed[k], nil)
	m := &release.Manifest{Product: p.Product, Version: p.Version, Channel: p.Channel,
		SourceDateEpoch: p.SourceDateEpoch, Recipe: build.ReferenceRecipeName,
		GitCommit: release.GitCommit{1}, SourceSHA256: release.Hash256{2},
		Targets: []release.Target{targetOf(k, team[k], signed[k])}}
	rebuilt, err := build.BuildReference(context.Background(), "testdata/reference-src", filepath.Join(work, "node"), p)
	if err != nil {
		panic(err)
	}
	fmt.Println("honest release:", build.CheckRebuild(m, rebuilt, signed))

	// A signed MAR of different content, whose hash the manifest names.
	signMAR(team[k], signed[k], func(a *mar.Archive, b []byte) {
		e, _ := a.Entry("browser/omni.txt")
		b[e.Offset+100] ^= 1
	})
	m.Targets[0] = targetOf(k, team[k], signed[k])
	err = build.CheckRebuild(m, rebuilt, signed)
	var re *build.RebuildError
	if errors.As(err, &re) {
		fmt.Printf("tampered release: %s: %s, entry %s\n", re.Target, re.Check, re.Entry)
	}
	// Output:
	// honest release: <nil>
	// tampered release: linux-x86_64/en-US: stripped equals rebuilt, entry browser/omni.txt
}

// signMAR signs the unsigned MAR at src into dst with the test key, after letting
// tamper change its bytes.
func signMAR(src, dst string, tamper func(*mar.Archive, []byte)) {
	b, _ := os.ReadFile(src)
	a, err := mar.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		panic(err)
	}
	if tamper != nil {
		tamper(a, b)
		if a, err = mar.Open(bytes.NewReader(b), int64(len(b))); err != nil {
			panic(err)
		}
	}
	pem, _ := os.ReadFile("testdata/mar-signing-key.pem")
	key, err := mar.ParsePrivateKeyPEM(pem)
	if err != nil {
		panic(err)
	}
	out, _ := os.Create(dst)
	defer out.Close()
	if err := mar.Sign(out, a, key); err != nil {
		panic(err)
	}
}

// targetOf is the manifest entry the release team writes for its two files.
func targetOf(k release.TargetKey, unsigned, signed string) release.Target {
	u, _ := os.ReadFile(unsigned)
	s, _ := os.ReadFile(signed)
	return release.Target{Platform: k.Platform, Locale: k.Locale,
		UnsignedSHA256: sha256.Sum256(u), UnsignedSize: uint64(len(u)),
		SignedSHA512: sha512.Sum512(s), SignedSize: uint64(len(s)),
		URL: "https://dist.example.org/demo-browser-1.0.mar"}
}
