package simulation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/cosi/protocol"
	"github.com/chainiac/chainiac/internal/localnet"
	"go.dedis.ch/onet/v3"
	"go.dedis.ch/onet/v3/network"
)

const cosiProtocol = "chainiac-simulation-cosi"

// CosiConfig is one simulation run.
type CosiConfig struct {
	Nodes    int
	Rounds   int           // measured rounds
	Warmup   int           // rounds run first and reported as warm-up
	Subtrees int           // sub-leaders of the two-level tree; 0 means ⌈√(n−1)⌉
	Binary   bool          // a binary tree of depth log₂ n instead of two levels
	Timeout  time.Duration // per round; 0 means protocol.DefaultTimeout
	// CheckAtSubLeaders makes sub-leaders verify their children's partials, as the
	// protocol did before optimistic aggregation (protocol.Request.CheckAtSubLeaders).
	CheckAtSubLeaders bool
	// Crashed members have their server closed before the rounds; Silent members run
	// a protocol that never answers. Both are taken from the same spread of non-root
	// members (sub-leaders and leaves), crashed first; together at most ⌊(n−1)/3⌋.
	Crashed, Silent int
}

func (c *CosiConfig) validate() error {
	switch {
	case c.Nodes < 2 || c.Nodes > cosi.MaxRosterSize:
		return fmt.Errorf("simulation: %d nodes, want 2 to %d", c.Nodes, cosi.MaxRosterSize)
	case c.Rounds < 1:
		return errors.New("simulation: at least one round")
	case c.Warmup < 0:
		return errors.New("simulation: negative warm-up")
	case c.Subtrees < 0 || c.Subtrees > c.Nodes-1:
		return fmt.Errorf("simulation: %d subtrees for %d nodes", c.Subtrees, c.Nodes)
	case c.Timeout < 0 || c.Timeout > protocol.MaxBudget:
		return fmt.Errorf("simulation: timeout %v, want 0 (default) to %v", c.Timeout, protocol.MaxBudget)
	case c.Crashed < 0 || c.Silent < 0 || c.Crashed+c.Silent > faultyOf(c.Nodes):
		return fmt.Errorf("simulation: %d crashed and %d silent of %d nodes, want at most %d in all",
			c.Crashed, c.Silent, c.Nodes, faultyOf(c.Nodes))
	}
	if c.Subtrees == 0 {
		c.Subtrees = protocol.DefaultSubtrees(c.Nodes)
	}
	if c.Timeout == 0 {
		c.Timeout = protocol.DefaultTimeout
	}
	return nil
}

// faultyOf is f = ⌊(n−1)/3⌋, the failures the default policy tolerates.
func faultyOf(n int) int { return (n - 1) / 3 }

// Tree names the tree shape: two-level:S (S sub-leaders; S = n−1 is flat) or binary.
func (c CosiConfig) Tree() string {
	if c.Binary {
		return "binary"
	}
	return fmt.Sprintf("two-level:%d", c.Subtrees)
}

// Aggregation names where partials are checked: "checked" (at every sub-leader) or
// "optimistic" (at the root only).
func (c CosiConfig) Aggregation() string {
	if c.CheckAtSubLeaders {
		return "checked"
	}
	return "optimistic"
}

// Round is the outcome of one signing round.
type Round struct {
	Nodes   int
	Round   int // from 1; warm-up rounds come first
	Warmup  bool
	Latency time.Duration
	CPU     time.Duration // the process's CPU time during the round
	Bytes   uint64        // sent by all servers during the round
	Signers int
	Err     error
}

// RunCosi runs cfg.Warmup + cfg.Rounds rounds and calls report after each. It returns
// the first round error, after reporting it.
func RunCosi(ctx context.Context, cfg CosiConfig, report func(Round)) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	cn, err := startCosiNet(cfg.Nodes)
	if err != nil {
		return err
	}
	defer cn.close()
	return cn.run(ctx, cfg, report)
}

