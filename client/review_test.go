package client_test

// Regression tests for the findings of the client's security review: each failed on
// the code as first written.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// override may answer a request instead of the honest chain: ok=false passes it on.
type override func(p api.Path) (body []byte, status int, ok bool)

type proxy struct {
	c        *testchain.Chain
	f        override
	requests atomic.Int64
	links    atomic.Int64
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	path, err := api.ParsePath(r.URL.Path)
	if err == nil && path.Resource == api.ResLink {
		p.links.Add(1)
	}
	if err == nil && p.f != nil {
		if body, status, ok := p.f(path); ok {
			if status != http.StatusOK {
				http.Error(w, "nope", status)
				return
			}
			_, _ = w.Write(body)
			return
		}
	}
	p.c.Handler().ServeHTTP(w, r)
}

// onlyLevel0 hides every forward link above level 0, as a mirror may ("the mirror
// has not got it"), which makes the client walk block by block.
func onlyLevel0(p api.Path) ([]byte, int, bool) {
	if p.Resource == api.ResLink && p.Level > 0 {
		return nil, http.StatusNotFound, true
	}
	return nil, 0, false
}

func realTimestamp(t *testing.T, c *testchain.Chain) *timeline.Timestamp {
	ts, err := c.Timestamp()
	require.NoError(t, err)
	return ts
}

// Finding 1: the hop budget (MaxHops) is shared by all mirrors of one Check, and an
// unsigned timestamp makes an Express client walk forward links before anything is
// verified. Mirror A has no key at all: it serves the real timestamp with a random
// RosterID and hides the higher links. The client spends the whole budget on A, then
// rejects the honest mirror B, which needs a single hop.
func TestLyingMirrorLeavesTheNextItsBudget(t *testing.T) {
	c := testchain.New(t, testchain.Options{})
	c.Releases(t, 1, 3)
	c.ChangeRoster(t, "R2", 4) // block 4
	c.Releases(t, 5, 8)        // head 12
	ts := realTimestamp(t, c)
	forged := *ts
	forged.RosterID = skipchain.ID{0xba, 0xd} // not signed by anyone: never checked before the walk
	a := &proxy{c: c, f: func(p api.Path) ([]byte, int, bool) {
		if p.Resource == api.ResTimestamp {
			return forged.Encode(), http.StatusOK, true
		}
		return onlyLevel0(p)
	}}
	b := &proxy{c: c}
	A, B := serve(t, a), serve(t, b)
	const maxHops = 12

	cl := newClient(t, c, []string{A, B}, func(cfg *client.Config) { cfg.MaxHops = maxHops })
	alone := newClient(t, c, []string{B}, func(cfg *client.Config) { cfg.MaxHops = maxHops })
	u := check(t, alone)
	t.Logf("B alone: head %d with %d hop(s)", u.Head.Index, u.Stats.Hops)

	_, err := cl.Check(context.Background())
	t.Logf("mirror A: %d requests, %d link requests (each verified link a BLS pairing check), for a timestamp nobody signed",
		a.requests.Load(), a.links.Load())
	assert.NoError(t, err, "the honest mirror B, which needs %d hop, is refused because of A's walk", u.Stats.Hops)
}

// Finding 2a: a mirror that answers 404 (here: for the payload of a block the valid
// timestamp names, i.e. it withholds the release) produces an error that is neither
// ErrRejected nor ErrUnreachable nor ErrFrozen.
func TestWithheldPayloadIsRejection(t *testing.T) {
	c := testchain.New(t, testchain.Options{})
	c.Releases(t, 1, 3)
	a := &proxy{c: c, f: func(p api.Path) ([]byte, int, bool) {
		if p.Resource == api.ResPayload {
			return nil, http.StatusNotFound, true
		}
		return nil, 0, false
	}}
	cl := newClient(t, c, []string{serve(t, a)})
	_, err := cl.Check(context.Background())
	require.Error(t, err)
	t.Logf("%v", err)
	assert.True(t, errors.Is(err, client.ErrRejected) || errors.Is(err, client.ErrUnreachable),
		"a mirror withholding the payload of a verified head: neither ErrRejected nor ErrUnreachable")
}

// Finding 2b: one lying mirror and one dead mirror: the error wraps ErrUnreachable
// too, although a mirror answered (the package doc: "ErrUnreachable when no mirror
// answered").
func TestLyingAndDeadMirrorsReadAsAttack(t *testing.T) {
	c := testchain.New(t, testchain.Options{})
	c.Releases(t, 1, 3)
	ts := realTimestamp(t, c)
	forged := *ts
	forged.Head = skipchain.ID{1}
	a := &proxy{c: c, f: func(p api.Path) ([]byte, int, bool) {
		if p.Resource == api.ResTimestamp {
			return forged.Encode(), http.StatusOK, true
		}
		return nil, 0, false
	}}
	cl := newClient(t, c, []string{serve(t, a), "http://127.0.0.1:1"})
	_, err := cl.Check(context.Background())
	require.ErrorIs(t, err, client.ErrRejected)
	assert.False(t, errors.Is(err, client.ErrUnreachable), "an attack also reads as 'no mirror reachable': %v", err)
}

