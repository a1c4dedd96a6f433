package protocol

import (
	"errors"
	"fmt"
	"sort"

	"github.com/chainiac/chainiac/cosi"
)

// gather collects a subtree's answers: partial signatures, refusals and failures. It
// is pure bookkeeping with no network or clock, so the tree protocol's rules (a member
// counts once, a bad share excludes only its sender's contribution) are tested on
// their own.
//
// Partials are added unverified; settle verifies their sum with one pairing check and,
// only if that fails, each partial on its own.
type gather struct {
	roster  *cosi.Roster
	round   cosi.RoundID
	msg     []byte
	agg     *cosi.Signature // verified partials so far, nil if none
	pending []partialFrom   // added since the last settle
	claimed map[int]bool    // members counted in agg, pending, refusals or failures
	refusal map[int]Refusal // verified, see checkRefusal
	failure map[int]string
}

type partialFrom struct {
	sig    *cosi.Signature
	sender int // the member whose reply carried it
	// What the same reply said of the sender's other members. It is as credible as the
	// partial: recorded when the partial verifies, released with it when it does not.
	refusals []Refusal
	failures []FailureMsg
}

func newGather(r *cosi.Roster, round cosi.RoundID, msg []byte) *gather {
	return &gather{
		roster:  r,
		round:   round,
		msg:     msg,
		claimed: map[int]bool{},
		refusal: map[int]Refusal{},
		failure: map[int]string{},
	}
}

// checkRefusal verifies a reported refusal: member m's key must have signed its
// reason for this round, roster and message.
func (g *gather) checkRefusal(r RefusalMsg) (Refusal, error) {
	sig, err := cosi.ParseSignature(r.Signature)
	if err != nil {
		return Refusal{}, err
	}
	m, err := cosi.VerifyRefusal(g.roster, g.round, g.msg, r.Reason, sig)
	if err != nil {
		return Refusal{}, err
	}
	if m != int(r.Member) {
		return Refusal{}, fmt.Errorf("refusal signed by member %d, not %d", m, r.Member)
	}
	return Refusal{Member: m, Key: g.roster.Key(m), Reason: r.Reason, Signature: sig}, nil
}

// addReply records sender's reply: its partial signature (nil if nobody signed), and
// the verified refusals (checkRefusal) and failures it reports. allowed is the set of members the sender may
// speak for (its subtree); a reply naming anyone else, or anyone already counted, is
// refused and nothing of it is recorded. With a partial, the whole reply waits for
// settle; without one, the refusals and failures are recorded at once.
func (g *gather) addReply(sender int, allowed map[int]bool, sig *cosi.Signature, refusals []Refusal, failures []FailureMsg) error {
	var members []int
	if sig != nil {
		if sig.Mask().Len() != g.roster.Len() {
			return errors.New("partial signature over a different roster")
		}
		members = sig.Mask().Members()
	}
	for _, r := range refusals {
		members = append(members, r.Member)
	}
	for _, f := range failures {
		members = append(members, int(f.Member))
	}
	seen := map[int]bool{}
	for _, m := range members {
		if !allowed[m] || g.claimed[m] || seen[m] {
			return fmt.Errorf("reply names member %d outside its subtree or twice", m)
		}
		seen[m] = true
	}
	for _, m := range members {
		g.claimed[m] = true
	}
	if sig == nil {
		g.record(refusals, failures)
		return nil
	}
	g.pending = append(g.pending, partialFrom{sig: sig, sender: sender, refusals: refusals, failures: failures})
	return nil
}

// record stores refusals and failures whose members are already claimed.
func (g *gather) record(refusals []Refusal, failures []FailureMsg) {
	for _, r := range refusals {
		g.refusal[r.Member] = r
	}
	for _, f := range failures {
		g.failure[int(f.Member)] = truncateReason(f.Reason)
	}
}

// members lists everyone the reply accounted for: signers, refusers, failures.
func (p partialFrom) members() map[int]bool {
	out := map[int]bool{}
	for _, m := range p.sig.Mask().Members() {
		out[m] = true
	}
	for _, r := range p.refusals {
		out[r.Member] = true
	}
	for _, f := range p.failures {
		out[int(f.Member)] = true
	}
	return out
}

