package sample

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/internal/testrand"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/mar"
)

func TestMakePublishesWhatTheManifestNames(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	dev, err := release.GenerateDeveloperKey(testrand.New("sample developer"))
	require.NoError(t, err)
	srv, err := NewServer()
	require.NoError(t, err)
	defer srv.Close()
	opts := Options{Version: "1.0", Channel: "release", BaseURL: srv.URL(), MARKey: key,
		Developers: []*release.Signer{dev}, WorkDir: t.TempDir()}
	r, err := Make(context.Background(), opts)
	require.NoError(t, err)
	srv.Publish(r.Files)

	policy, err := release.NewPolicy([]release.DeveloperKey{dev.Public()}, 1)
	require.NoError(t, err)
	m, err := policy.VerifyManifest(r.Signed)
	require.NoError(t, err)
	require.Equal(t, sha256.Sum256(get(t, r.SourceURL)), [32]byte(m.SourceSHA256))
	for _, tg := range m.Targets {
		b := get(t, tg.URL)
		require.Equal(t, sha512.Sum512(b), [64]byte(tg.SignedSHA512))
		a, err := mar.Open(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err)
		require.NoError(t, mar.Verify(a, &key.PublicKey))
	}

	// The same version made again gives the same bytes; a tampered one differs.
	opts.WorkDir = t.TempDir()
	again, err := Make(context.Background(), opts)
	require.NoError(t, err)
	require.Equal(t, r.Manifest.Encode(), again.Manifest.Encode())
	opts.WorkDir, opts.Tamper = t.TempDir(), true
	bad, err := Make(context.Background(), opts)
	require.NoError(t, err)
	require.Equal(t, r.Manifest.SourceSHA256, bad.Manifest.SourceSHA256, "same published source")
	require.NotEqual(t, r.Manifest.Targets[0].UnsignedSHA256, bad.Manifest.Targets[0].UnsignedSHA256)
	require.Equal(t, r.Manifest.Targets[1], bad.Manifest.Targets[1])
}

func get(t *testing.T, url string) []byte {
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}