// forgedNext makes a block at c's head index (a sibling of the real head), valid for
// the skipchain rules, with payload bytes of our choice.
func forgedSibling(t *testing.T, c *testchain.Chain, payload []byte) *skipchain.Block {
	head := c.Head()
	g := c.Block(0).Header()
	var back []*skipchain.Header
	for _, pos := range g.Params().LinksInto(head.Index()) {
		back = append(back, c.Block(pos.From).Header())
	}
	b, err := skipchain.NewBlock(g, back, head.Roster(), timeline.KindRelease, payload)
	require.NoError(t, err)
	require.NotEqual(t, head.ID(), b.ID())
	return b
}

// Finding 3: two timestamps validly signed by the same roster for the same index and
// different blocks, seen in one Check from two mirrors, are not kept as evidence: the
// client verifies A's (a fork), fails on A for a 404, and silently accepts B's.
func TestTimestampForkAcrossMirrorsIsEvidence(t *testing.T) {
	c := testchain.New(t, testchain.Options{})
	c.Releases(t, 1, 5)
	fork := forgedSibling(t, c, []byte("fork"))
	signed, err := testchain.StampWith(c.Signers(c.Head().Index()), fork.Header(), time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC))
	require.NoError(t, err)
	a := &proxy{c: c, f: func(p api.Path) ([]byte, int, bool) {
		switch p.Resource {
		case api.ResTimestamp:
			return signed.Encode(), http.StatusOK, true
		case api.ResHeader:
			return nil, http.StatusServiceUnavailable, true
		}
		return nil, 0, false
	}}
	cl := newClient(t, c, []string{serve(t, a), serve(t, c.Handler())})
	_, err = cl.Check(context.Background())
	require.ErrorIs(t, err, client.ErrEvidence, "the roster signed two heads at index %d", c.Head().Index())
	evs, err := cl.Evidence()
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, "timestamp-fork", evs[0].Kind)
	assert.Len(t, evs[0].Statements, 2)
}

// Finding 4: Download drops the per-request timeout; with a context without deadline
// a download server that drips its answer holds Download forever.
func TestDownloadGivesUpOnADrip(t *testing.T) {
	c := testchain.New(t, testchain.Options{})
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1400")
		w.WriteHeader(http.StatusOK)
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
				_, _ = w.Write([]byte{0})
				w.(http.Flusher).Flush()
			}
		}
	}))
	defer srv.Close()
	defer close(stop)
	cl := newClient(t, c, []string{srv.URL}, func(cfg *client.Config) { cfg.RequestTimeout = 500 * time.Millisecond })
	m := testchain.Manifest("1.0", "release")
	target := client.Target{Target: m.Targets[0], Product: m.Product, Channel: m.Channel, Version: m.Version}
	target.URL = srv.URL + "/x.mar"
	target.SignedSize = 1 << 20
	dir := t.TempDir()
	done := make(chan error, 1)
	go func() { _, err := cl.Download(context.Background(), target, dir); done <- err }()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
		entries, _ := os.ReadDir(dir)
		assert.Empty(t, names(entries), "the temporary file is removed")
	case <-time.After(3 * time.Second):
		entries, _ := os.ReadDir(dir)
		t.Errorf("Download still running after 6x RequestTimeout; in %s: %v", dir, names(entries))
	}
}

func names(es []os.DirEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// rawHeader encodes a header of chain genesis by hand, with parameters that are not
// the genesis's (the client never compares them).
func rawHeader(genesis, roster skipchain.ID, p skipchain.Params, index uint64) *skipchain.Header {
	height := p.Height(index)
	e := wire.NewEncoder("chainiac/v1/block").Uint16(1).Uint64(index).Uint32(height).Uint32(p.MaxHeight).Uint32(p.Base).Count(int(height))
	for i := 0; i < int(height); i++ {
		id := skipchain.ID{byte(i), 0x77}
		e.Fixed(id[:])
	}
	ph := skipchain.ID{}
	e.Fixed(genesis[:]).Fixed(roster[:]).Uint64(0).String(timeline.KindRelease).Fixed(ph[:])
	h, err := skipchain.ParseHeader(e.Out())
	if err != nil {
		panic(err)
	}
	return h
}

// Finding 5: a header signed for by the roster (a threshold, e.g. retired keys) with
// other skipchain parameters than the genesis makes Check panic (Params.Span) instead
// of rejecting.
func TestHeaderWithForeignParametersRefused(t *testing.T) {
	c := testchain.New(t, testchain.Options{})
	c.Releases(t, 1, 2)
	h := rawHeader(c.ID(), c.Block(0).Roster().ID(), skipchain.Params{Base: 2, MaxHeight: 64}, 1<<33)
	ts, err := testchain.StampWith(c.Signers(0), h, time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC))
	require.NoError(t, err)
	a := &proxy{c: c, f: func(p api.Path) ([]byte, int, bool) {
		switch {
		case p.Resource == api.ResTimestamp:
			return ts.Encode(), http.StatusOK, true
		case p.Resource == api.ResHeader && p.Index == h.Index():
			return h.Encode(), http.StatusOK, true
		}
		return nil, 0, false
	}}
	cl := newClient(t, c, []string{serve(t, a)}, func(cfg *client.Config) { cfg.VerifyAncestry = true })
	assert.NotPanics(t, func() { _, _ = cl.Check(context.Background()) })
}