// addOwn records this node's own share. It needs no verification, and a leaf that
// only holds its own share never pays for a pairing.
func (g *gather) addOwn(member int, sig *cosi.Signature) error {
	if g.claimed[member] {
		return fmt.Errorf("member %d counted twice", member)
	}
	sum := sig
	if g.agg != nil {
		var err error
		if sum, err = cosi.Aggregate(g.agg, sig); err != nil {
			return err
		}
	}
	g.claimed[member] = true
	g.agg = sum
	return nil
}

// addOwnRefusal records this node's own refusal (which needs no verification),
// unless the node already counted.
func (g *gather) addOwnRefusal(r Refusal) bool {
	if g.claimed[r.Member] {
		return false
	}
	g.claimed[r.Member] = true
	g.refusal[r.Member] = r
	return true
}

// fail records that member m did not contribute, unless it already counted.
func (g *gather) fail(m int, reason string) {
	if g.claimed[m] {
		return
	}
	g.claimed[m] = true
	g.failure[m] = truncateReason(reason)
}

// settle verifies the pending partials and folds the good ones into the aggregate. It
// returns the partials that did not verify: their sender is recorded as failed, and
// their other members are released, so that the caller can ask them again directly.
func (g *gather) settle() []partialFrom {
	if len(g.pending) == 0 {
		return nil
	}
	pending := g.pending
	g.pending = nil
	parts := make([]*cosi.Signature, 0, len(pending)+1)
	if g.agg != nil {
		parts = append(parts, g.agg)
	}
	for _, p := range pending {
		parts = append(parts, p.sig)
	}
	if sum, err := cosi.Aggregate(parts...); err == nil && cosi.VerifyPartial(g.roster, g.msg, sum) == nil {
		g.agg = sum
		for _, p := range pending {
			g.record(p.refusals, p.failures)
		}
		return nil
	}
	// Someone sent a bad share: find it, keep the rest.
	var rejected []partialFrom
	for _, p := range pending {
		sum := p.sig
		err := cosi.VerifyPartial(g.roster, g.msg, p.sig)
		if err == nil && g.agg != nil {
			sum, err = cosi.Aggregate(g.agg, p.sig)
		}
		if err != nil {
			// The whole reply goes: its members can be asked again.
			for m := range p.members() {
				delete(g.claimed, m)
			}
			g.fail(p.sender, "signature share does not verify")
			rejected = append(rejected, p)
			continue
		}
		g.agg = sum
		g.record(p.refusals, p.failures)
	}
	return rejected
}

// signed is the number of verified signers.
func (g *gather) signed() int {
	if g.agg == nil {
		return 0
	}
	return g.agg.Mask().Count()
}

// unverified is the number of signers in pending partials.
func (g *gather) unverified() int {
	n := 0
	for _, p := range g.pending {
		n += p.sig.Mask().Count()
	}
	return n
}

// lost is the number of members that refused or failed.
func (g *gather) lost() int { return len(g.refusal) + len(g.failure) }

// unverifiedLost is the number of refusals and failures waiting with a partial.
func (g *gather) unverifiedLost() int {
	n := 0
	for _, p := range g.pending {
		n += len(p.refusals) + len(p.failures)
	}
	return n
}

// reply is what this subtree sends up: the verified aggregate and every refusal and
// failure, in member order.
func (g *gather) reply() Reply {
	var r Reply
	if g.agg != nil {
		r.Signature = g.agg.Encode()
	}
	for _, m := range sortedKeys(g.refusal) {
		ref := g.refusal[m]
		r.Refusals = append(r.Refusals, RefusalMsg{Member: int32(m), Reason: ref.Reason, Signature: ref.Signature.Encode()})
	}
	for _, m := range sortedKeys(g.failure) {
		r.Failures = append(r.Failures, FailureMsg{Member: int32(m), Reason: g.failure[m]})
	}
	return r
}

// refusals lists the recorded refusals, all verified, in member order.
func (g *gather) refusals() []Refusal {
	var out []Refusal
	for _, m := range sortedKeys(g.refusal) {
		out = append(out, g.refusal[m])
	}
	return out
}

func (g *gather) failures() []Failure {
	var out []Failure
	for _, m := range sortedKeys(g.failure) {
		out = append(out, Failure{Member: m, Reason: g.failure[m]})
	}
	return out
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}
