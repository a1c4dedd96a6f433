package monitor

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/skipchain"
)

// Domain tags of a monitor checkpoint: the statement the monitor signs, and the
// encoding that carries it with the key and signature.
const (
	tagCheckpoint       = "chainiac/v1/monitor-checkpoint"
	tagSignedCheckpoint = "chainiac/v1/signed-monitor-checkpoint"
)

// checkpointMessageSize is the exact size of a checkpoint message.
const checkpointMessageSize = 1 + len(tagCheckpoint) + skipchain.IDSize + 8 + skipchain.IDSize + 8

// MaxCheckpointSize is the exact size of an encoded signed checkpoint; anything
// longer is refused before it is read.
const MaxCheckpointSize = 1 + len(tagSignedCheckpoint) + ed25519.PublicKeySize + 4 + checkpointMessageSize + ed25519.SignatureSize

// maxUnixSeconds is the last second of year 9999, as for timestamps.
const maxUnixSeconds = 253402300799

// ErrInvalidCheckpoint is wrapped by every checkpoint that does not decode or whose
// signature does not verify.
var ErrInvalidCheckpoint = errors.New("monitor: invalid checkpoint")

// Checkpoint is a monitor's signed statement that at Time it had verified the chain
// Genesis up to block Index, whose ID is Head. It is signed with the monitor's own
// Ed25519 key: it proves what that monitor saw, nothing about the cothority. Two
// monitors whose checkpoints name different blocks at one index saw different chains
// (a split view), and at least one of them was shown a fork or lies.
type Checkpoint struct {
	Genesis   skipchain.ID
	Index     uint64
	Head      skipchain.ID
	Time      time.Time // whole seconds, UTC
	Key       ed25519.PublicKey
	Signature []byte
}

// Message returns the bytes the monitor signs:
//
//	tag "chainiac/v1/monitor-checkpoint" ‖ genesis ‖ u64 index ‖ head ID ‖ u64 time (Unix seconds)
func (c *Checkpoint) Message() []byte {
	return wire.NewEncoder(tagCheckpoint).Fixed(c.Genesis[:]).Uint64(c.Index).Fixed(c.Head[:]).
		Uint64(uint64(c.Time.Unix())).Out()
}

// Encode returns the signed checkpoint:
//
//	tag "chainiac/v1/signed-monitor-checkpoint" ‖ fixed[32] Ed25519 public key ‖
//	bytes message ‖ fixed[64] Ed25519 signature of the message
func (c *Checkpoint) Encode() []byte {
	return wire.NewEncoder(tagSignedCheckpoint).Fixed(c.Key).Bytes(c.Message()).Fixed(c.Signature).Out()
}

// SignCheckpoint makes the checkpoint of head at t (rounded down to the second),
// signed with key.
func SignCheckpoint(key ed25519.PrivateKey, head *skipchain.Header, t time.Time) *Checkpoint {
	c := &Checkpoint{Genesis: head.Genesis(), Index: head.Index(), Head: head.ID(),
		Time: time.Unix(t.Unix(), 0).UTC(), Key: key.Public().(ed25519.PublicKey)}
	c.Signature = ed25519.Sign(key, c.Message())
	return c
}

// ParseCheckpoint decodes a signed checkpoint strictly and verifies its signature
// under the key it carries. Whether that key is one the caller trusts is the
// caller's decision (Peer.Key).
func ParseCheckpoint(b []byte) (*Checkpoint, error) {
	if len(b) > MaxCheckpointSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidCheckpoint, len(b), MaxCheckpointSize)
	}
	c := &Checkpoint{Key: make(ed25519.PublicKey, ed25519.PublicKeySize), Signature: make([]byte, ed25519.SignatureSize)}
	d := wire.NewDecoder(b, tagSignedCheckpoint)
	d.Field("key").Fixed(c.Key)
	msg := d.Field("message").Bytes(checkpointMessageSize)
	d.Field("signature").Fixed(c.Signature)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCheckpoint, err)
	}
	m := wire.NewDecoder(msg, tagCheckpoint)
	m.Field("genesis").Fixed(c.Genesis[:])
	c.Index = m.Field("index").Uint64()
	m.Field("head").Fixed(c.Head[:])
	secs := m.Field("time").Uint64()
	if err := m.Finish(); err != nil {
		return nil, fmt.Errorf("%w: message: %w", ErrInvalidCheckpoint, err)
	}
	if secs > maxUnixSeconds {
		return nil, fmt.Errorf("%w: time %d after year 9999", ErrInvalidCheckpoint, secs)
	}
	c.Time = time.Unix(int64(secs), 0).UTC()
	if c.Genesis.IsZero() || c.Head.IsZero() || (c.Index == 0 && c.Head != c.Genesis) {
		return nil, fmt.Errorf("%w: genesis %s, block %d %s", ErrInvalidCheckpoint, c.Genesis.Short(), c.Index, c.Head.Short())
	}
	if !ed25519.Verify(c.Key, msg, c.Signature) {
		return nil, fmt.Errorf("%w: signature does not verify under key %x", ErrInvalidCheckpoint, []byte(c.Key))
	}
	return c, nil
}
