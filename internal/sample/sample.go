package sample

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/build"
	"github.com/chainiac/chainiac/release/mar"
)

// Product is the sample product's name; Platforms and Locales its targets.
const Product = "demo-browser"

var (
	Platforms = []string{"linux-x86_64", "windows-x86_64"}
	Locales   = []string{"en-US"}
)

// SourceDateEpoch is the fixed build time of every sample release.
const SourceDateEpoch = 1764547200 // 2025-12-01

// Options describe one release.
type Options struct {
	Version, Channel string
	// BaseURL is where Server publishes the files (the manifest's MAR URLs point there).
	BaseURL string
	// MARKey signs the MARs (algorithm 2); Developers sign the manifest.
	MARKey     *rsa.PrivateKey
	Developers []*release.Signer
	// WorkDir receives the source tree and the build outputs.
	WorkDir string
	// Tamper ships, for the first target, a signed MAR built from a source the
	// manifest does not name: every honest node's rebuild must refuse it.
	Tamper bool
}

// Release is what the release team publishes for one version.
type Release struct {
	Manifest *release.Manifest
	Signed   *release.SignedManifest
	// SourceURL is the archive's URL; Files maps each published URL path to its bytes
	// (the source archive and the signed MARs).
	SourceURL string
	Files     map[string][]byte
	// SignedMARs maps each target to its signed MAR's bytes.
	SignedMARs map[release.TargetKey][]byte
}

// Targets are the sample product's targets in canonical order.
func Targets() []release.TargetKey {
	var out []release.TargetKey
	for _, p := range Platforms {
		for _, l := range Locales {
			out = append(out, release.TargetKey{Platform: p, Locale: l})
		}
	}
	return out
}

// Make builds and signs a release of the sample product.
func Make(ctx context.Context, o Options) (*Release, error) {
	srcDir := filepath.Join(o.WorkDir, "src-"+o.Version)
	if err := WriteSource(srcDir, o.Version, ""); err != nil {
		return nil, err
	}
	archive, err := Archive(srcDir, Product+"-"+o.Version)
	if err != nil {
		return nil, err
	}
	params := build.ReferenceParams{
		Product: Product, Version: o.Version, Channel: o.Channel,
		SourceDateEpoch: SourceDateEpoch, Targets: Targets(),
	}
	unsigned, err := build.BuildReference(ctx, srcDir, filepath.Join(o.WorkDir, "out-"+o.Version), params)
	if err != nil {
		return nil, err
	}
	if o.Tamper {
		// The same version built from a source with one more file: what a compromised
		// build machine would ship.
		evilDir := filepath.Join(o.WorkDir, "src-"+o.Version+"-tampered")
		if err := WriteSource(evilDir, o.Version, "backdoor"); err != nil {
			return nil, err
		}
		evil, err := build.BuildReference(ctx, evilDir, filepath.Join(o.WorkDir, "out-"+o.Version+"-tampered"), params)
		if err != nil {
			return nil, err
		}
		k := Targets()[0]
		unsigned[k] = evil[k]
	}
	base := strings.TrimSuffix(o.BaseURL, "/")
	dir := "/releases/" + o.Version + "/"
	r := &Release{
		SourceURL:  base + dir + Product + "-" + o.Version + ".tar.gz",
		Files:      map[string][]byte{dir + Product + "-" + o.Version + ".tar.gz": archive},
		SignedMARs: map[release.TargetKey][]byte{},
	}
	m := &release.Manifest{
		Product: Product, Version: o.Version, Channel: o.Channel, SourceDateEpoch: SourceDateEpoch,
		Recipe: "reference/v2", GitCommit: sha1.Sum([]byte("demo-browser " + o.Version)), SourceSHA256: sha256.Sum256(archive),
	}
	for _, k := range Targets() {
		raw, err := os.ReadFile(unsigned[k])
		if err != nil {
			return nil, err
		}
		signed, err := signMAR(raw, o.MARKey)
		if err != nil {
			return nil, fmt.Errorf("sample: sign %s: %w", k, err)
		}
		path := dir + k.Platform + "/" + k.Locale + ".mar"
		r.Files[path] = signed
		r.SignedMARs[k] = signed
		m.Targets = append(m.Targets, release.Target{
			Platform: k.Platform, Locale: k.Locale,
			UnsignedSHA256: sha256.Sum256(raw), UnsignedSize: uint64(len(raw)),
			SignedSHA512: sha512.Sum512(signed), SignedSize: uint64(len(signed)),
			URL: base + path,
		})
	}
	sm, err := release.NewSignedManifest(m)
	if err != nil {
		return nil, err
	}
	for _, d := range o.Developers {
		if err := d.SignManifest(sm); err != nil {
			return nil, err
		}
	}
	r.Manifest, r.Signed = m, sm
	return r, nil
}

func signMAR(raw []byte, key *rsa.PrivateKey) ([]byte, error) {
	a, err := mar.Open(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := mar.Sign(&out, a, key); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// WriteSource writes the sample product's source tree for version into dir; extra,
// if not empty, adds a file of that name to every target.
func WriteSource(dir, version, extra string) error {
	files := map[string]string{
		"chainiac-build.toml": fmt.Sprintf("format = \"chainiac-reference/v1\"\nproduct = %q\nplatforms = [%s]\nlocales = [%s]\n",
			Product, quoteList(Platforms), quoteList(Locales)),
		"common/README.txt":                               "demo-browser " + version + ": a sample product for chainiac.\n",
		"common/browser/omni.txt":                         strings.Repeat("demo-browser "+version+" resources\n", 64),
		"common/defaults/pref/channel-prefs.js":           "pref(\"app.update.channel\", \"release\");\n",
		"platform/linux-x86_64/demo-browser":              "#!/bin/sh\necho demo-browser " + version + "\n",
		"platform/windows-x86_64/demo-browser.exe":        "MZ demo-browser " + version + "\n",
		"locale/en-US/browser/locale/messages.properties": "welcome=Welcome to demo-browser " + version + "\n",
	}
	if extra != "" {
		files["common/"+extra] = "this file is not in the published source\n"
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if name == "platform/linux-x86_64/demo-browser" {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			return err
		}
	}
	return nil
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

// Archive packs dir as a .tar.gz under one top-level directory named top, with
// fixed times and owners and entries in bytewise order, so it is the same bytes on
// every machine.
func Archive(dir, top string) ([]byte, error) {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	for _, name := range names {
		p := filepath.Join(dir, filepath.FromSlash(name))
		content, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		mode := int64(0o644)
		if st.Mode()&0o111 != 0 {
			mode = 0o755
		}
		hdr := &tar.Header{Name: top + "/" + name, Mode: mode, Size: int64(len(content)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(content); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