// Finding 6: a release on another channel shadows every earlier release: Check
// succeeds, UpdateXML says "no update" to a release-channel browser at 0.9 although
// 1.0 on its channel is verified on the chain.
func TestChannelFollowsItsNewestRelease(t *testing.T) {
	c := testchain.New(t, testchain.Options{})
	c.Release(t, "1.0")                                               // channel release
	c.Append(t, c.Sign(t, testchain.Manifest("1.1a1", "alpha")), nil) // channel alpha
	cl := newClient(t, c, []string{serve(t, c.Handler())}, func(cfg *client.Config) { cfg.Channel = "release" })
	u := check(t, cl)
	require.Equal(t, "1.0", u.Release.Manifest.Version, "the newest release on the client's channel")
	xml := string(client.UpdateXML(u, "release", "linux-x86_64", "en-US", "0.9"))
	t.Logf("newest release: %s on %s; update.xml: %s", u.Release.Manifest.Version, u.Release.Manifest.Channel, strings.TrimSpace(xml))
	assert.Contains(t, xml, "<update ", "release channel is told there is nothing newer than 0.9")
}

// Finding 7: VerifyBundle accepts a timestamp of another chain signed by the same
// roster (a cothority that runs several chains), and reports its time as this
// chain's freshness.
func TestBundleTimestampOfAnotherChainRefused(t *testing.T) {
	f := newMARFixture(t)
	c := f.chain
	r := f.make(t, "1.0")
	c.Append(t, r.Signed, nil) // release at block 1
	cl := newClient(t, c, []string{serve(t, c.Handler())})
	check(t, cl)
	b, err := cl.Bundle(context.Background())
	require.NoError(t, err)

	other := testchain.New(t, testchain.Options{Roster: "R1"}) // another product, the same roster keys
	require.Equal(t, c.Block(0).Roster().ID(), other.Block(0).Roster().ID())
	other.Releases(t, 1, 3)
	later := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	other.SetNow(later)
	b.Timestamp = realTimestamp(t, other)
	require.NotEqual(t, c.ID(), b.Timestamp.Genesis)

	var target release.TargetKey
	for k := range r.SignedMARs {
		target = k
		break
	}
	m := r.SignedMARs[target]
	path := filepath.Join(t.TempDir(), "x.mar")
	require.NoError(t, os.WriteFile(path, m, 0o644))
	bp := filepath.Join(t.TempDir(), "b")
	require.NoError(t, os.WriteFile(bp, b.Encode(), 0o644))
	rep, err := client.VerifyBundleFile(c.ID(), bp, path, nil)
	if err == nil {
		t.Errorf("bundle of chain %s accepted with a timestamp of chain %s; report says the chain was alive at %s",
			c.ID().Short(), other.ID().Short(), rep.Timestamp)
	}
}

// Finding 1 at the default MaxHops (4096): the lying mirror used to take 8183
// requests and the honest one was then refused.
func TestLyingMirrorLeavesTheNextItsBudgetAtDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a chain of 4101 blocks")
	}
	c := testchain.New(t, testchain.Options{})
	c.ChangeRoster(t, "R2", 4) // block 1
	c.Releases(t, 2, 4100)     // head 4101
	ts := realTimestamp(t, c)
	forged := *ts
	forged.RosterID = skipchain.ID{0xba, 0xd}
	a := &proxy{c: c, f: func(p api.Path) ([]byte, int, bool) {
		if p.Resource == api.ResTimestamp {
			return forged.Encode(), http.StatusOK, true
		}
		return onlyLevel0(p)
	}}
	A, B := serve(t, a), serve(t, c.Handler())
	cl := newClient(t, c, []string{A, B})
	began := time.Now()
	_, err := cl.Check(context.Background())
	t.Logf("%s; mirror A: %d requests", time.Since(began), a.requests.Load())
	assert.NoError(t, err)
}
