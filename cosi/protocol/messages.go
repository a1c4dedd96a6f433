package protocol

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chainiac/chainiac/cosi"
	"go.dedis.ch/onet/v3"
	"go.dedis.ch/onet/v3/network"
)

// Limits on what a node accepts from its peers. Messages travel as onet (protobuf)
// messages; none of their bytes are signed, so onet's encoding is fine, but every field
// is bounded and re-parsed with cosi's strict decoders.
const (
	MaxMessageSize   = 64 << 10 // the bytes to sign
	MaxDataSize      = 4 << 20  // application data for the check (a manifest, say)
	MaxRosterRefSize = 64
	MaxReasonSize    = cosi.MaxReasonSize
	MaxBudget        = 10 * time.Minute
)

// Announce asks a node to check Message, sign it or refuse, gather its subtree's
// answers and reply to the sender within Budget.
type Announce struct {
	RosterRef []byte // the application's name for the signing roster
	Round     []byte // the cosi.RoundID chosen by the root, which every refusal signs
	Message   []byte
	Data      []byte
	BudgetMs  int64 // how long the receiver has to reply, counted from receipt
	// CheckPartials makes every sub-leader verify its children's partial signatures
	// before forwarding their sum. Without it (the default) sub-leaders forward the sum
	// unchecked and only the root verifies, descending into a subtree only when its
	// sum does not verify.
	CheckPartials bool
}

// Reply carries a subtree's partial signature and what went wrong in it.
type Reply struct {
	Signature []byte // encoded cosi.Signature; empty if nobody in the subtree signed
	Refusals  []RefusalMsg
	Failures  []FailureMsg
}

// RefusalMsg is a member's signed refusal to sign.
type RefusalMsg struct {
	Member    int32
	Reason    string
	Signature []byte // encoded cosi.Signature by the member, see cosi.VerifyRefusal
}

// FailureMsg is a parent's report that a member did not take part, or sent a share
// that did not verify. It is an observation, not signed by the member.
type FailureMsg struct {
	Member int32
	Reason string
}

type announceMsg struct {
	*onet.TreeNode
	Announce
}

type replyMsg struct {
	*onet.TreeNode
	Reply
}

func (a *Announce) validate() error {
	switch {
	case len(a.Message) == 0 || len(a.Message) > MaxMessageSize:
		return fmt.Errorf("message of %d bytes", len(a.Message))
	case len(a.Data) > MaxDataSize:
		return fmt.Errorf("data of %d bytes", len(a.Data))
	case len(a.RosterRef) > MaxRosterRefSize:
		return fmt.Errorf("roster reference of %d bytes", len(a.RosterRef))
	case len(a.Round) != len(cosi.RoundID{}):
		return fmt.Errorf("round ID of %d bytes", len(a.Round))
	case a.BudgetMs < 1 || time.Duration(a.BudgetMs)*time.Millisecond > MaxBudget:
		return fmt.Errorf("budget of %d ms", a.BudgetMs)
	}
	return nil
}

func (a *Announce) round() cosi.RoundID {
	var id cosi.RoundID
	copy(id[:], a.Round)
	return id
}

// Refusal is a verified refusal: the member's key signed Reason for this round's
// message, roster and round ID. Whoever gets it can check it again offline with
// cosi.VerifyRefusal(roster, round, message, Reason, Signature).
type Refusal struct {
	Member    int
	Key       cosi.PublicKey
	Reason    string
	Signature *cosi.Signature
}

// Failure is a member that did not contribute, as observed by the protocol.
type Failure struct {
	Member int
	Reason string
}

func truncateReason(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD") // reasons travel and are signed as UTF-8
	if len(s) <= MaxReasonSize {
		return s
	}
	// Cut on a rune boundary so the reason stays valid UTF-8.
	cut := MaxReasonSize
	for cut > 0 && s[cut]&0xc0 == 0x80 {
		cut--
	}
	return s[:cut]
}

// ErrUnreachable is returned when the round ends without enough signers, because too
// many members refused or failed. It is wrapped in a *RoundError.
var ErrUnreachable = errors.New("protocol: threshold cannot be reached")

// RegisterMessages makes the protocol's message types known to onet's network layer.
// onet otherwise learns them only when a protocol instance registers its channels,
// so a process that has run no round yet drops the first announcement it receives.
// Call it with the program's other onet registrations, before any server starts.
func RegisterMessages() {
	network.RegisterMessages(&Announce{}, &Reply{})
}
