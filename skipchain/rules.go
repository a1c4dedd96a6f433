package skipchain

import "fmt"

// The chain rules are pure functions over headers, rosters and links: no storage, no
// clock. Stores, nodes and monitors all call these same functions.

// CheckSuccessor checks that next is a valid new block of the chain that starts at
// genesis. back holds the headers next must link back to, at the positions
// Params.LinksInto(next.Index()) gives, lowest level first; back[0] is the previous
// block. The error says which rule failed and wraps ErrInvalidBlock.
func CheckSuccessor(genesis *Header, back []*Header, next *Header) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: block %d: %s", ErrInvalidBlock, next.index, fmt.Sprintf(format, args...))
	}
	if genesis.index != 0 {
		return fail("the genesis given has index %d", genesis.index)
	}
	if next.index == 0 {
		return fail("a genesis cannot follow another block")
	}
	if next.params != genesis.params {
		return fail("parameters %+v, the genesis has %+v", next.params, genesis.params)
	}
	if next.genesis != genesis.ID() {
		return fail("genesis %s, the chain's is %s", next.genesis.Short(), genesis.ID().Short())
	}
	if err := next.check(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidBlock, err)
	}
	want := next.params.LinksInto(next.index)
	if len(back) != len(want) {
		return fail("%d back-link blocks given for height %d", len(back), len(want))
	}
	for level, pos := range want {
		b := back[level]
		if b.index != pos.From {
			return fail("back-link %d given block %d, want block %d", level, b.index, pos.From)
		}
		if b.Genesis() != genesis.ID() {
			return fail("back-link %d reaches block %d of another chain", level, b.index)
		}
		if next.backLinks[level] != b.ID() {
			return fail("back-link %d is %s, block %d is %s", level, next.backLinks[level].Short(), b.index, b.ID().Short())
		}
	}
	prev := back[0]
	switch {
	case next.rosterID == prev.rosterID && next.rosterSince != prev.rosterSince:
		return fail("roster unchanged but introduced at block %d, the previous block says %d", next.rosterSince, prev.rosterSince)
	case next.rosterID != prev.rosterID && next.rosterSince != next.index:
		return fail("new roster but introduced at block %d", next.rosterSince)
	}
	return nil
}

// Level returns the link's level in a chain with parameters p: the ℓ with
// ToIndex − FromIndex = B^ℓ, which must be below the from block's height.
func (l *ForwardLink) Level(p Params) (int, error) {
	level, ok := p.levelOf(l.fromIndex, l.toIndex)
	if !ok {
		return 0, fmt.Errorf("%w: no level links block %d to block %d with base %d and maximum height %d",
			ErrInvalidLink, l.fromIndex, l.toIndex, p.Base, p.MaxHeight)
	}
	return level, nil
}

// CheckLink checks that l links from to to: the endpoints' IDs and indices, a level
// both blocks have, the target's roster ID, and the collective signature by from's
// roster under its threshold. A link whose roster ID differs from from's is a roster
// change, authorised by that signature. The error wraps ErrInvalidLink.
func CheckLink(from *Block, to *Header, l *ForwardLink) error {
	fh := from.header
	switch {
	case l.from != fh.ID() || l.fromIndex != fh.index:
		return fmt.Errorf("%w: leaves block %d (%s), want block %d (%s)", ErrInvalidLink, l.fromIndex, l.from.Short(), fh.index, fh.ID().Short())
	case l.to != to.ID() || l.toIndex != to.index:
		return fmt.Errorf("%w: reaches block %d (%s), want block %d (%s)", ErrInvalidLink, l.toIndex, l.to.Short(), to.index, to.ID().Short())
	case l.rosterID != to.rosterID:
		return fmt.Errorf("%w: %d→%d names roster %s, block %d has %s", ErrInvalidLink, l.fromIndex, l.toIndex, l.rosterID.Short(), to.index, to.rosterID.Short())
	case fh.params != to.params || fh.Genesis() != to.Genesis():
		return fmt.Errorf("%w: %d→%d joins blocks of different chains", ErrInvalidLink, l.fromIndex, l.toIndex)
	}
	if _, err := l.Level(fh.params); err != nil {
		return err
	}
	return VerifyLinkSignature(from.roster, l)
}

// VerifyLinkSignature checks only the collective signature of l by roster, which the
// caller vouches is the from block's roster.
func VerifyLinkSignature(roster *Roster, l *ForwardLink) error {
	if err := roster.verify(l.SignedMessage(), l.sig); err != nil {
		return fmt.Errorf("%w: %d→%d: signature by roster %s: %w", ErrInvalidLink, l.fromIndex, l.toIndex, roster.ID().Short(), err)
	}
	return nil
}
