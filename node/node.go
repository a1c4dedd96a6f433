package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"go.dedis.ch/onet/v3"
	"go.dedis.ch/onet/v3/network"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/skipchain"
)

// Node is a running cothority node: its chains, its onet server, its HTTP API and
// the loop that renews timestamps. Start it with Start and stop it with Close.
type Node struct {
	cfg      *Config
	key      *cosi.PrivateKey
	log      *slog.Logger
	clock    func() time.Time
	dataDir  string
	chainDir string
	lock     *os.File

	mu     sync.RWMutex
	chains map[skipchain.ID]*chain
	closed bool // set by Close: no chain is opened after it

	server   *onet.Server
	svc      *service
	httpSrv  *http.Server
	httpAddr string
	client   *http.Client

	rebuild  *rebuilder
	intents  *intents
	verdicts *verdicts
	pending  pendingGeneses
	rosters  *rosters
	pins     *treePins // nil if Options.noTreePins
	metrics  *metrics
	history  *history
	exporter *exporter
	busy     chan struct{} // one token per proposal in flight

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Options are what a program gives a node besides its configuration.
type Options struct {
	Logger *slog.Logger     // default: discard
	Clock  func() time.Time // default: time.Now
	// Keys may be shared by the nodes of one process (default: a cache of its own).
	Keys *KeyCache

	noTreePins bool // tests and benchmarks: the baseline where onet ships every tree
}

// Start opens the node's data directory (refusing one another node process holds),
// its key and chains, and starts the onet server on the configured address, the HTTP
// API and the timestamp loop. Register must have been called.
func Start(cfg *Config, opts Options) (*Node, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	n := &Node{
		cfg: cfg, log: opts.Logger, clock: opts.Clock,
		dataDir: cfg.path(cfg.DataDir), chains: map[skipchain.ID]*chain{},
		verdicts: newVerdicts(),
		history:  newHistory(), busy: make(chan struct{}, cfg.MaxProposals),
		client: &http.Client{Timeout: 5 * time.Minute},
	}
	if opts.Keys == nil {
		opts.Keys = NewKeyCache()
	}
	n.rosters = &opts.Keys.r
	n.chainDir = filepath.Join(n.dataDir, "chains")
	n.ctx, n.cancel = context.WithCancel(context.Background())
	ok := false
	defer func() {
		if !ok {
			n.Close()
		}
	}()
	if err := os.MkdirAll(n.chainDir, 0o700); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	if err := n.takeLock(); err != nil {
		return nil, err
	}
	var err error
	if n.key, err = loadKey(cfg.path(cfg.KeyFile)); err != nil {
		return nil, err
	}
	if n.intents, err = newIntents(filepath.Join(n.dataDir, "intents")); err != nil {
		return nil, err
	}
	if n.rebuild, err = newRebuilder(cfg, n.dataDir, n.client); err != nil {
		return nil, err
	}
	if n.chains, err = openChains(n.chainDir); err != nil {
		return nil, err
	}
	n.metrics = newMetrics(n)
	if cfg.ExportDir != "" {
		n.exporter = newExporter(n, cfg.path(cfg.ExportDir))
	}
	if err := n.startOnet(opts.noTreePins); err != nil {
		return nil, err
	}
	if err := n.startHTTP(); err != nil {
		return nil, err
	}
	n.wg.Add(1)
	go n.timestampLoop()
	if n.exporter != nil {
		n.wg.Add(1)
		go n.exporter.run()
		for _, c := range n.chainList() {
			n.exportLater(c)
		}
	}
	ok = true
	n.log.Info("node started", "address", cfg.Address, "http", n.httpAddr, "chains", len(n.chains))
	return n, nil
}

// takeLock holds an exclusive lock on the data directory for the node's lifetime.
func (n *Node) takeLock() error {
	f, err := os.OpenFile(filepath.Join(n.dataDir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return fmt.Errorf("node: data directory %s is in use by another node process (%v)", n.dataDir, err)
	}
	n.lock = f
	return nil
}

func (n *Node) startOnet(noPins bool) error {
	hostPort := n.cfg.listenHostPort()
	// onet exits the process when it cannot listen; find out first, with a clear error.
	l, err := net.Listen("tcp", hostPort)
	if err != nil {
		return fmt.Errorf("node: address %s: %w", n.cfg.Address, err)
	}
	l.Close()
	pub, err := identity(skipchain.Member{Key: n.key.Public(), Address: n.cfg.Address})
	if err != nil {
		return err
	}
	priv, err := scalar(n.key)
	if err != nil {
		return err
	}
	si := network.NewServerIdentity(pub.Public, network.Address(n.cfg.Address))
	si.SetPrivate(priv)
	si.Description = n.cfg.Description
	host, _, _ := net.SplitHostPort(hostPort)
	srv := onet.NewServerTCPWithListenAddr(si, suite, host)
	srv.Quiet = true
	// Plain TCP between nodes: onet would warn on every message otherwise. Messages
	// carry nothing trusted unverified (shares and refusals are signed).
	srv.Router.UnauthOk = true
	svc, ok := srv.Service(serviceName).(*service)
	if !ok {
		srv.Close()
		return errors.New("node: onet service missing; call node.Register first")
	}
	if !noPins {
		n.pins = newTreePins(svc.ctx)
	}
	svc.attach(n)
	if _, err := srv.ProtocolRegister(protocolName, n.newInstance); err != nil {
		srv.Close()
		return err
	}
	n.server, n.svc = srv, svc
	// Only the router: onet's Server.Start would also open a websocket on every
	// interface, which a node never needs.
	go srv.Router.Start()
	deadline := time.Now().Add(10 * time.Second)
	for !srv.Router.Listening() {
		if time.Now().After(deadline) {
			return errors.New("node: onet router did not start listening")
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// Close stops the node: no new rounds or requests, the timestamp loop and exports
// stop, rounds in flight are abandoned, the HTTP server shuts down, the onet server
// closes and every store is closed. It waits for every goroutine it started.
func (n *Node) Close() error {
	n.cancel()
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	if n.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		keep(n.httpSrv.Shutdown(ctx))
		cancel()
	}
	n.wg.Wait()
	if n.pins != nil {
		n.pins.close()
	}
	if n.server != nil {
		keep(n.server.Close())
	}
	n.mu.Lock()
	for _, c := range n.chains {
		// A check still running in onet's goroutines holds c.mu; wait for it, bounded
		// by the round budget, so the store closes after its last write.
		c.mu.Lock()
		c.closeTimestamps()
		keep(c.store.Close())
		c.mu.Unlock()
	}
	n.chains = map[skipchain.ID]*chain{}
	n.closed = true
	n.mu.Unlock()
	if n.lock != nil {
		n.lock.Close()
		n.lock = nil
	}
	return first
}

// HTTPAddr is the address the HTTP API listens on (useful with port 0).
func (n *Node) HTTPAddr() string { return n.httpAddr }

// PublicKey is the node's cosi key.
func (n *Node) PublicKey() cosi.PublicKey { return n.key.Public() }

func (n *Node) chainOf(genesis skipchain.ID) *chain {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.chains[genesis]
}

// chainList returns the chains in a fixed order.
func (n *Node) chainList() []*chain {
	n.mu.RLock()
	out := make([]*chain, 0, len(n.chains))
	for _, c := range n.chains {
		out = append(out, c)
	}
	n.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].genesis.String() < out[j].genesis.String() })
	return out
}

func (n *Node) cosiRoster(keys []cosi.PublicKey) (*cosi.Roster, error) { return n.rosters.get(keys) }
