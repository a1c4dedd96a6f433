package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/nodeclient"
	"github.com/chainiac/chainiac/internal/sample"
	"github.com/chainiac/chainiac/node"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// Options shape a demo run.
type Options struct {
	Nodes int    // roster size (default 7; one more node is started for the rotation)
	Dir   string // working directory (default: a new temporary one, removed by Close)
	Out   io.Writer
	Color bool
}

// Summary is what the demo did, for people (printed) and for tests and scripts (JSON).
type Summary struct {
	Genesis string   `json:"genesis"`
	Nodes   []string `json:"nodes"` // HTTP URLs, the spare last
	Mirror  string   `json:"mirror"`
	// Downloads is the release team's download server: each release's source at
	// /releases/V/demo-browser-V.tar.gz and its signed MARs at
	// /releases/V/<platform>/<locale>.mar.
	Downloads string         `json:"downloads"`
	Blocks    []BlockSummary `json:"blocks"`
	Tampered  TamperSummary  `json:"tampered"`
	Updaters  []UpdaterRun   `json:"updaters"`
	Steps     []StepTime     `json:"steps"`
}

// BlockSummary is one block the cothority made.
type BlockSummary struct {
	Index   uint64 `json:"index"`
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Version string `json:"version,omitempty"`
	// Signers and Members count the link into the block from its predecessor;
	// SignedBy lists the members (by node number) that signed it.
	Signers  int   `json:"signers"`
	Members  int   `json:"members"`
	SignedBy []int `json:"signed_by"`
}

// TamperSummary is the refused release.
type TamperSummary struct {
	Version  string    `json:"version"`
	Accepted bool      `json:"accepted"`
	Refusals []Refusal `json:"refusals"`
}

// Refusal is one node's signed refusal.
type Refusal struct {
	Node   int    `json:"node"`
	Reason string `json:"reason"`
}

// UpdaterRun is one updater's catch-up from the genesis ID alone.
type UpdaterRun struct {
	When            string `json:"when"` // "before-rotation" or "after-rotation"
	Mode            string `json:"mode"`
	Version         string `json:"version"`
	Block           uint64 `json:"block"`
	SignatureChecks int    `json:"signature_checks"`
	Hops            int    `json:"hops"`
	Bytes           int64  `json:"bytes"`
	RoundTrips      int    `json:"round_trips"`
	MAR             string `json:"mar"`
	SHA512          string `json:"sha512"`
}

// StepTime is how long a step took.
type StepTime struct {
	Step    string  `json:"step"`
	Seconds float64 `json:"seconds"`
}

// Demo is a running demo: its nodes, download server and static mirror keep running
// until Close, so that `chainiac demo --keep` can leave them for exploration.
type Demo struct {
	opts    Options
	p       *printer
	dir     string
	tempDir bool
	nodes   []*node.Node
	entries [][]byte
	files   *sample.Server
	mirror  *http.Server
	wg      sync.WaitGroup
	devs    []*release.Signer
	marKey  *rsa.PrivateKey
	genesis *skipchain.Block
	newest  *sample.Release // the last accepted release
	sum     Summary
}

const steps = 7

var registerOnce = sync.OnceValue(node.Register)

// Run runs the demo; on success the returned Demo is still running and must be
// closed. On failure everything is stopped and the error names the step.
func Run(ctx context.Context, o Options) (*Demo, error) {
	if o.Nodes == 0 {
		o.Nodes = 7
	}
	if o.Nodes < 4 {
		return nil, fmt.Errorf("demo: at least 4 nodes, so that one can fail")
	}
	if err := registerOnce(); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d := &Demo{opts: o, p: &printer{w: o.Out, color: o.Color}, dir: o.Dir}
	if d.dir == "" {
		dir, err := os.MkdirTemp("", "chainiac-demo-")
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		d.dir, d.tempDir = dir, true
	}
	for i, s := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"cothority", d.startCothority},
		{"genesis", d.createGenesis},
		{"releases", d.releases},
		{"rotation", d.rotate},
		{"tampered release", d.tampered},
		{"updater", d.updaters},
		{"summary", d.summary},
	} {
		start := time.Now()
		if err := s.run(ctx); err != nil {
			d.Close()
			return nil, fmt.Errorf("demo: step %d (%s): %w", i+1, s.name, err)
		}
		d.sum.Steps = append(d.sum.Steps, StepTime{s.name, time.Since(start).Seconds()})
	}
	return d, nil
}

