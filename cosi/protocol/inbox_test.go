package protocol

import (
	"testing"

	"github.com/chainiac/chainiac/internal/localnet"
	"github.com/stretchr/testify/require"
	"go.dedis.ch/onet/v3"
	"go.dedis.ch/onet/v3/network"
)

// A flooding sender fills only its own slot: the honest reply that arrives after ten
// thousand of its messages, with nothing taken in between, is still there, and so is a
// second ask of the same node through another instance.
func TestInboxKeepsOneReplyPerSenderAndAsk(t *testing.T) {
	node := func(i int) *onet.TreeNode {
		si := network.NewServerIdentity(localnet.Suite.Point().Pick(localnet.Suite.RandomStream()), network.NewTCPAddress("127.0.0.1:1"))
		return onet.NewTreeNode(i, si)
	}
	flooder, honest := node(1), node(2)
	main, relay := &Protocol{}, &Protocol{}
	in := newInbox()
	for i := 0; i < 10000; i++ {
		in.put(main, replyMsg{TreeNode: flooder, Reply: Reply{Failures: []FailureMsg{{Member: int32(i)}}}})
	}
	in.put(main, replyMsg{TreeNode: honest, Reply: Reply{Signature: []byte("first")}})
	in.put(main, replyMsg{TreeNode: honest, Reply: Reply{Signature: []byte("second")}})
	in.put(relay, replyMsg{TreeNode: honest, Reply: Reply{Signature: []byte("through the relay")}})
	in.put(main, replyMsg{TreeNode: nil, Reply: Reply{}}) // onet could not name the sender

	select {
	case <-in.ready:
	default:
		t.Fatal("no signal for a non-empty inbox")
	}
	got := in.take()
	require.Len(t, got, 3)
	require.Equal(t, askKey{via: main, id: flooder.ID}, got[0].key())
	require.Equal(t, int32(0), got[0].Failures[0].Member, "the flooder's first reply is kept")
	require.Equal(t, askKey{via: main, id: honest.ID}, got[1].key())
	require.Equal(t, "first", string(got[1].Signature))
	require.Equal(t, askKey{via: relay, id: honest.ID}, got[2].key())
	require.Empty(t, in.take())

	in.put(main, replyMsg{TreeNode: flooder})
	require.Empty(t, in.take(), "a sender is heard once per instance, also after a take")
}
