package protocol

import (
	"context"
	"errors"

	"github.com/chainiac/chainiac/cosi"
	"go.dedis.ch/onet/v3"
	"go.dedis.ch/onet/v3/network"
)

// Env is what a process gives the protocol: its signing keys, how to find the roster
// an announcement names, and the application's decision to sign.
//
// The onet roster of the tree must list the members in the cosi roster's order: tree
// node i is cosi member i.
type Env struct {
	// Key returns the signing key of a local server.
	Key func(*network.ServerIdentity) (*cosi.PrivateKey, error)
	// Roster resolves an announcement's roster reference. Building a cosi.Roster is
	// expensive; return a cached one.
	Roster func(ref []byte) (*cosi.Roster, error)
	// Check returns nil if this node agrees to sign msg, or the reason it refuses.
	// It must return when ctx is done.
	Check func(ctx context.Context, req CheckRequest) error
}

// CheckRequest is what a node is asked to sign, with the application's data.
type CheckRequest struct {
	RosterRef []byte
	Message   []byte
	Data      []byte
}

func (e Env) validate() error {
	if e.Key == nil || e.Roster == nil || e.Check == nil {
		return errors.New("protocol: Env needs Key, Roster and Check")
	}
	return nil
}

// Register makes the protocol available under name to every server of this process.
// onet requires this before any server starts; call it once, from the one place a
// program sets up onet.
func Register(name string, env Env) (onet.ProtocolID, error) {
	if err := env.validate(); err != nil {
		return onet.ProtocolID{}, err
	}
	return onet.GlobalProtocolRegister(name, func(n *onet.TreeNodeInstance) (onet.ProtocolInstance, error) {
		return New(n, env)
	})
}
