package skipchain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// IDSize is the size of block and roster IDs: SHA-256 digests.
const IDSize = sha256.Size

// ID names a block header or a roster: the SHA-256 of its canonical encoding.
type ID [IDSize]byte

// IsZero reports whether id is all zeros, the genesis field of a genesis header.
func (id ID) IsZero() bool { return id == ID{} }

// String returns the ID in hex.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Short returns the first 8 hex digits, for error messages.
func (id ID) Short() string { return hex.EncodeToString(id[:4]) }

// MarshalText encodes the ID in hex.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText decodes a hex ID.
func (id *ID) UnmarshalText(text []byte) error {
	if len(text) != 2*IDSize {
		return fmt.Errorf("skipchain: id: %d hex digits, want %d", len(text), 2*IDSize)
	}
	var out ID
	if _, err := hex.Decode(out[:], text); err != nil {
		return fmt.Errorf("skipchain: id: %w", err)
	}
	*id = out
	return nil
}

func hashOf(b []byte) ID { return sha256.Sum256(b) }