// Summary is what the demo did.
func (d *Demo) Summary() *Summary { return &d.sum }

// Publish replaces (or adds) the file at path on the download server, as whoever
// controls that server could: tests use it to ship a MAR the manifest does not name.
func (d *Demo) Publish(path string, data []byte) {
	d.files.Publish(map[string][]byte{path: data})
}

// Downloaded returns the file at path on the download server, if there is one.
func (d *Demo) Downloaded(path string) ([]byte, bool) { return d.files.File(path) }

// Close stops the nodes and servers and removes a temporary directory.
func (d *Demo) Close() {
	if d.mirror != nil {
		_ = d.mirror.Close()
	}
	d.wg.Wait()
	if d.files != nil {
		_ = d.files.Close()
	}
	for _, n := range d.nodes {
		if n != nil {
			_ = n.Close()
		}
	}
	if d.tempDir {
		_ = os.RemoveAll(d.dir)
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startCothority sets up and starts Nodes+1 nodes, the last a spare for the rotation.
func (d *Demo) startCothority(context.Context) error {
	keys := node.NewKeyCache()
	for i := 0; i <= d.opts.Nodes; i++ {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		cfgPath, entry, err := node.Setup(node.SetupOptions{Address: addr, HTTP: "127.0.0.1:0",
			Dir: filepath.Join(d.dir, fmt.Sprintf("node%d", i)), Description: fmt.Sprintf("demo node %d", i), Reference: true}, rand.Reader)
		if err != nil {
			return err
		}
		cfg, err := node.LoadConfig(cfgPath)
		if err != nil {
			return err
		}
		cfg.RoundTimeout.Duration = 30 * time.Second
		cfg.Linger.Duration = 5 * time.Second // ends as soon as every member answered
		if i == 0 {
			cfg.ExportDir = filepath.Join(d.dir, "site")
		}
		logger := slog.New(&eventHandler{p: d.p, node: i})
		n, err := node.Start(cfg, node.Options{Logger: logger, Keys: keys})
		if err != nil {
			return fmt.Errorf("node %d: %w", i, err)
		}
		d.nodes, d.entries = append(d.nodes, n), append(d.entries, entry)
		d.sum.Nodes = append(d.sum.Nodes, "http://"+n.HTTPAddr())
	}
	files, err := sample.NewServer()
	if err != nil {
		return err
	}
	d.files = files
	d.sum.Downloads = files.URL()
	if err := d.startMirror(); err != nil {
		return err
	}
	d.p.step(1, steps, "cothority: %d nodes on 127.0.0.1 (and node %d, a spare), each with its own key and store under %s",
		d.opts.Nodes, d.opts.Nodes, d.dir)
	return nil
}

func (d *Demo) roster(members ...int) (*skipchain.Roster, error) {
	var group bytes.Buffer
	for _, i := range members {
		group.Write(d.entries[i])
	}
	return skipchain.ParseRosterTOML(group.Bytes())
}

func (d *Demo) members(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func (d *Demo) createGenesis(ctx context.Context) error {
	keys := make([]release.DeveloperKey, 3)
	for i := range keys {
		s, err := release.GenerateDeveloperKey(rand.Reader)
		if err != nil {
			return err
		}
		d.devs, keys[i] = append(d.devs, s), s.Public()
	}
	policy, err := release.NewPolicy(keys, 2)
	if err != nil {
		return err
	}
	if d.marKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return err
	}
	r, err := d.roster(d.members(0, d.opts.Nodes)...)
	if err != nil {
		return err
	}
	g, err := timeline.NewGenesis(skipchain.DefaultParams(), r, sample.Product, policy)
	if err != nil {
		return err
	}
	res, err := d.post(ctx, 0, api.Chains, (&api.GenesisRequest{Genesis: g}).Encode())
	if err != nil {
		return err
	}
	if !res.Accepted {
		return fmt.Errorf("genesis refused: %s", res.Error)
	}
	d.genesis = g
	d.sum.Genesis = g.ID().String()
	d.p.step(2, steps, "genesis %s: roster of %d, threshold %d; developer policy 2-of-3", g.ID(), r.Len(), r.Threshold())
	return nil
}

// post sends a proposal or genesis request to node i.
func (d *Demo) post(ctx context.Context, i int, path string, body []byte) (*api.ProposalResult, error) {
	c, err := nodeclient.New(d.sum.Nodes[i], 2*time.Minute)
	if err != nil {
		return nil, err
	}
	return c.PostResult(ctx, path, body)
}

// record adds an accepted block to the summary, with who signed the link into it
// (read from the signature's bitmap, as node via stored it).
func (d *Demo) record(ctx context.Context, via int, res *api.ProposalResult, version string, roster []int) (BlockSummary, error) {
	b := BlockSummary{Index: res.Index, ID: res.ID, Kind: res.Kind, Version: version}
	c, err := nodeclient.New(d.sum.Nodes[via], 30*time.Second)
	if err != nil {
		return b, err
	}
	raw, err := c.Get(ctx, api.Link(d.genesis.ID(), res.Index-1, 0), api.MediaBinary, int64(skipchain.MaxLinkSize))
	if err != nil {
		return b, err
	}
	l, err := skipchain.ParseForwardLink(raw)
	if err != nil {
		return b, err
	}
	// The bitmap is believed only on a link that verifies under the roster of the
	// block it leaves and reaches the block the node reported.
	if l.To().String() != res.ID || l.ToIndex() != res.Index {
		return b, fmt.Errorf("the link into block %d reaches %s, the node reported %s", res.Index, l.To().Short(), res.ID)
	}
	prev, err := d.roster(roster...)
	if err != nil {
		return b, err
	}
	if err := skipchain.VerifyLinkSignature(prev, l); err != nil {
		return b, err
	}
	mask := l.Signature().Mask()
	b.Signers, b.Members = mask.Count(), mask.Len()
	for _, m := range mask.Members() {
		b.SignedBy = append(b.SignedBy, roster[m])
	}
	d.sum.Blocks = append(d.sum.Blocks, b)
	return b, nil
}

func (d *Demo) release(ctx context.Context, version string, via int, tamper bool) (*api.ProposalResult, *sample.Release, error) {
	r, err := sample.Make(ctx, sample.Options{Version: version, Channel: "release", BaseURL: d.files.URL(),
		MARKey: d.marKey, Developers: d.devs[:2], WorkDir: filepath.Join(d.dir, "team"), Tamper: tamper})
	if err != nil {
		return nil, nil, err
	}
	d.files.Publish(r.Files)
	p := &api.Proposal{Kind: timeline.KindRelease, Body: r.Signed.Encode(), Source: r.SourceURL}
	res, err := d.post(ctx, via, api.Proposals(d.genesis.ID()), p.Encode())
	return res, r, err
}

func (d *Demo) releases(ctx context.Context) error {
	d.p.step(3, steps, "three releases of %s, built by the release team with the reference builder, MARs signed (RSA), manifests signed by 2 of 3 developers", sample.Product)
	roster := d.members(0, d.opts.Nodes)
	for i, v := range []string{"1.0", "1.1", "2.0"} {
		d.p.detail("proposing %s to node %d; every node rebuilds it from source before signing", v, i)
		res, r, err := d.release(ctx, v, i, false)
		if err != nil {
			return err
		}
		if !res.Accepted {
			return fmt.Errorf("release %s refused: %s", v, firstReason(res))
		}
		d.newest = r
		b, err := d.record(ctx, i, res, v, roster)
		if err != nil {
			return err
		}
		d.p.ok("block %d: release %s, signed by %d/%d nodes %v", b.Index, v, b.Signers, b.Members, b.SignedBy)
	}
	d.p.detail("an updater that knows only the genesis ID catches up now, from node 0's static export:")
	return d.runUpdater(ctx, client.Express, "before-rotation")
}

func firstReason(res *api.ProposalResult) string {
	if res.Error != "" {
		return res.Error
	}
	for _, r := range res.Rounds {
		for _, f := range r.Refusals {
			return fmt.Sprintf("member %d: %s", f.Member, f.Reason)
		}
		if r.Error != "" {
			return r.Error
		}
	}
	return "no reason given"
}

// rotate replaces the last roster member by the spare node, with the developers'
// consent, then makes a release under the new roster.
func (d *Demo) rotate(ctx context.Context) error {
	n := d.opts.Nodes
	oldMembers := d.members(0, n)
	newMembers := append(d.members(0, n-1), n)
	prev, err := d.roster(oldMembers...)
	if err != nil {
		return err
	}
	next, err := d.roster(newMembers...)
	if err != nil {
		return err
	}
	rc, err := release.NewRosterChange(release.ChainID(d.genesis.ID()), 1, release.RosterID(prev.ID()), release.RosterID(next.ID()))
	if err != nil {
		return err
	}
	for _, dev := range d.devs[:2] {
		if err := dev.SignRosterChange(rc); err != nil {
			return err
		}
	}
	d.p.step(4, steps, "rotation: node %d leaves the roster, node %d joins (signed by 2 developers and by the old roster)", n-1, n)
	p := &api.Proposal{Kind: timeline.KindRosterChange, Body: rc.Encode(), Roster: next.Encode()}
	res, err := d.post(ctx, 0, api.Proposals(d.genesis.ID()), p.Encode())
	if err != nil {
		return err
	}
	if !res.Accepted {
		return fmt.Errorf("roster change refused: %s", firstReason(res))
	}
	b, err := d.record(ctx, 0, res, "", oldMembers)
	if err != nil {
		return err
	}
	d.p.ok("block %d: roster change, signed by %d/%d of the old roster %v", b.Index, b.Signers, b.Members, b.SignedBy)
	res, r, err := d.release(ctx, "3.0", 1, false)
	if err != nil {
		return err
	}
	if !res.Accepted {
		return fmt.Errorf("release 3.0 refused: %s", firstReason(res))
	}
	d.newest = r
	if b, err = d.record(ctx, 1, res, "3.0", newMembers); err != nil {
		return err
	}
	d.p.ok("block %d: release 3.0, signed by %d/%d of the new roster %v", b.Index, b.Signers, b.Members, b.SignedBy)
	return nil
}

func (d *Demo) tampered(ctx context.Context) error {
	d.p.step(5, steps, "tampered release 3.1: its first signed MAR was built from a source the manifest does not name")
	res, _, err := d.release(ctx, "3.1", 2, true)
	if err != nil {
		return err
	}
	d.sum.Tampered = TamperSummary{Version: "3.1", Accepted: res.Accepted}
	if res.Accepted {
		return errors.New("the cothority signed a tampered release")
	}
	members := append(d.members(0, d.opts.Nodes-1), d.opts.Nodes)
	roster, err := d.roster(members...)
	if err != nil {
		return err
	}
	for _, r := range res.Rounds {
		round, rerr := hex.DecodeString(r.Round)
		msg, merr := hex.DecodeString(r.Message)
		for _, f := range r.Refusals {
			// A refusal is shown only if the refusing member signed it for this round.
			sig, err := hex.DecodeString(f.Signature)
			if rerr != nil || merr != nil || err != nil {
				return fmt.Errorf("refusal of member %d: undecodable report", f.Member)
			}
			if err := verifyRefusal(roster, round, msg, f, sig); err != nil {
				return fmt.Errorf("refusal of member %d: %w", f.Member, err)
			}
			d.sum.Tampered.Refusals = append(d.sum.Tampered.Refusals, Refusal{Node: members[f.Member], Reason: f.Reason})
		}
	}
	d.p.ok("refused: %d of %d nodes sent a signed refusal; no block was made", len(d.sum.Tampered.Refusals), d.opts.Nodes)
	return nil
}

// updaters serves node 0's static export as a CDN would and runs two updaters that
// know only the genesis ID.
func (d *Demo) updaters(ctx context.Context) error {
	d.p.step(6, steps, "updaters: node 0's static export served at %s as a CDN would; each updater knows only the genesis ID", d.sum.Mirror)
	for _, mode := range []client.Mode{client.Express, client.Links} {
		if err := d.runUpdater(ctx, mode, "after-rotation"); err != nil {
			return err
		}
	}
	return nil
}

// startMirror serves node 0's export directory over HTTP, as any web server could.
func (d *Demo) startMirror() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	d.mirror = &http.Server{Handler: http.FileServer(http.Dir(filepath.Join(d.dir, "site"))), ReadHeaderTimeout: 5 * time.Second}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		_ = d.mirror.Serve(l)
	}()
	d.sum.Mirror = "http://" + l.Addr().String()
	return nil
}

