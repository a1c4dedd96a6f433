package client_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"os"
	"path/filepath"
	"testing"

	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/sample"
	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/mar"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// marFixture is a chain of the sample product whose releases carry real MARs, served
// by a download server.
type marFixture struct {
	chain  *testchain.Chain
	files  *sample.Server
	marKey *rsa.PrivateKey
	work   string
}

func newMARFixture(t *testing.T) *marFixture {
	t.Helper()
	pem, err := os.ReadFile("../release/build/testdata/mar-signing-key.pem")
	require.NoError(t, err)
	key, err := mar.ParsePrivateKeyPEM(pem)
	require.NoError(t, err)
	files, err := sample.NewServer()
	require.NoError(t, err)
	t.Cleanup(func() { _ = files.Close() })
	return &marFixture{chain: testchain.New(t, testchain.Options{Product: sample.Product}), files: files,
		marKey: key, work: t.TempDir()}
}

// make builds a sample release and publishes its files, without appending it.
func (f *marFixture) make(t *testing.T, version string) *sample.Release {
	t.Helper()
	r, err := sample.Make(context.Background(), sample.Options{Version: version, Channel: "release",
		BaseURL: f.files.URL(), MARKey: f.marKey, Developers: f.chain.Devs()[:2], WorkDir: f.work})
	require.NoError(t, err)
	f.files.Publish(r.Files)
	return r
}

// noHiddenFiles checks that a download left no temporary file behind.
func noHiddenFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotEqual(t, byte('.'), e.Name()[0], "left behind: %s", e.Name())
	}
}

func TestDownloadVerifiedMAR(t *testing.T) {
	f := newMARFixture(t)
	r := f.make(t, "1.0")
	f.chain.Append(t, r.Signed, nil)
	cl := newClient(t, f.chain, []string{serve(t, f.chain.Handler())}, func(c *client.Config) {
		c.MARKeys = []*rsa.PublicKey{&f.marKey.PublicKey}
	})
	u := check(t, cl)
	require.Len(t, u.Targets(), len(sample.Targets()))
	dir := t.TempDir()
	for _, target := range u.Targets() {
		path, err := cl.Download(context.Background(), target, dir)
		require.NoError(t, err)
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, r.SignedMARs[target.Key()], got)
		assert.Equal(t, "demo-browser-1.0-release-"+target.Platform+"-"+target.Locale+".mar", filepath.Base(path))
	}
	noHiddenFiles(t, dir)
}

// TestDownloadRejects serves a MAR that differs from what the verified manifest says
// and checks that nothing is left in the download directory.
func TestDownloadRejects(t *testing.T) {
	f := newMARFixture(t)
	good := f.make(t, "1.0")
	key := sample.Targets()[0]
	target, _ := good.Manifest.Target(key)
	urlPath := target.URL[len(f.files.URL()):]
	signed := good.SignedMARs[key]

	unsigned := stripped(t, signed)
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	// A release whose manifest claims version 1.1 for the MARs built as 1.0.
	relabelled := *good.Manifest
	relabelled.Version = "1.1"

	cases := []struct {
		name string
		// serve replaces the MAR's bytes; manifest replaces the release's manifest.
		serve    []byte
		manifest *release.Manifest
		keys     []*rsa.PublicKey
		want     string
	}{
		{name: "flipped byte", serve: flip(signed, len(signed)/2), want: "SHA-512 differs"},
		{name: "truncated", serve: signed[:len(signed)-1], want: "the manifest says"},
		{name: "one byte more", serve: append(bytes.Clone(signed), 0), want: "the manifest says"},
		{name: "unsigned MAR served", serve: unsigned, want: "the manifest says"},
		{name: "not the unsigned MAR plus a signature", want: "not the unsigned MAR the cothority rebuilt",
			manifest: withSignedMAR(good.Manifest, key, resign(t, flip(unsigned, len(unsigned)-10), f.marKey))},
		{name: "version inside the MAR differs", manifest: &relabelled, want: `version "1.0"`},
		{name: "MAR signed by another key", keys: []*rsa.PublicKey{&otherKey.PublicKey}, want: "signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch := testchain.New(t, testchain.Options{Product: sample.Product})
			m := good.Manifest
			if c.manifest != nil {
				m = c.manifest
			}
			ch.Append(t, ch.Sign(t, m), nil)
			body := signed
			if c.serve != nil {
				body = c.serve
			}
			files, err := sample.NewServer()
			require.NoError(t, err)
			t.Cleanup(func() { _ = files.Close() })
			cl := newClient(t, ch, []string{serve(t, ch.Handler())}, func(cfg *client.Config) { cfg.MARKeys = c.keys })
			u := check(t, cl)
			tg, ok := u.Target(key.Platform, key.Locale)
			require.True(t, ok)
			tg.URL = files.URL() + urlPath
			if c.manifest != nil && c.serve == nil {
				// serve the MAR whose hash the manifest names
				body = servedFor(t, c.manifest, key, good, signed)
			}
			files.Publish(map[string][]byte{urlPath: body})
			dir := t.TempDir()
			_, err = cl.Download(context.Background(), tg, dir)
			require.ErrorIs(t, err, client.ErrRejected)
			assert.Contains(t, err.Error(), c.want)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Empty(t, entries, "nothing unverified stays on disk")
		})
	}
}

// servedFor is the MAR a case serves: the one the altered manifest's hash names.
func servedFor(t *testing.T, m *release.Manifest, key release.TargetKey, good *sample.Release, signed []byte) []byte {
	tg, _ := m.Target(key)
	if body, ok := resigned[tg.SignedSHA512]; ok {
		return body
	}
	return signed
}

// resigned maps a re-signed MAR's hash to its bytes.
var resigned = map[release.Hash512][]byte{}

func withSignedMAR(m *release.Manifest, key release.TargetKey, signedMAR []byte) *release.Manifest {
	out := *m
	out.Targets = append([]release.Target(nil), m.Targets...)
	for i := range out.Targets {
		if out.Targets[i].Key() == key {
			out.Targets[i].SignedSHA512 = sha512.Sum512(signedMAR)
			out.Targets[i].SignedSize = uint64(len(signedMAR))
		}
	}
	resigned[sha512.Sum512(signedMAR)] = signedMAR
	return &out
}

func stripped(t *testing.T, signed []byte) []byte {
	a, err := mar.Open(bytes.NewReader(signed), int64(len(signed)))
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, mar.Strip(&out, a))
	return out.Bytes()
}

func resign(t *testing.T, unsigned []byte, key *rsa.PrivateKey) []byte {
	a, err := mar.Open(bytes.NewReader(unsigned), int64(len(unsigned)))
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, mar.Sign(&out, a, key))
	return out.Bytes()
}
