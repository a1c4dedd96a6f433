package monitor_test

import (
	"crypto/ed25519"
	"net/http"
	"testing"
	"time"

	"github.com/chainiac/chainiac/internal/testrand"
	"github.com/chainiac/chainiac/monitor"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/stretchr/testify/require"
)

func testKey(t testing.TB, name string) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(testrand.New(name))
	require.NoError(t, err)
	return k
}

func TestCheckpointRoundTrip(t *testing.T) {
	c := healthyChain(t)
	k := testKey(t, "monitor A")
	cp := monitor.SignCheckpoint(k, c.Head().Header(), now.Add(500*time.Millisecond))
	enc := cp.Encode()
	require.Len(t, enc, monitor.MaxCheckpointSize)
	got, err := monitor.ParseCheckpoint(enc)
	require.NoError(t, err)
	require.Equal(t, enc, got.Encode())
	require.Equal(t, now, got.Time, "whole seconds")
	require.Equal(t, c.ID(), got.Genesis)
	require.Equal(t, uint64(6), got.Index)

	g := monitor.SignCheckpoint(k, c.Block(0).Header(), now)
	_, err = monitor.ParseCheckpoint(g.Encode())
	require.NoError(t, err, "a checkpoint of the genesis names the genesis as head")
}

// Every byte changed, every truncation and any trailing byte is refused.
func TestCheckpointCorrupted(t *testing.T) {
	c := healthyChain(t)
	enc := monitor.SignCheckpoint(testKey(t, "monitor A"), c.Head().Header(), now).Encode()
	for i := range enc {
		b := append([]byte(nil), enc...)
		b[i] ^= 0x01
		_, err := monitor.ParseCheckpoint(b)
		require.ErrorIs(t, err, monitor.ErrInvalidCheckpoint, "byte %d", i)
	}
	for n := 0; n < len(enc); n++ {
		_, err := monitor.ParseCheckpoint(enc[:n])
		require.ErrorIs(t, err, monitor.ErrInvalidCheckpoint, "length %d", n)
	}
	_, err := monitor.ParseCheckpoint(append(append([]byte(nil), enc...), 0))
	require.ErrorIs(t, err, monitor.ErrInvalidCheckpoint)
	_, err = monitor.ParseCheckpoint(make([]byte, 1<<20))
	require.ErrorIs(t, err, monitor.ErrInvalidCheckpoint)
}

func FuzzParseCheckpoint(f *testing.F) {
	k := testKey(f, "monitor A")
	var g skipchain.ID
	g[0] = 1
	cp := &monitor.Checkpoint{Genesis: g, Index: 0, Head: g, Time: time.Unix(0, 0).UTC(), Key: k.Public().(ed25519.PublicKey)}
	cp.Signature = ed25519.Sign(k, cp.Message())
	f.Add(cp.Encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := monitor.ParseCheckpoint(b)
		if err != nil {
			require.ErrorIs(t, err, monitor.ErrInvalidCheckpoint)
			return
		}
		require.Equal(t, b, c.Encode(), "decode∘encode is the identity")
		require.True(t, ed25519.Verify(c.Key, c.Message(), c.Signature))
	})
}

// Two monitors: one follows the honest chain, the other a fork. Each publishes its
// checkpoint; each one that reads the other's sees the split view.
func TestPeerCheckpoints(t *testing.T) {
	honest := healthyChain(t)
	fork := forkOf(t, 2, 6)

	siteA, siteB := t.TempDir(), t.TempDir()
	peerA := serveHandler(t, http.FileServer(http.Dir(siteA))) + "/checkpoint"
	peerB := serveHandler(t, http.FileServer(http.Dir(siteB))) + "/checkpoint"

	a, err := monitor.New(monitor.Config{Genesis: honest.ID(), Mirrors: []string{serve(t, honest)}, StateDir: t.TempDir(),
		SiteDir: siteA, Clock: func() time.Time { return now }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	require.Equal(t, monitor.Healthy, run(t, a).Status)

	// B follows the fork and reads A's checkpoint.
	b, err := monitor.New(monitor.Config{Genesis: honest.ID(), Mirrors: []string{serve(t, fork)}, StateDir: t.TempDir(),
		SiteDir: siteB, Peers: []monitor.Peer{{URL: peerA, Key: a.PublicKey()}}, Clock: func() time.Time { return now }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	rep := run(t, b)
	require.Equal(t, monitor.Alarmed, rep.Status)
	require.Equal(t, []string{monitor.AlarmPeerConflict}, kindsOf(rep), "%+v", rep.Alarms)
	require.False(t, rep.Peers[0].Agree)

	// A monitor of the honest chain agrees with A.
	c, err := monitor.New(monitor.Config{Genesis: honest.ID(), Mirrors: []string{serve(t, honest)}, StateDir: t.TempDir(),
		Peers: []monitor.Peer{{URL: peerA}}, Clock: func() time.Time { return now }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	rep = run(t, c)
	require.Equal(t, monitor.Healthy, rep.Status, "%+v", rep.Alarms)
	require.True(t, rep.Peers[0].Agree)

	// A peer pinned to another key, or a peer serving garbage, is an alarm.
	d, err := monitor.New(monitor.Config{Genesis: honest.ID(), Mirrors: []string{serve(t, honest)}, StateDir: t.TempDir(),
		Peers: []monitor.Peer{{URL: peerA, Key: b.PublicKey()}, {URL: serveHandler(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("not a checkpoint"))
		}))}}, Clock: func() time.Time { return now }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	rep = run(t, d)
	require.Equal(t, []string{monitor.AlarmPeerInvalid, monitor.AlarmPeerInvalid}, kindsOf(rep))
	_ = peerB
}
