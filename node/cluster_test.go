package node

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/sample"
	"github.com/chainiac/chainiac/internal/testrand"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/mar"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// cluster is n nodes in this process, each with its own directory, key, onet server
// on 127.0.0.1 and HTTP API, plus the release team's download server.
type cluster struct {
	t       testing.TB
	dirs    []string
	cfgs    []*Config
	nodes   []*Node
	entries [][]byte
	files   *sample.Server
	devs    []*release.Signer
	policy  *release.Policy
	marKey  *rsa.PrivateKey
	genesis skipchain.ID
	work    string
	keys    *KeyCache // shared by the nodes, as one process may
	noPins  bool      // the nodes pin no trees (the baseline of TestRecoveryTreesPinned)
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

func newCluster(t testing.TB, n int) *cluster { return newClusterPins(t, n, true) }

func newClusterPins(t testing.TB, n int, pins bool) *cluster {
	c := &cluster{t: t, work: t.TempDir(), keys: NewKeyCache(), noPins: !pins}
	for i := 0; i < n; i++ {
		c.addNode(func(*Config) {})
	}
	files, err := sample.NewServer()
	require.NoError(t, err)
	t.Cleanup(func() { files.Close() })
	c.files = files
	rnd := testrand.New("node cluster developers")
	keys := make([]release.DeveloperKey, 3)
	for i := range keys {
		s, err := release.GenerateDeveloperKey(rnd)
		require.NoError(t, err)
		c.devs = append(c.devs, s)
		keys[i] = s.Public()
	}
	c.policy, err = release.NewPolicy(keys, 2)
	require.NoError(t, err)
	pem, err := os.ReadFile("../release/build/testdata/mar-signing-key.pem")
	require.NoError(t, err)
	c.marKey, err = mar.ParsePrivateKeyPEM(pem)
	require.NoError(t, err)
	return c
}

// addNode sets up and starts one more node (not in any roster yet).
func (c *cluster) addNode(edit func(*Config)) int {
	t := c.t
	i := len(c.nodes)
	dir := filepath.Join(c.work, fmt.Sprintf("node%d", i))
	cfgPath, entry, err := Setup(SetupOptions{
		Address: freeAddr(t), HTTP: "127.0.0.1:0", Dir: dir, Description: fmt.Sprintf("node %d", i), Reference: true,
	}, testrand.New(fmt.Sprintf("node key %d %s", i, t.Name())))
	require.NoError(t, err)
	cfg, err := LoadConfig(cfgPath)
	require.NoError(t, err)
	cfg.RoundTimeout.Duration = 20 * time.Second
	cfg.TimestampInterval.Duration = time.Hour
	edit(cfg)
	c.dirs, c.cfgs, c.entries = append(c.dirs, dir), append(c.cfgs, cfg), append(c.entries, entry)
	c.nodes = append(c.nodes, nil)
	c.start(i)
	return i
}

func (c *cluster) start(i int) {
	n, err := Start(c.cfgs[i], Options{Logger: testLogger(c.t, i), Keys: c.keys, noTreePins: c.noPins})
	require.NoError(c.t, err)
	c.nodes[i] = n
	c.t.Cleanup(func() {
		if c.nodes[i] == n {
			c.stop(i)
		}
	})
}

func (c *cluster) stop(i int) {
	require.NoError(c.t, c.nodes[i].Close())
	c.nodes[i] = nil
}

func testLogger(t testing.TB, i int) *slog.Logger {
	if os.Getenv("CHAINIAC_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil)).With("node", i)
}

// roster joins the entries of the given nodes into one roster.
func (c *cluster) roster(members ...int) *skipchain.Roster {
	var group bytes.Buffer
	for _, i := range members {
		group.Write(c.entries[i])
	}
	r, err := skipchain.ParseRosterTOML(group.Bytes())
	require.NoError(c.t, err)
	return r
}

func (c *cluster) url(i int) string { return "http://" + c.nodes[i].HTTPAddr() }

func post(t testing.TB, url string, body []byte) (int, *api.ProposalResult) {
	resp, err := http.Post(url, api.MediaBinary, bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var res api.ProposalResult
	if strings.HasPrefix(resp.Header.Get("Content-Type"), api.MediaJSON) {
		require.NoError(t, json.Unmarshal(b, &res), string(b))
	} else {
		res.Error = string(b)
	}
	return resp.StatusCode, &res
}

// createChain makes the genesis for the roster and has node `via` create the chain.
func (c *cluster) createChain(via int, members ...int) *skipchain.Block {
	g, err := timeline.NewGenesis(skipchain.DefaultParams(), c.roster(members...), sample.Product, c.policy)
	require.NoError(c.t, err)
	code, res := post(c.t, c.url(via)+api.Chains, (&api.GenesisRequest{Genesis: g}).Encode())
	require.Equal(c.t, http.StatusOK, code, "%+v", res)
	require.True(c.t, res.Accepted)
	c.genesis = g.ID()
	return g
}

func (c *cluster) release(version string, tamper bool) *sample.Release {
	r, err := sample.Make(context.Background(), sample.Options{
		Version: version, Channel: "release", BaseURL: c.files.URL(), MARKey: c.marKey,
		Developers: c.devs[:2], WorkDir: filepath.Join(c.work, "team"), Tamper: tamper,
	})
	require.NoError(c.t, err)
	c.files.Publish(r.Files)
	return r
}

func (c *cluster) propose(via int, p *api.Proposal) (int, *api.ProposalResult) {
	return post(c.t, c.url(via)+api.Proposals(c.genesis), p.Encode())
}

func releaseProposal(r *sample.Release) *api.Proposal {
	return &api.Proposal{Kind: timeline.KindRelease, Body: r.Signed.Encode(), Source: r.SourceURL}
}

func (c *cluster) head(i int) *skipchain.Header {
	ch := c.nodes[i].chainOf(c.genesis)
	require.NotNil(c.t, ch, "node %d has no chain", i)
	h, err := ch.store.Head()
	require.NoError(c.t, err)
	return h
}

func TestClusterReleases(t *testing.T) {
	c := newCluster(t, 4)
	c.createChain(0, 0, 1, 2, 3)
	c.waitHeads(0)
	for v, version := range []string{"1.0", "1.1", "2.0"} {
		code, res := c.propose(v%4, releaseProposal(c.release(version, false)))
		require.Equal(t, http.StatusOK, code, "%+v", res)
		require.True(t, res.Accepted, "%+v", res)
		require.EqualValues(t, v+1, res.Index)
		for _, r := range res.Rounds {
			require.True(t, r.OK, "%+v", r)
			require.GreaterOrEqual(t, r.Signers, r.Needed, "%+v", r)
		}
	}
	c.waitHeads(3)
	for i := range c.nodes {
		require.Equal(t, c.head(0).ID(), c.head(i).ID())
		ts := c.nodes[i].chainOf(c.genesis).newestTimestamp()
		require.NotNil(t, ts, "node %d has no timestamp", i)
	}
}

// waitHeads waits, a bounded time, until every running node stored block index: the
// root ends a round at its threshold, and the last members finish storing after it.
func (c *cluster) waitHeads(index uint64) {
	deadline := time.Now().Add(30 * time.Second)
	for i, n := range c.nodes {
		if n == nil {
			continue
		}
		for n.chainOf(c.genesis) == nil || c.head(i).Index() < index {
			require.True(c.t, time.Now().Before(deadline), "node %d stuck at block %d", i, c.head(i).Index())
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// verifyRefusals checks every reported refusal offline against the roster.
func verifyRefusals(t *testing.T, r *skipchain.Roster, res *api.ProposalResult) {
	cr, err := r.Cosi()
	require.NoError(t, err)
	for _, rep := range res.Rounds {
		msg, err := hex.DecodeString(rep.Message)
		require.NoError(t, err)
		var round cosi.RoundID
		require.NoError(t, round.UnmarshalText([]byte(rep.Round)))
		for _, ref := range rep.Refusals {
			sb, err := hex.DecodeString(ref.Signature)
			require.NoError(t, err)
			sig, err := cosi.ParseSignature(sb)
			require.NoError(t, err)
			m, err := cosi.VerifyRefusal(cr, round, msg, ref.Reason, sig)
			require.NoError(t, err)
			require.Equal(t, ref.Member, m)
		}
	}
}
