package node

// Regression tests from an independent security review: each TestReview* test
// failed on the code it was written against and names the finding it reproduces.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/internal/sample"
	"github.com/chainiac/chainiac/internal/testrand"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// hangingServer answers nothing until released (or the test ends); it reports each
// request it receives.
func hangingServer(t *testing.T) (url string, got <-chan struct{}) {
	release := make(chan struct{})
	hit := make(chan struct{}, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case hit <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) }) // runs before srv.Close
	return srv.URL, hit
}

// silentMembers returns roster entries of n keys whose addresses accept TCP
// connections and never answer.
func silentMembers(t *testing.T, n int) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		var conns []net.Conn
		var mu sync.Mutex
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
		t.Cleanup(func() {
			l.Close()
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
		})
		_, entry, err := Setup(SetupOptions{Address: l.Addr().String(), HTTP: "127.0.0.1:0",
			Dir: filepath.Join(t.TempDir(), fmt.Sprintf("silent%d", i))},
			testrand.New(fmt.Sprintf("silent key %d %s", i, t.Name())))
		require.NoError(t, err)
		out = append(out, entry)
	}
	return out
}

func rosterOfEntries(t *testing.T, entries ...[]byte) *skipchain.Roster {
	r, err := skipchain.ParseRosterTOML(bytes.Join(entries, nil))
	require.NoError(t, err)
	return r
}

// FINDING 1 (high, DoS by any onet peer): a timestamp round's check takes the chain's
// lock and then catches up from the round's catch-up URL *before* checking anything
// about who asks (the roster, the block). Any server that can reach a node's onet
// port (UnauthOk) can start a round naming a chain the node keeps, an index above its
// head and a catch-up URL that never answers: the node then holds c.mu for the whole
// check budget (0.9 × a budget the attacker chooses, up to 10 minutes), repeatedly.
// Meanwhile proposals and honest rounds for the chain fail ("waiting for the
// chain"), and the timestamp loop blocks in c.mu.Lock() (renewTimestamp), freezing
// every chain's timestamps and making Close wait.
func TestReviewUntrustedCatchUpHoldsChainLock(t *testing.T) {
	c := newCluster(t, 4)
	attacker := c.addNode(func(cfg *Config) { cfg.RoundTimeout.Duration = 60 * time.Second })
	g := c.createChain(0, 0, 1, 2, 3)
	url, hit := hangingServer(t)

	ts := &timeline.Timestamp{Genesis: g.ID(), Index: 1, Head: g.ID(), RosterID: g.Header().RosterID(),
		Time: time.Unix(time.Now().Unix(), 0).UTC()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		c.nodes[attacker].round(ctx, c.roster(attacker, 0), "attack", ts.Message(), &roundData{CatchUp: url}, 0)
	}()
	select {
	case <-hit:
	case <-time.After(20 * time.Second):
		t.Fatal("the victim never fetched from the attacker's catch-up URL")
	}
	time.Sleep(200 * time.Millisecond)
	ch := c.nodes[0].chainOf(g.ID())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	err := ch.lock(ctx)
	cancel()
	if err == nil {
		ch.mu.Unlock()
	}
	assert.NoError(t, err, "FINDING 1: a round from a non-member holds the victim's chain lock while it waits on the attacker's URL")
	// The timestamp loop takes c.mu without a deadline: one pass (renewTimestamp, here
	// with nothing to renew) blocks for as long, freezing every chain's timestamps.
	renewed := make(chan struct{})
	go func() { c.nodes[0].renewTimestamp(ch); close(renewed) }()
	select {
	case <-renewed:
	case <-time.After(2 * time.Second):
		t.Error("FINDING 1: the victim's timestamp loop is blocked on the chain lock")
	}
	// Release the hanging server so that the check ends and the cluster can stop.
	t.Cleanup(func() {
		select {
		case <-done:
		case <-time.After(90 * time.Second):
			t.Error("attack round did not end")
		}
	})
}

// FINDING 2 (medium): joinChain checks membership against the round's block, which
// for index > 0 is unverified (any block of any chain, or a forged one), then
// fetches the genesis from the round's catch-up URL and stores the chain before any
// other check. A node thus stores (and serves, exports, counts, renews) a chain whose
// rosters it is not in, at the request of any onet peer.
func TestReviewJoinsChainItIsNotMemberOf(t *testing.T) {
	c := newCluster(t, 5) // node 4 is the victim, not in the chain's roster
	g := c.createChain(0, 0, 1, 2, 3)
	victim := 4

	// A forged block 1 of some other chain, whose roster names the victim.
	fakeRoster := c.roster(0, victim)
	fakeG, err := skipchain.NewGenesis(skipchain.DefaultParams(), fakeRoster, timeline.KindGenesis, []byte("x"))
	require.NoError(t, err)
	forged, err := skipchain.NewBlock(fakeG.Header(), []*skipchain.Header{fakeG.Header()}, fakeRoster, timeline.KindRelease, []byte("y"))
	require.NoError(t, err)

	ts := timeline.NewTimestamp(g.Header(), time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, rep := c.nodes[0].round(ctx, c.roster(0, victim), "attack", ts.Message(),
		&roundData{Block: forged, CatchUp: c.url(0)}, 0)
	require.Nil(t, res, "%+v", rep) // the round fails ...
	// The root may end the round before the victim's check finished: give it time.
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end) && c.nodes[victim].chainOf(g.ID()) == nil; {
		time.Sleep(20 * time.Millisecond)
	}
	assert.True(t, c.nodes[victim].chainOf(g.ID()) == nil,
		"FINDING 2: ... but it joined chain %s, whose roster it is not in", g.ID().Short())
	resp, err := http.Get(c.url(victim) + api.Latest(g.ID()))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "FINDING 2: the victim serves the chain")
}

