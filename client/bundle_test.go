package client_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"testing"

	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/sample"
	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBundleVerifiesOffline(t *testing.T) {
	f := newMARFixture(t)
	c := f.chain
	c.Append(t, f.make(t, "1.0").Signed, nil)
	c.ChangeRoster(t, "R2", 5)
	newDevs := testchain.Developers(t, 4)[1:] // keeps developers 1 and 2, adds 3
	c.ChangePolicy(t, newDevs, 2)
	r := f.make(t, "2.0") // signed by developers 1 and 2, valid under both policies
	c.Append(t, r.Signed, nil)
	mirror := serve(t, c.Handler())
	cl := newClient(t, c, []string{mirror})
	check(t, cl)

	b, err := cl.Bundle(context.Background())
	require.NoError(t, err)
	assert.Len(t, b.Segments, 2, "genesis → policy change → release")
	enc := b.Encode()

	keys := []*rsa.PublicKey{&f.marKey.PublicKey}
	key := sample.Targets()[1]
	mar := r.SignedMARs[key]
	rep, err := client.VerifyBundle(c.ID(), enc, bytes.NewReader(mar), int64(len(mar)), keys)
	require.NoError(t, err)
	assert.Equal(t, "2.0", rep.Release.Manifest.Version)
	assert.Equal(t, key, rep.Target.Key())
	assert.False(t, rep.Timestamp.IsZero())

	bad := bytes.Clone(mar)
	bad[len(bad)/2] ^= 1
	_, err = client.VerifyBundle(c.ID(), enc, bytes.NewReader(bad), int64(len(bad)), keys)
	require.ErrorIs(t, err, client.ErrRejected)

	other := testchain.New(t, testchain.Options{Product: sample.Product, Roster: "other"})
	_, err = client.VerifyBundle(other.ID(), enc, bytes.NewReader(mar), int64(len(mar)), keys)
	require.ErrorIs(t, err, client.ErrRejected)

	for i := 0; i < len(enc); i += 1 + len(enc)/200 {
		_, err := client.VerifyBundle(c.ID(), enc[:i], bytes.NewReader(mar), int64(len(mar)), keys)
		require.Error(t, err, "truncated at %d", i)
		flipped := bytes.Clone(enc)
		flipped[i] ^= 0x20
		_, err = client.VerifyBundle(c.ID(), flipped, bytes.NewReader(mar), int64(len(mar)), keys)
		require.Error(t, err, "flipped byte %d accepted: every byte is signed or hashed", i)
	}
}

func FuzzParseBundle(f *testing.F) {
	c := testchain.New(f, testchain.Options{})
	c.Releases(f, 1, 3)
	cl := newClient(f, c, []string{serve(f, c.Handler())})
	check(f, cl)
	b, err := cl.Bundle(context.Background())
	require.NoError(f, err)
	f.Add(b.Encode())
	f.Add([]byte("chainiac/v1/bundle"))
	f.Fuzz(func(t *testing.T, b []byte) {
		bundle, err := client.ParseBundle(b)
		if err != nil {
			return
		}
		if !bytes.Equal(bundle.Encode(), b) {
			t.Fatalf("bundle decodes but encodes differently")
		}
	})
}
