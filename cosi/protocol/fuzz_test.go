package protocol

import (
	"testing"
	"time"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/localnet"
	"go.dedis.ch/onet/v3"
	"go.dedis.ch/onet/v3/network"
)

var fuzzRound = cosi.RoundID{1, 2, 3}

// FuzzAccept feeds arbitrary replies to the check a node runs on every reply from its
// peers: nothing may panic, and whatever is accepted names only members of the
// sender's subtree, each once.
func FuzzAccept(f *testing.F) {
	keys, roster := gatherKeys(f, 8)
	msg := []byte("fuzz")
	good := share(f, keys[3], roster, msg)
	both, err := cosi.Aggregate(good, share(f, keys[4], roster, msg))
	if err != nil {
		f.Fatal(err)
	}
	refusal, err := keys[4].Refuse(roster, fuzzRound, msg, "refused")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good.Encode(), int32(4), "refused", refusal.Encode(), int32(5), "dead")
	f.Add(good.Encode(), int32(4), "refused", []byte{}, int32(5), "dead")
	f.Add(both.Encode(), int32(5), "", both.Encode(), int32(5), "twice")
	f.Add([]byte("garbage"), int32(-1), "x", []byte{1}, int32(99), "y")
	sender := network.NewServerIdentity(localnet.Suite.Point().Base(), network.NewTCPAddress("127.0.0.1:1"))
	f.Fuzz(func(t *testing.T, sig []byte, refMember int32, reason string, refSig []byte, failMember int32, failReason string) {
		r := &round{
			roster:      roster,
			me:          0,
			g:           newGather(roster, fuzzRound, msg),
			replyAt:     time.Now().Add(-time.Second), // no time left: no asking again
			pending:     map[askKey]askedNode{},
			provisional: map[int]string{},
		}
		allowed := set(3, 4, 5)
		asked := askedNode{node: onet.NewTreeNode(3, sender), allowed: allowed}
		reply := Reply{Signature: sig,
			Refusals: []RefusalMsg{{Member: refMember, Reason: reason, Signature: refSig}},
			Failures: []FailureMsg{{Member: failMember, Reason: failReason}}}
		if r.accept(asked, reply) != nil {
			return
		}
		for m := range r.g.claimed {
			if !allowed[m] {
				t.Fatalf("accepted a reply naming member %d outside the subtree", m)
			}
		}
		r.g.settle()
		if r.g.agg != nil {
			for _, m := range r.g.agg.Mask().Members() {
				if !allowed[m] {
					t.Fatalf("aggregate counts member %d outside the subtree", m)
				}
			}
		}
	})
}
