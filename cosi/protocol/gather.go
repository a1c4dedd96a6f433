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
	msg     []byte
	agg     *cosi.Signature // verified partials so far, nil if none
	pending []partialFrom   // added since the last settle
	claimed map[int]bool    // members counted in agg, pending, refusals or failures
	refusal map[int]RefusalMsg
	failure map[int]string
}

type partialFrom struct {
	sig    *cosi.Signature
	sender int // the member whose reply carried it
	// What the same reply said of the sender's other members. It is as credible as the
	// partial: recorded when the partial verifies, released with it when it does not.
	refusals []RefusalMsg
	failures []FailureMsg
}

func newGather(r *cosi.Roster, msg []byte) *gather {
	return &gather{
		roster:  r,
		msg:     msg,
		claimed: map[int]bool{},
		refusal: map[int]RefusalMsg{},
		failure: map[int]string{},
	}
}

// addReply records sender's reply: its partial signature (nil if nobody signed), and
// the refusals and failures it reports. allowed is the set of members the sender may
// speak for (its subtree); a reply naming anyone else, or anyone already counted, is
// refused and nothing of it is recorded. With a partial, the whole reply waits for
// settle; without one, the refusals and failures are recorded at once.
func (g *gather) addReply(sender int, allowed map[int]bool, sig *cosi.Signature, refusals []RefusalMsg, failures []FailureMsg) error {
	var members []int
	if sig != nil {
		if sig.Mask().Len() != g.roster.Len() {
			return errors.New("partial signature over a different roster")
		}
		members = sig.Mask().Members()
	}
	for _, r := range refusals {
		members = append(members, int(r.Member))
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
func (g *gather) record(refusals []RefusalMsg, failures []FailureMsg) {
	for _, r := range refusals {
		r.Reason = truncateReason(r.Reason)
		g.refusal[int(r.Member)] = r
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
		out[int(r.Member)] = true
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

// addRefusal records a refusal as reported; the root verifies refusals before it
// reports them (verifyRefusals).
func (g *gather) addRefusal(allowed map[int]bool, r RefusalMsg) bool {
	m := int(r.Member)
	if !allowed[m] || g.claimed[m] {
		return false
	}
	g.claimed[m] = true
	r.Reason = truncateReason(r.Reason)
	g.refusal[m] = r
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
		r.Refusals = append(r.Refusals, g.refusal[m])
	}
	for _, m := range sortedKeys(g.failure) {
		r.Failures = append(r.Failures, FailureMsg{Member: int32(m), Reason: g.failure[m]})
	}
	return r
}

// verifiedRefusals checks every reported refusal's signature. A refusal that does not
// verify becomes a failure of that member: a parent cannot make a member refuse.
func (g *gather) verifiedRefusals() []Refusal {
	var out []Refusal
	for _, m := range sortedKeys(g.refusal) {
		r := g.refusal[m]
		sig, err := cosi.ParseSignature(r.Signature)
		ok := err == nil && sig.Mask().Count() == 1 && sig.Mask().Has(m) &&
			cosi.VerifyPartial(g.roster, refusalMessage(g.msg, r.Reason), sig) == nil
		if !ok {
			delete(g.refusal, m)
			delete(g.claimed, m)
			g.fail(m, "refusal with an invalid signature")
			continue
		}
		out = append(out, Refusal{Member: m, Key: g.roster.Key(m), Reason: r.Reason})
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
