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
	}
	if c.Subtrees == 0 {
		c.Subtrees = protocol.DefaultSubtrees(c.Nodes)
	}
	if c.Timeout == 0 {
		c.Timeout = protocol.DefaultTimeout
	}
	return nil
}

// Round is the outcome of one signing round.
type Round struct {
	Nodes   int
	Round   int // from 1; warm-up rounds come first
	Warmup  bool
	Latency time.Duration
	Signers int
	Err     error
}

// RunCosi runs cfg.Warmup + cfg.Rounds rounds and calls report after each. It returns
// the first round error, after reporting it.
func RunCosi(ctx context.Context, cfg CosiConfig, report func(Round)) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	cn, err := startCosiNet(cfg)
	if err != nil {
		return err
	}
	defer cn.close()
	for i := 1; i <= cfg.Warmup+cfg.Rounds; i++ {
		r := cn.round(ctx, i)
		r.Warmup = i <= cfg.Warmup
		report(r)
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

// cosiNet is a running cothority of cfg.Nodes onet servers with their keys, the
// protocol registered and the tree pinned at every server.
type cosiNet struct {
	cfg    CosiConfig
	ln     *localnet.Net
	roster *cosi.Roster
	tree   *onet.Tree
	policy cosi.Policy
}

func startCosiNet(cfg CosiConfig) (*cosiNet, error) {
	keys, roster, err := simulationKeys(cfg.Nodes)
	if err != nil {
		return nil, err
	}
	ln, err := localnet.Start(cfg.Nodes)
	if err != nil {
		return nil, err
	}
	cn := &cosiNet{cfg: cfg, ln: ln, roster: roster, policy: cosi.DefaultPolicy(cfg.Nodes)}
	for i, srv := range ln.Servers {
		env := protocol.Env{
			Key:    keyOf(srv.ServerIdentity, keys[i]),
			Roster: func([]byte) (*cosi.Roster, error) { return roster, nil },
			Check:  func(context.Context, protocol.CheckRequest) error { return nil },
		}
		if _, err := srv.ProtocolRegister(cosiProtocol, func(n *onet.TreeNodeInstance) (onet.ProtocolInstance, error) {
			return protocol.New(n, env)
		}); err != nil {
			cn.close()
			return nil, err
		}
	}
	if cn.tree, err = protocol.NewTree(ln.Roster, cfg.Subtrees); err != nil {
		cn.close()
		return nil, err
	}
	if cfg.Binary {
		cn.tree = ln.Roster.GenerateBinaryTree()
	}
	// Every member builds the tree from the roster it holds: pin it everywhere rather
	// than have onet ship the whole roster to each node in the first round.
	for i := range ln.Servers {
		if _, err := protocol.PinTree(ln.Context(i), cn.tree); err != nil {
			cn.close()
			return nil, err
		}
	}
	return cn, nil
}

// round runs round i and checks its signature.
func (cn *cosiNet) round(ctx context.Context, i int) Round {
	msg := fmt.Sprintf("chainiac simulation round %d", i)
	start := time.Now()
	res, err := signRound(ctx, cn.ln, cn.tree, protocol.Request{
		RosterRef: []byte("simulation"), Message: []byte(msg), Policy: cn.policy, Timeout: cn.cfg.Timeout,
	})
	r := Round{Nodes: cn.cfg.Nodes, Round: i, Latency: time.Since(start), Err: err}
	if err == nil {
		if verr := cosi.Verify(cn.roster, []byte(msg), res.Signature, cn.policy); verr != nil {
			r.Err = fmt.Errorf("simulation: round %d produced an invalid signature: %w", i, verr)
		}
		r.Signers = res.Signature.Mask().Count()
	}
	return r
}

func (cn *cosiNet) close() { cn.ln.Close() }

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
		if !asked.Equal(si) {
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
