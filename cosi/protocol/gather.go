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
// only if that fails, halves of them until the bad ones are found.
type gather struct {
	// descend is set at a root that lets its sub-leaders forward unchecked sums: a
	// sum that does not verify then blames nobody yet, since any member under its
	// sender may have sent the bad share; the caller asks the sender alone and its
	// children again. Only a partial its sender sent for itself alone blames it.
	descend bool
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
	sender int  // the member whose reply carried it
	alone  bool // the sender was asked for itself only, not for a subtree
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
	g.pending = append(g.pending, partialFrom{sig: sig, sender: sender, alone: len(allowed) == 1, refusals: refusals, failures: failures})
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
// returns the partials that did not verify: their other members are released, so
// that the caller can ask them again directly, and their sender is recorded as failed
// (unless descend is set and the sender answered for a subtree: then it is released
// too).
//
// Cost: one pairing check when everything verifies; otherwise the partials are
// halved until each bad one stands alone, about 2·log₂(partials) checks per bad one
// instead of one per partial.
func (g *gather) settle() []partialFrom {
	if len(g.pending) == 0 {
		return nil
	}
	pending := g.pending
	g.pending = nil
	base := []*cosi.Signature{}
	if g.agg != nil {
		base = append(base, g.agg)
	}
	if sum, ok := g.verifies(base, pending); ok {
		g.agg = sum
		for _, p := range pending {
			g.record(p.refusals, p.failures)
		}
		return nil
	}
	// Someone sent a bad share: find it, keep the rest.
	good, rejected := g.bisect(pending)
	if len(good) > 0 {
		// Each group of good partials verified on its own, so their sum does too.
		if sum, ok := g.sum(base, good); ok {
			g.agg = sum
		}
		for _, p := range good {
			g.record(p.refusals, p.failures)
		}
	}
	for _, p := range rejected {
		// The whole reply goes: its members can be asked again.
		for m := range p.members() {
			delete(g.claimed, m)
		}
		if !g.descend || p.alone {
			g.fail(p.sender, "signature share does not verify")
		}
	}
	return rejected
}

// bisect splits parts, whose sum does not verify, into the groups that verify and the
// single partials that do not.
func (g *gather) bisect(parts []partialFrom) (good, bad []partialFrom) {
	if len(parts) == 1 {
		return nil, parts
	}
	half := len(parts) / 2
	for _, group := range [][]partialFrom{parts[:half], parts[half:]} {
		if _, ok := g.verifies(nil, group); ok {
			good = append(good, group...)
			continue
		}
		gg, bb := g.bisect(group)
		good, bad = append(good, gg...), append(bad, bb...)
	}
	return good, bad
}

// sum adds base and the partials' signatures; false if their masks overlap.
func (g *gather) sum(base []*cosi.Signature, parts []partialFrom) (*cosi.Signature, bool) {
	all := append(append(make([]*cosi.Signature, 0, len(base)+len(parts)), base...), partialSigs(parts)...)
	sum, err := cosi.Aggregate(all...)
	return sum, err == nil
}

// verifies reports whether the sum of base and parts is a valid partial signature.
func (g *gather) verifies(base []*cosi.Signature, parts []partialFrom) (*cosi.Signature, bool) {
	sum, ok := g.sum(base, parts)
	if !ok || cosi.VerifyPartial(g.roster, g.msg, sum) != nil {
		return nil, false
	}
	return sum, true
}

func partialSigs(parts []partialFrom) []*cosi.Signature {
	out := make([]*cosi.Signature, len(parts))
	for i, p := range parts {
		out[i] = p.sig
	}
	return out
}

// forward folds the pending partials into the aggregate without verifying them: a
// sub-leader of an optimistic round leaves that to the root. Refusals were verified on
// arrival; failures stay hearsay, which the root asks about again.
func (g *gather) forward() {
	if len(g.pending) == 0 {
		return
	}
	parts := partialSigs(g.pending)
	if g.agg != nil {
		parts = append([]*cosi.Signature{g.agg}, parts...)
	}
	// addReply refused overlapping masks, so the sum cannot fail.
	if sum, err := cosi.Aggregate(parts...); err == nil {
		g.agg = sum
	}
	for _, p := range g.pending {
		g.record(p.refusals, p.failures)
	}
	g.pending = nil
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
