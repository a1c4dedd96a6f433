package localnet

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/chainiac/chainiac/internal/cachedpoint"
	"go.dedis.ch/kyber/v3/suites"
	"go.dedis.ch/onet/v3"
	"go.dedis.ch/onet/v3/log"
	"go.dedis.ch/onet/v3/network"
)

// ServiceName is the onet service through which a Net creates protocols at a server.
const ServiceName = "chainiac-localnet"

// Suite is the onet network suite of the servers' identities (not their cosi keys).
var Suite = suites.MustFind("Ed25519")

var (
	registerOnce sync.Once
	registerErr  error
)

// Register makes the localnet service known to onet and tells onet where to keep its
// per-server databases. onet reads both process-wide, and only before servers start,
// so a program calls this once, early (a TestMain, a command's set-up). Later calls
// change nothing and return the first call's result: the first folder stays in use.
func Register(dbDir string) error {
	registerOnce.Do(func() {
		if err := os.Setenv("CONODE_SERVICE_PATH", dbDir); err != nil {
			registerErr = err
			return
		}
		_, registerErr = onet.RegisterNewService(ServiceName, func(c *onet.Context) (onet.Service, error) {
			return &service{ServiceProcessor: onet.NewServiceProcessor(c), ctx: c}, nil
		})
	})
	return registerErr
}

// service only exposes onet's context, through which protocols are created.
type service struct {
	*onet.ServiceProcessor
	ctx *onet.Context
}

// Net is a set of running servers and the roster listing them in order.
type Net struct {
	Servers []*onet.Server
	Roster  *onet.Roster
	closed  []bool
}

// Start starts n servers on 127.0.0.1.
func Start(n int) (*Net, error) {
	if n < 1 {
		return nil, errors.New("localnet: need at least one server")
	}
	ln := &Net{closed: make([]bool, n)}
	ids := make([]*network.ServerIdentity, n)
	for i := range ids {
		port, err := freePort()
		if err != nil {
			ln.Close()
			return nil, err
		}
		kp := Suite.Scalar().Pick(Suite.RandomStream())
		// A key that remembers its encoding, which onet asks for on every message.
		si := network.NewServerIdentity(cachedpoint.Of(Suite.Point().Mul(kp, nil)),
			network.NewTCPAddress("127.0.0.1:"+strconv.Itoa(port)))
		si.SetPrivate(kp)
		si.Description = fmt.Sprintf("localnet-%d", i)
		ids[i] = si
		srv := onet.NewServerTCPWithListenAddr(si, Suite, "127.0.0.1")
		srv.Quiet = true
		// Plain TCP carries no peer authentication; without this onet warns on every
		// message. Node-to-node TLS is the node's business, not the harness's.
		srv.Router.UnauthOk = true
		// Only the TCP router is started: onet's Server.Start would also open a
		// websocket on 0.0.0.0, which these servers never need.
		go srv.Router.Start()
		ln.Servers = append(ln.Servers, srv)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, srv := range ln.Servers {
		for !srv.Router.Listening() {
			if time.Now().After(deadline) {
				ln.Close()
				return nil, errors.New("localnet: servers did not start listening")
			}
			time.Sleep(time.Millisecond)
		}
	}
	ln.Roster = onet.NewRoster(ids)
	return ln, nil
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("localnet: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// CreateProtocol creates a protocol instance rooted at server i, as a service would.
func (n *Net) CreateProtocol(i int, name string, tree *onet.Tree) (onet.ProtocolInstance, error) {
	ctx := n.Context(i)
	if ctx == nil {
		return nil, errors.New("localnet: service not registered; call Register first")
	}
	return ctx.CreateProtocol(name, tree)
}

// Context returns onet's service context at server i, through which a program acts
// as a service would (create protocols, pin trees).
func (n *Net) Context(i int) *onet.Context {
	s, ok := n.Servers[i].Service(ServiceName).(*service)
	if !ok {
		return nil
	}
	return s.ctx
}

// Stop closes server i, as if it crashed.
func (n *Net) Stop(i int) error {
	if n.closed[i] {
		return nil
	}
	n.closed[i] = true
	return n.Servers[i].Close()
}

// Close stops every server that is still running.
func (n *Net) Close() error {
	// Peers see their connections reset while the others close, and onet reports
	// that as an error whatever the log level: keep it out of quiet runs.
	if log.DebugVisible() == 0 {
		log.OutputToBuf()
		defer log.OutputToOs()
	}
	var first error
	for i := range n.Servers {
		if err := n.Stop(i); err != nil && first == nil {
			first = err
		}
	}
	return first
}