// run runs cfg's rounds on a started net.
func (cn *cosiNet) run(ctx context.Context, cfg CosiConfig, report func(Round)) error {
	if _, err := cn.tree(cfg); err != nil {
		return err
	}
	if err := cn.fail(cfg.Crashed, cfg.Silent); err != nil {
		return err
	}
	for i := 1; i <= cfg.Warmup+cfg.Rounds; i++ {
		r := cn.round(ctx, cfg, i)
		r.Warmup = i <= cfg.Warmup
		report(r)
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

// cosiNet is a running cothority of n onet servers with their keys and the protocol
// registered; trees are built and pinned at every server on first use.
type cosiNet struct {
	n       int
	ln      *localnet.Net
	keys    []*cosi.PrivateKey
	roster  *cosi.Roster
	policy  cosi.Policy
	trees   map[string]*onet.Tree
	faulty  []int         // the members that fail, in the order they are made to
	crashed int           // faulty[:crashed] have their server closed
	silent  []atomic.Bool // per member: answer nothing
}

func startCosiNet(n int) (*cosiNet, error) {
	keys, roster, err := simulationKeys(n)
	if err != nil {
		return nil, err
	}
	ln, err := localnet.Start(n)
	if err != nil {
		return nil, err
	}
	cn := &cosiNet{n: n, ln: ln, keys: keys, roster: roster, policy: cosi.DefaultPolicy(n),
		trees: map[string]*onet.Tree{}, faulty: spreadMembers(n, faultyOf(n)), silent: make([]atomic.Bool, n)}
	for i, srv := range ln.Servers {
		env := protocol.Env{
			Key:    keyOf(srv.ServerIdentity, keys[i]),
			Roster: func([]byte) (*cosi.Roster, error) { return roster, nil },
			Check:  func(context.Context, protocol.CheckRequest) error { return nil },
		}
		silent := &cn.silent[i]
		if _, err := srv.ProtocolRegister(cosiProtocol, func(n *onet.TreeNodeInstance) (onet.ProtocolInstance, error) {
			if silent.Load() {
				return newSilentMember(n)
			}
			return protocol.New(n, env)
		}); err != nil {
			cn.close()
			return nil, err
		}
	}
	return cn, nil
}

// tree returns cfg's tree, pinned with its recovery trees at every server.
func (cn *cosiNet) tree(cfg CosiConfig) (*onet.Tree, error) {
	if t, ok := cn.trees[cfg.Tree()]; ok {
		return t, nil
	}
	tree, err := protocol.NewTree(cn.ln.Roster, cfg.Subtrees)
	if err != nil {
		return nil, err
	}
	if cfg.Binary {
		tree = cn.ln.Roster.GenerateBinaryTree()
	}
	// Every member builds the trees from the roster it holds: pin them everywhere
	// rather than have onet ship the whole roster to each node that is asked.
	rec := protocol.NewRecovery(tree)
	crashed := cn.crashedSet()
	for i := range cn.ln.Servers {
		if crashed[i] {
			continue // a pin on a closed server would never be released
		}
		for _, t := range append([]*onet.Tree{tree}, rec.Trees(i)...) {
			if _, err := protocol.PinTree(cn.ln.Context(i), t); err != nil {
				return nil, err
			}
		}
	}
	cn.trees[cfg.Tree()] = tree
	return tree, nil
}

// fail makes the first crashed members of cn.faulty crash (for good) and the next
// silent ones silent (until the next call).
func (cn *cosiNet) fail(crashed, silent int) error {
	if crashed < cn.crashed {
		return fmt.Errorf("simulation: %d members already crashed, cannot go back to %d", cn.crashed, crashed)
	}
	for _, m := range cn.faulty[cn.crashed:crashed] {
		if err := cn.ln.Stop(m); err != nil {
			return err
		}
	}
	cn.crashed = crashed
	for i := range cn.silent {
		cn.silent[i].Store(false)
	}
	for _, m := range cn.faulty[crashed : crashed+silent] {
		cn.silent[m].Store(true)
	}
	return nil
}

// round runs round i and checks its signature.
func (cn *cosiNet) round(ctx context.Context, cfg CosiConfig, i int) Round {
	r := Round{Nodes: cn.n, Round: i}
	tree, err := cn.tree(cfg)
	if err != nil {
		r.Err = err
		return r
	}
	msg := fmt.Sprintf("chainiac simulation round %d", i)
	tx0, cpu0 := cn.sent(), cpuTime()
	start := time.Now()
	res, err := signRound(ctx, cn.ln, tree, protocol.Request{
		RosterRef: []byte("simulation"), Message: []byte(msg), Policy: cn.policy, Timeout: cfg.Timeout,
		CheckAtSubLeaders: cfg.CheckAtSubLeaders,
	})
	r.Latency, r.CPU, r.Err = time.Since(start), cpuTime()-cpu0, err
	r.Bytes = cn.sent() - tx0
	if err == nil {
		if verr := cosi.Verify(cn.roster, []byte(msg), res.Signature, cn.policy); verr != nil {
			r.Err = fmt.Errorf("simulation: round %d produced an invalid signature: %w", i, verr)
		}
		r.Signers = res.Signature.Mask().Count()
	}
	return r
}

// sent is the number of bytes every running server has sent so far.
func (cn *cosiNet) sent() uint64 {
	var total uint64
	crashed := cn.crashedSet()
	for i, srv := range cn.ln.Servers {
		if !crashed[i] {
			total += srv.Router.Tx()
		}
	}
	return total
}

func (cn *cosiNet) crashedSet() map[int]bool {
	out := map[int]bool{}
	for _, m := range cn.faulty[:cn.crashed] {
		out[m] = true
	}
	return out
}

func (cn *cosiNet) close() { cn.ln.Close() }

// spreadMembers picks k distinct non-root members spaced across the roster, so that
// both sub-leaders and leaves are hit.
func spreadMembers(n, k int) []int {
	out := make([]int, k)
	for i := range out {
		out[i] = 1 + (i*(n-1))/k
	}
	return out
}

// silentMember is a member that takes the announcement and never answers: its
// parent waits for its share of the timeout, then asks its children directly.
type silentMember struct {
	*onet.TreeNodeInstance
}

// silentAnnounce is how onet hands it the announcement.
type silentAnnounce struct {
	*onet.TreeNode
	protocol.Announce
}

func newSilentMember(n *onet.TreeNodeInstance) (onet.ProtocolInstance, error) {
	s := &silentMember{TreeNodeInstance: n}
	return s, n.RegisterHandler(func(silentAnnounce) error {
		s.Done()
		return nil
	})
}

func (s *silentMember) Start() error { return nil }

func signRound(ctx context.Context, ln *localnet.Net, tree *onet.Tree, req protocol.Request) (*protocol.Result, error) {
	pi, err := ln.CreateProtocol(0, cosiProtocol, tree)
	if err != nil {
		return nil, err
	}
	p := pi.(*protocol.Protocol)
	p.Request = req
	if err := p.Start(); err != nil {
		return nil, err
	}
	return p.Wait(ctx)
}

func keyOf(si *network.ServerIdentity, k *cosi.PrivateKey) func(*network.ServerIdentity) (*cosi.PrivateKey, error) {
	return func(asked *network.ServerIdentity) (*cosi.PrivateKey, error) {
		// The same pointer in every honest call: no Ed25519 encoding (≈ 20 µs) needed.
		if asked != si && !si.Equal(asked) {
			return nil, errors.New("simulation: key asked for another server")
		}
		return k, nil
	}
}

// simulationKeys derives member i's key from a hash of i: reproducible and, for a
// simulation, as good as random. Generation runs on every core.
func simulationKeys(n int) ([]*cosi.PrivateKey, *cosi.Roster, error) {
	keys := make([]*cosi.PrivateKey, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				var b [8]byte
				binary.BigEndian.PutUint64(b[:], uint64(i))
				seed := sha256.Sum256(append([]byte("chainiac simulation key "), b[:]...))
				keys[i], errs[i] = cosi.GenerateKey(bytes.NewReader(seed[:]))
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	pubs := make([]cosi.PublicKey, n)
	for i, k := range keys {
		if errs[i] != nil {
			return nil, nil, errs[i]
		}
		pubs[i] = k.Public()
	}
	roster, err := cosi.NewRoster(pubs)
	return keys, roster, err
}

// CheckCosiConfig reports whether cfg is a valid run, before any server starts.
func CheckCosiConfig(cfg CosiConfig) error { return cfg.validate() }
