package cosi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/chainiac/chainiac/internal/wire"
)

// Domain tags of what this file hashes and signs.
const (
	rosterTag  = "chainiac/v1/cosi-roster"
	refusalTag = "chainiac/v1/cosi-refusal"
)

// MaxReasonSize bounds a refusal's reason, in bytes of UTF-8.
const MaxReasonSize = 256

// ErrRefusal: a refusal that is malformed (bad reason, not exactly one signer) or does
// not verify under its member's key for the given roster, round and message.
var ErrRefusal = errors.New("cosi: invalid refusal")

// RosterID names a roster by its keys: the SHA-256 of
//
//	tag   "chainiac/v1/cosi-roster"
//	list  keys, each fixed[128] in roster order
//
// Two rosters with the same keys in the same order have the same ID, whatever the
// application calls them.
type RosterID [32]byte

// ID returns the roster's ID.
func (r *Roster) ID() RosterID { return r.id }

func rosterID(keys []PublicKey) RosterID {
	e := wire.NewEncoder(rosterTag).Count(len(keys))
	for _, k := range keys {
		e.Fixed(k.raw[:])
	}
	return sha256.Sum256(e.Out())
}

// String returns the ID in hex.
func (id RosterID) String() string { return hex.EncodeToString(id[:]) }

// MarshalText encodes the ID in hex.
func (id RosterID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText decodes a hex ID.
func (id *RosterID) UnmarshalText(text []byte) error {
	return unmarshalID(id[:], text, "roster ID")
}

// RoundID names one signing round. Whoever starts a round chooses it, fresh for every
// round (NewRoundID), so that a refusal signed in one round cannot be passed off as a
// refusal in another, even of the same message by the same roster.
type RoundID [32]byte

// NewRoundID draws a round ID from rand (crypto/rand.Reader in a node, a
// deterministic reader in tests).
func NewRoundID(rand io.Reader) (RoundID, error) {
	var id RoundID
	if rand == nil {
		return id, errors.New("cosi: nil random source")
	}
	if _, err := io.ReadFull(rand, id[:]); err != nil {
		return id, fmt.Errorf("cosi: reading randomness: %w", err)
	}
	return id, nil
}

// String returns the ID in hex.
func (id RoundID) String() string { return hex.EncodeToString(id[:]) }

// MarshalText encodes the ID in hex.
func (id RoundID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText decodes a hex ID.
func (id *RoundID) UnmarshalText(text []byte) error {
	return unmarshalID(id[:], text, "round ID")
}

func unmarshalID(dst, text []byte, what string) error {
	if len(text) != 2*len(dst) {
		return fmt.Errorf("cosi: %s: %d hex digits, want %d", what, len(text), 2*len(dst))
	}
	if _, err := hex.Decode(dst, text); err != nil {
		return fmt.Errorf("cosi: %s: %w", what, err)
	}
	return nil
}

// refusalMessage is what a refusing member signs (docs/wire-format.md):
//
//	tag     "chainiac/v1/cosi-refusal"
//	fixed   roster ID, 32 bytes
//	fixed   round ID, 32 bytes
//	fixed   SHA-256 of the refused message, 32 bytes
//	string  reason, at most MaxReasonSize bytes of UTF-8
//
// The tag keeps a refusal from ever passing for a signature on a message (every
// message chainiac signs starts with another tag).
func refusalMessage(roster RosterID, round RoundID, msg []byte, reason string) []byte {
	h := sha256.Sum256(msg)
	return wire.NewEncoder(refusalTag).Fixed(roster[:]).Fixed(round[:]).Fixed(h[:]).String(reason).Out()
}

func checkReason(reason string) error {
	if len(reason) > MaxReasonSize {
		return fmt.Errorf("%w: reason of %d bytes, at most %d", ErrRefusal, len(reason), MaxReasonSize)
	}
	if !utf8.ValidString(reason) {
		return fmt.Errorf("%w: reason is not UTF-8", ErrRefusal)
	}
	return nil
}

// Refuse signs this key's refusal to sign msg in round by roster r, for reason. The
// result is a one-member Signature over the refusal message, with the member's BDN
// weight like a share, so it verifies with VerifyRefusal.
func (k *PrivateKey) Refuse(r *Roster, round RoundID, msg []byte, reason string) (*Signature, error) {
	if err := checkReason(reason); err != nil {
		return nil, err
	}
	return k.Sign(r, refusalMessage(r.id, round, msg, reason))
}

// VerifyRefusal checks that sig is one member's refusal to sign msg in round by roster
// r, for reason, and returns that member's index in r. It needs nothing but these
// values: a refusal handed to whoever asked for the signature can be checked offline.
// Errors wrap ErrRefusal, or ErrBitmapLength for a mask over another roster size.
func VerifyRefusal(r *Roster, round RoundID, msg []byte, reason string, sig *Signature) (int, error) {
	if err := checkReason(reason); err != nil {
		return 0, err
	}
	if sig.mask.n != r.Len() {
		return 0, fmt.Errorf("bitmap of %d members for a roster of %d: %w", sig.mask.n, r.Len(), ErrBitmapLength)
	}
	members := sig.mask.Members()
	if len(members) != 1 {
		return 0, fmt.Errorf("%w: %d signers, a refusal has one", ErrRefusal, len(members))
	}
	if err := VerifyPartial(r, refusalMessage(r.id, round, msg, reason), sig); err != nil {
		return 0, fmt.Errorf("%w: member %d: %w", ErrRefusal, members[0], err)
	}
	return members[0], nil
}
