package skipchain

import "errors"

// Conditions callers branch on. Errors from this package wrap one of these with the
// details (which block, which level, which field).
var (
	// ErrMalformed: bytes that do not decode, or a value that breaks an encoding rule.
	ErrMalformed = errors.New("skipchain: malformed encoding")
	// ErrInvalidBlock: a block that is not a valid successor in its chain.
	ErrInvalidBlock = errors.New("skipchain: invalid block")
	// ErrInvalidLink: a forward link whose endpoints, level, roster or signature
	// do not check out.
	ErrInvalidLink = errors.New("skipchain: invalid forward link")
	// ErrInvalidProof: an update proof that does not lead from the trusted block to a
	// collectively signed head.
	ErrInvalidProof = errors.New("skipchain: invalid update proof")
	// ErrUnknownBlock: no block is stored at that index.
	ErrUnknownBlock = errors.New("skipchain: unknown block")
	// ErrUnknownLink: no forward link is stored at that position.
	ErrUnknownLink = errors.New("skipchain: unknown forward link")
	// ErrUnknownRoster: no roster with that ID is stored.
	ErrUnknownRoster = errors.New("skipchain: unknown roster")
	// ErrGap: a block that does not directly follow the stored head.
	ErrGap = errors.New("skipchain: block does not follow the head")
	// ErrNoPath: the stored forward links do not reach the head.
	ErrNoPath = errors.New("skipchain: no path of forward links to the head")
	// ErrCorrupt: stored data that fails its integrity checks.
	ErrCorrupt = errors.New("skipchain: corrupt store")
	// ErrGenesisMismatch: data that belongs to another chain.
	ErrGenesisMismatch = errors.New("skipchain: different genesis")
	// ErrInvalidEvidence: fork evidence that does not prove a fork.
	ErrInvalidEvidence = errors.New("skipchain: invalid fork evidence")
	// ErrClosed: use of a closed store.
	ErrClosed = errors.New("skipchain: store is closed")
)