// runUpdater waits for the export to hold the newest block, then runs a new updater
// (fresh state) and records what it needed.
func (d *Demo) runUpdater(ctx context.Context, mode client.Mode, when string) error {
	head := d.sum.Blocks[len(d.sum.Blocks)-1].Index
	if err := waitExport(ctx, filepath.Join(d.dir, "site"), d.genesis.ID(), head); err != nil {
		return err
	}
	run, err := d.update(ctx, mode, when)
	if err != nil {
		return fmt.Errorf("updater (%s, %s): %w", mode, when, err)
	}
	d.sum.Updaters = append(d.sum.Updaters, *run)
	d.p.ok("%s: release %s (block %d) with %d signature check(s), %d hop(s), %d bytes in %d requests; %s verified (SHA-512 %s…)",
		run.Mode, run.Version, run.Block, run.SignatureChecks, run.Hops, run.Bytes, run.RoundTrips, filepath.Base(run.MAR), run.SHA512[:16])
	return nil
}

func (d *Demo) update(ctx context.Context, mode client.Mode, when string) (*UpdaterRun, error) {
	state := filepath.Join(d.dir, "updater-"+when+"-"+mode.String())
	c, err := client.New(client.Config{Genesis: d.genesis.ID(), Mirrors: []string{d.sum.Mirror}, StateDir: state,
		Mode: mode, MARKeys: []*rsa.PublicKey{&d.marKey.PublicKey}})
	if err != nil {
		return nil, err
	}
	u, err := c.Check(ctx)
	if err != nil {
		return nil, err
	}
	if u.Release == nil {
		return nil, errors.New("no release")
	}
	t, ok := u.Target("linux-x86_64", "en-US")
	if !ok {
		return nil, errors.New("no linux-x86_64/en-US target")
	}
	dir := filepath.Join(d.dir, "downloads-"+when+"-"+mode.String())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path, err := c.Download(ctx, t, dir)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sum := sha512.Sum512(data)
	if want := d.newest.SignedMARs[t.Key()]; !bytes.Equal(data, want) {
		return nil, fmt.Errorf("the downloaded MAR is not the one the release team published")
	}
	return &UpdaterRun{When: when, Mode: mode.String(), Version: u.Release.Manifest.Version, Block: u.Release.Index,
		SignatureChecks: u.Stats.SignatureChecks, Hops: u.Stats.Hops, Bytes: u.Stats.Bytes, RoundTrips: u.Stats.RoundTrips,
		MAR: path, SHA512: hex.EncodeToString(sum[:])}, nil
}

