package skipchain

import (
	"bytes"
	"fmt"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/wire"
)

const (
	linkMessageTag = "chainiac/v1/forward-link"
	linkTag        = "chainiac/v1/link"
	// MaxLinkSize bounds an encoded forward link.
	MaxLinkSize = 1 + len(linkTag) + 3*IDSize + 2*8 + 4 + cosi.MaxSignatureSize
)

// LinkMessage is what the roster of the from block signs to link it to the block
// with ID to at index toIndex whose roster is rosterID:
//
//	tag "chainiac/v1/forward-link" ‖ from ‖ to ‖ u64 toIndex ‖ rosterID
//
// rosterID is always the target's roster, equal to the signers' own roster when it
// does not change: a roster change is thereby authorised by the old roster, and an
// update proof needs no intermediate header to learn the next roster.
func LinkMessage(from, to ID, toIndex uint64, rosterID ID) []byte {
	return wire.NewEncoder(linkMessageTag).Fixed(from[:]).Fixed(to[:]).Uint64(toIndex).Fixed(rosterID[:]).Out()
}

// ParseLinkMessage reads a LinkMessage back, strictly: what a member asked to sign
// decodes it to know which link it is.
func ParseLinkMessage(msg []byte) (from, to ID, toIndex uint64, rosterID ID, err error) {
	d := wire.NewDecoder(msg, linkMessageTag)
	d.Field("from").Fixed(from[:])
	d.Field("to").Fixed(to[:])
	toIndex = d.Field("to index").Uint64()
	d.Field("roster").Fixed(rosterID[:])
	if err = d.Finish(); err != nil {
		err = fmt.Errorf("%w: link message: %w", ErrMalformed, err)
	}
	return from, to, toIndex, rosterID, err
}

// ForwardLink is the from block's roster's collective signature that the block at
// ToIndex with ID To, signed for by roster RosterID, follows it.
type ForwardLink struct {
	from      ID
	fromIndex uint64
	to        ID
	toIndex   uint64
	rosterID  ID
	sig       *cosi.Signature
}

// NewForwardLink joins a signature to the link it signs. It checks only the
// direction; CheckLink checks the rest.
func NewForwardLink(from, to *Header, sig *cosi.Signature) (*ForwardLink, error) {
	if sig == nil {
		return nil, fmt.Errorf("%w: no signature", ErrInvalidLink)
	}
	if to.index <= from.index {
		return nil, fmt.Errorf("%w: from block %d to block %d", ErrInvalidLink, from.index, to.index)
	}
	return &ForwardLink{from: from.ID(), fromIndex: from.index, to: to.ID(), toIndex: to.index, rosterID: to.rosterID, sig: sig}, nil
}

// SignedMessage returns the bytes the signature covers.
func (l *ForwardLink) SignedMessage() []byte {
	return LinkMessage(l.from, l.to, l.toIndex, l.rosterID)
}

// From is the ID of the block the link leaves.
func (l *ForwardLink) From() ID { return l.from }

// FromIndex is the index of the block the link leaves.
func (l *ForwardLink) FromIndex() uint64 { return l.fromIndex }

// To is the ID of the block the link reaches.
func (l *ForwardLink) To() ID { return l.to }

// ToIndex is the index of the block the link reaches.
func (l *ForwardLink) ToIndex() uint64 { return l.toIndex }

// RosterID is the roster of the target block.
func (l *ForwardLink) RosterID() ID { return l.rosterID }

// Signature returns the collective signature.
func (l *ForwardLink) Signature() *cosi.Signature { return l.sig }

// sameStatement reports whether two links say the same thing, possibly with
// different sets of signers.
func (l *ForwardLink) sameStatement(o *ForwardLink) bool {
	return l.from == o.from && l.fromIndex == o.fromIndex && l.to == o.to && l.toIndex == o.toIndex && l.rosterID == o.rosterID
}

// Equal reports whether two links have the same encoding.
func (l *ForwardLink) Equal(o *ForwardLink) bool { return bytes.Equal(l.Encode(), o.Encode()) }

// Encode returns the canonical encoding:
//
//	tag "chainiac/v1/link" ‖ from ‖ u64 fromIndex ‖ to ‖ u64 toIndex ‖ rosterID ‖ bytes signature
func (l *ForwardLink) Encode() []byte {
	return wire.NewEncoder(linkTag).Fixed(l.from[:]).Uint64(l.fromIndex).Fixed(l.to[:]).Uint64(l.toIndex).
		Fixed(l.rosterID[:]).Bytes(l.sig.Encode()).Out()
}

// ParseForwardLink decodes a link strictly. It does not verify the signature.
func ParseForwardLink(b []byte) (*ForwardLink, error) {
	if len(b) > MaxLinkSize {
		return nil, fmt.Errorf("%w: link of %d bytes exceeds %d", ErrMalformed, len(b), MaxLinkSize)
	}
	var l ForwardLink
	d := wire.NewDecoder(b, linkTag)
	d.Field("from").Fixed(l.from[:])
	l.fromIndex = d.Field("from index").Uint64()
	d.Field("to").Fixed(l.to[:])
	l.toIndex = d.Field("to index").Uint64()
	d.Field("roster").Fixed(l.rosterID[:])
	sb := d.Field("signature").Bytes(cosi.MaxSignatureSize)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: link: %w", ErrMalformed, err)
	}
	if l.toIndex <= l.fromIndex {
		return nil, fmt.Errorf("%w: link from block %d to block %d", ErrMalformed, l.fromIndex, l.toIndex)
	}
	sig, err := cosi.ParseSignature(sb)
	if err != nil {
		return nil, fmt.Errorf("%w: link signature: %w", ErrMalformed, err)
	}
	l.sig = sig
	return &l, nil
}