// FINDING 3a (medium): a genesis whose round fails is kept anyway. POST /v1/chains
// is open to anyone and not bounded by max_proposals; the node's own check stores the
// genesis (joinChain) before the round's outcome is known, so a genesis whose other
// members never answer leaves a chain behind, for ever, on every member that
// checked it.
func TestReviewFailedGenesisIsKept(t *testing.T) {
	c := newCluster(t, 1)
	c.stop(0)
	c.cfgs[0].RoundTimeout.Duration = 2 * time.Second
	c.start(0)
	silent := silentMembers(t, 3)
	r := rosterOfEntries(t, append([][]byte{c.entries[0]}, silent...)...)
	g, err := timeline.NewGenesis(skipchain.DefaultParams(), r, sample.Product, c.policy)
	require.NoError(t, err)
	code, res := post(t, c.url(0)+api.Chains, (&api.GenesisRequest{Genesis: g}).Encode())
	require.Equal(t, http.StatusUnprocessableEntity, code, "%+v", res)
	require.False(t, res.Accepted)
	assert.True(t, c.nodes[0].chainOf(g.ID()) == nil, "FINDING 3a: the refused genesis was kept")
}

// FINDING 3b (high: freeze of every chain by an anonymous HTTP client): the timestamp
// loop renews chains one after the other, each round lasting up to the round
// timeout; chains without a timestamp are retried on every tick. A few chains created
// as in 3a (the victim first in the roster, other members silent) make every pass of
// the loop last K × the round timeout, so the honest chain's timestamp ages far past
// the interval, which clients and monitors read as a freeze.
func TestReviewAttackerChainsStallTimestampLoop(t *testing.T) {
	c := newCluster(t, 1)
	c.stop(0)
	c.cfgs[0].RoundTimeout.Duration = 2 * time.Second
	c.cfgs[0].TimestampInterval.Duration = 2 * time.Second
	c.start(0)
	honest := c.createChain(0, 0) // a chain of one: every renewal is instant
	silent := silentMembers(t, 3)
	r := rosterOfEntries(t, append([][]byte{c.entries[0]}, silent...)...)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		params := skipchain.DefaultParams()
		params.MaxHeight = uint32(2 + i) // distinct genesis IDs
		g, err := timeline.NewGenesis(params, r, sample.Product, c.policy)
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			post(t, c.url(0)+api.Chains, (&api.GenesisRequest{Genesis: g}).Encode())
		}()
	}
	wg.Wait()
	ch := c.nodes[0].chainOf(honest.ID())
	worst := time.Duration(0)
	deadline := time.Now().Add(12 * time.Second)
	for time.Now().Before(deadline) {
		if ts := ch.newestTimestamp(); ts != nil {
			worst = max(worst, time.Since(ts.Time))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Normal age: at most interval + check period + one second of rounding.
	assert.Less(t, worst, 5*time.Second, "FINDING 3b: the honest chain's timestamp aged %s with an interval of 2s", worst)
}

// FINDING 4 (low/medium): the served-answer cache is filled after the answer was
// computed, without checking that the chain did not change meanwhile. A GET that
// computes the old timestamp (or latest record, or a block's links) while a new one
// is kept puts the old answer back after clear(): the node then serves the stale
// answer, with its ETag, until the next change — up to a whole timestamp interval
// (1 h), long enough for clients to see a freeze. The interleaving is forced here
// step by step, as two goroutines can run it.
func TestReviewServedCacheStaleAfterChange(t *testing.T) {
	c := newCluster(t, 1)
	g := c.createChain(0, 0)
	n := c.nodes[0]
	ch := n.chainOf(g.ID())
	old := ch.newestTimestamp()
	require.NotNil(t, old)
	path := api.Timestamp(g.ID())

	// GET: cache miss, computes the answer from the old timestamp ...
	require.Nil(t, ch.served.get(path))
	gen := ch.served.generation()
	a, _ := n.answer(ch, api.Path{Genesis: ch.genesis, Resource: api.ResTimestamp})
	// ... meanwhile the timestamp loop keeps a newer timestamp (and clears the cache) ...
	ts := timeline.NewTimestamp(g.Header(), time.Now().Add(2*time.Second))
	res, rep := n.round(context.Background(), g.Roster(), "timestamp", ts.Message(), &roundData{CatchUp: n.baseURL()}, 0)
	require.NotNil(t, res, "%+v", rep)
	ts.Signature = res.Signature
	kept, err := n.keepTimestamp(ch, ts)
	require.NoError(t, err)
	require.True(t, kept)
	// ... then the GET stores its answer.
	ch.served.put(path, a, gen)

	resp, err := http.Get(c.url(0) + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	assert.True(t, bytes.Equal(ts.Encode(), buf.Bytes()), "FINDING 4: the node serves the timestamp of %s after keeping the one of %s", old.Time, ts.Time)
}