// waitExport waits (bounded) until the export names block head as latest and has its
// timestamp.
func waitExport(ctx context.Context, site string, genesis skipchain.ID, head uint64) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(site, filepath.FromSlash(api.Latest(genesis))))
		if err == nil {
			if l, err := api.ParseLatest(b); err == nil && l.Index >= head {
				tsb, err := os.ReadFile(filepath.Join(site, filepath.FromSlash(api.Timestamp(genesis))))
				if ts, terr := timeline.ParseTimestamp(tsb); err == nil && terr == nil && ts.Index >= head {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the export did not reach block %d in 30 s", head)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (d *Demo) summary(context.Context) error {
	d.p.step(7, steps, "summary")
	for _, b := range d.sum.Blocks {
		what := b.Kind
		if b.Version != "" {
			what = "release " + b.Version
		}
		d.p.detail("block %d %-26s signed by %d/%d", b.Index, what, b.Signers, b.Members)
	}
	d.p.detail("tampered release %s: refused by %d nodes", d.sum.Tampered.Version, len(d.sum.Tampered.Refusals))
	for _, u := range d.sum.Updaters {
		d.p.detail("updater %-15s %-7s %d signature check(s), %d hop(s), %d bytes, %d requests", u.When, u.Mode, u.SignatureChecks, u.Hops, u.Bytes, u.RoundTrips)
	}
	return nil
}

// verifyRefusal checks a reported refusal with the refusing member's key, for the
// round and message the report names.
func verifyRefusal(r *skipchain.Roster, round, msg []byte, f api.Refusal, sig []byte) error {
	cr, err := r.Cosi()
	if err != nil {
		return err
	}
	s, err := cosi.ParseSignature(sig)
	if err != nil {
		return err
	}
	var id cosi.RoundID
	if len(round) != len(id) {
		return fmt.Errorf("round ID of %d bytes", len(round))
	}
	copy(id[:], round)
	m, err := cosi.VerifyRefusal(cr, id, msg, f.Reason, s)
	if err != nil {
		return err
	}
	if m != f.Member {
		return fmt.Errorf("signed by member %d, reported as member %d", m, f.Member)
	}
	return nil
}
