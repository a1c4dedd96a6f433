package timeline

import (
	"errors"
	"fmt"
	"time"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/skipchain"
)

// Domain tags of a timestamp: the statement the roster signs, and the encoding that
// carries it with the signature.
const (
	tagTimestamp       = "chainiac/v1/timestamp"
	tagSignedTimestamp = "chainiac/v1/signed-timestamp"
)

// MaxTimestampSize bounds an encoded timestamp.
const MaxTimestampSize = 1 + len(tagSignedTimestamp) + 4 + timestampMessageSize + 4 + cosi.MaxSignatureSize

const timestampMessageSize = 1 + len(tagTimestamp) + 3*skipchain.IDSize + 2*8

// ErrInvalidTimestamp is wrapped by every timestamp that does not decode, is not
// signed by the roster it names, or does not describe the header it is checked
// against.
var ErrInvalidTimestamp = errors.New("timeline: invalid timestamp")

// Timestamp is the roster's statement that at Time the newest block of the chain
// Genesis was block Index with ID Head. It is signed by the roster in force at that
// block (RosterID), so a client that already trusts that roster learns the head with
// one signature check, whatever the number of blocks it missed; and since it is
// renewed at a fixed interval, a mirror that serves an old chain (a freeze) is caught
// by the timestamp's age.
type Timestamp struct {
	Genesis   skipchain.ID
	Index     uint64
	Head      skipchain.ID
	RosterID  skipchain.ID
	Time      time.Time // whole seconds, UTC
	Signature *cosi.Signature
}

// NewTimestamp returns the unsigned statement that head was the newest block at t
// (rounded down to the second).
func NewTimestamp(head *skipchain.Header, t time.Time) *Timestamp {
	return &Timestamp{
		Genesis:  genesisOf(head),
		Index:    head.Index(),
		Head:     head.ID(),
		RosterID: head.RosterID(),
		Time:     time.Unix(t.Unix(), 0).UTC(),
	}
}

func genesisOf(h *skipchain.Header) skipchain.ID {
	if h.Index() == 0 {
		return h.ID()
	}
	return h.Genesis()
}

// Message returns the bytes the roster signs:
//
//	tag "chainiac/v1/timestamp" ‖ genesis ‖ u64 index ‖ head ID ‖ roster ID ‖ u64 time (Unix seconds)
func (t *Timestamp) Message() []byte {
	return wire.NewEncoder(tagTimestamp).
		Fixed(t.Genesis[:]).
		Uint64(t.Index).
		Fixed(t.Head[:]).
		Fixed(t.RosterID[:]).
		Uint64(uint64(t.Time.Unix())).
		Out()
}

// Encode returns the signed timestamp:
//
//	tag "chainiac/v1/signed-timestamp" ‖ bytes message ‖ bytes collective signature
func (t *Timestamp) Encode() []byte {
	return wire.NewEncoder(tagSignedTimestamp).Bytes(t.Message()).Bytes(t.Signature.Encode()).Out()
}

// ParseTimestamp decodes a signed timestamp strictly. It does not verify the
// signature: see Verify.
func ParseTimestamp(b []byte) (*Timestamp, error) {
	if len(b) > MaxTimestampSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidTimestamp, len(b), MaxTimestampSize)
	}
	d := wire.NewDecoder(b, tagSignedTimestamp)
	msg := d.Field("message").Bytes(timestampMessageSize)
	sig := d.Field("signature").Bytes(cosi.MaxSignatureSize)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidTimestamp, err)
	}
	t, err := ParseTimestampMessage(msg)
	if err != nil {
		return nil, err
	}
	if t.Signature, err = cosi.ParseSignature(sig); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidTimestamp, err)
	}
	return t, nil
}

// ParseTimestampMessage decodes the statement a roster is asked to sign (Message),
// without a signature: what a member checks before it signs.
func ParseTimestampMessage(msg []byte) (*Timestamp, error) {
	if len(msg) > timestampMessageSize {
		return nil, fmt.Errorf("%w: message of %d bytes, at most %d", ErrInvalidTimestamp, len(msg), timestampMessageSize)
	}
	t := &Timestamp{}
	m := wire.NewDecoder(msg, tagTimestamp)
	m.Field("genesis").Fixed(t.Genesis[:])
	t.Index = m.Field("index").Uint64()
	m.Field("head").Fixed(t.Head[:])
	m.Field("roster").Fixed(t.RosterID[:])
	secs := m.Field("time").Uint64()
	if err := m.Finish(); err != nil {
		return nil, fmt.Errorf("%w: message: %w", ErrInvalidTimestamp, err)
	}
	if secs > maxUnixSeconds {
		return nil, fmt.Errorf("%w: time %d after year 9999", ErrInvalidTimestamp, secs)
	}
	t.Time = time.Unix(int64(secs), 0).UTC()
	return t, nil
}

// maxUnixSeconds is the last second of year 9999, so every time prints as a date.
const maxUnixSeconds = 253402300799

// Verify checks that roster is the one the timestamp names and that a threshold of it
// signed the statement.
func (t *Timestamp) Verify(roster *skipchain.Roster) error {
	if roster.ID() != t.RosterID {
		return fmt.Errorf("%w: signed by roster %s, not by roster %s", ErrInvalidTimestamp, t.RosterID.Short(), roster.ID().Short())
	}
	if t.Signature == nil {
		return fmt.Errorf("%w: no signature", ErrInvalidTimestamp)
	}
	if err := roster.Verify(t.Message(), t.Signature); err != nil {
		return fmt.Errorf("%w: block %d: %w", ErrInvalidTimestamp, t.Index, err)
	}
	return nil
}

// Describes checks that h is the header the timestamp names: same ID, index, chain and
// roster. Since h's ID is its hash, a header that passes is the very block the roster
// signed for.
func (t *Timestamp) Describes(h *skipchain.Header) error {
	switch {
	case h.ID() != t.Head:
		return fmt.Errorf("%w: names block %s, not %s", ErrInvalidTimestamp, t.Head.Short(), h.ID().Short())
	case h.Index() != t.Index:
		return fmt.Errorf("%w: names index %d, the header has %d", ErrInvalidTimestamp, t.Index, h.Index())
	case genesisOf(h) != t.Genesis:
		return fmt.Errorf("%w: names chain %s, the header is of chain %s", ErrInvalidTimestamp, t.Genesis.Short(), genesisOf(h).Short())
	case h.RosterID() != t.RosterID:
		return fmt.Errorf("%w: names roster %s, the header has roster %s", ErrInvalidTimestamp, t.RosterID.Short(), h.RosterID().Short())
	}
	return nil
}

// Age is how old the timestamp is at now; negative when it is from the future.
func (t *Timestamp) Age(now time.Time) time.Duration { return now.Sub(t.Time) }
