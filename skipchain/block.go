package skipchain

import (
	"crypto/sha256"
	"fmt"

	"github.com/chainiac/chainiac/internal/wire"
)

const (
	headerTag = "chainiac/v1/block"
	blockTag  = "chainiac/v1/block-data"

	// HeaderVersion is the only header version this package writes and reads.
	HeaderVersion = 1
	// MaxPayloadKindLen bounds the payload kind, a short ASCII name.
	MaxPayloadKindLen = 64
	// MaxPayloadSize bounds a block's payload (a release manifest).
	MaxPayloadSize = 8 << 20
	// MaxHeaderSize bounds an encoded header: the tag, the fixed fields, the most
	// back-links and the longest payload kind.
	MaxHeaderSize = 1 + len(headerTag) + 2 + 8 + 3*4 + 4 + MaxMaxHeight*IDSize + 2*IDSize + 8 + 4 + MaxPayloadKindLen + IDSize
	// MaxBlockSize bounds an encoded full block.
	MaxBlockSize = 1 + len(blockTag) + 3*4 + MaxHeaderSize + MaxRosterEncodedSize + MaxPayloadSize
)

// Header is what a block's ID covers. It commits to the roster by its ID and to the
// payload by its SHA-256, so that update proofs can carry headers without rosters and
// payloads. Headers are immutable; obtain them from NewGenesis, NewBlock or
// ParseHeader.
type Header struct {
	index       uint64
	params      Params
	height      uint32
	backLinks   []ID
	genesis     ID
	rosterID    ID
	rosterSince uint64
	kind        string
	payloadHash ID

	encoded []byte
	id      ID
}

// Index is the block's position: 0 for the genesis.
func (h *Header) Index() uint64 { return h.index }

// Height is the number of link levels the block has: Params().Height(Index()).
func (h *Header) Height() uint32 { return h.height }

// Params are the chain's base and maximum height.
func (h *Header) Params() Params { return h.params }

// BackLinks returns the IDs of the blocks at Index() − B^ℓ for ℓ below the height;
// empty for the genesis.
func (h *Header) BackLinks() []ID { return append([]ID(nil), h.backLinks...) }

// Genesis is the ID of the chain's genesis block: the block's own ID for the genesis.
func (h *Header) Genesis() ID {
	if h.index == 0 {
		return h.id
	}
	return h.genesis
}

// RosterID names the roster that signs forward links from this block.
func (h *Header) RosterID() ID { return h.rosterID }

// RosterSince is the index of the block that introduced this block's roster: the
// block itself after a roster change, the genesis for the first roster. It lets a
// later "express" catch-up find roster changes without walking the chain.
func (h *Header) RosterSince() uint64 { return h.rosterSince }

// PayloadKind says how to read the payload, for example "chainiac/v1/manifest".
func (h *Header) PayloadKind() string { return h.kind }

// PayloadHash is the SHA-256 of the payload.
func (h *Header) PayloadHash() ID { return h.payloadHash }

// ID is the SHA-256 of the canonical encoding.
func (h *Header) ID() ID { return h.id }

// Encode returns the canonical encoding.
func (h *Header) Encode() []byte { return append([]byte(nil), h.encoded...) }

// seal computes the encoding and the ID; every constructor ends with it.
func (h *Header) seal() {
	e := wire.NewEncoder(headerTag).
		Uint16(HeaderVersion).
		Uint64(h.index).
		Uint32(h.height).
		Uint32(h.params.MaxHeight).
		Uint32(h.params.Base).
		Count(len(h.backLinks))
	for _, id := range h.backLinks {
		e.Fixed(id[:])
	}
	e.Fixed(h.genesis[:]).Fixed(h.rosterID[:]).Uint64(h.rosterSince).String(h.kind).Fixed(h.payloadHash[:])
	h.encoded = e.Out()
	h.id = hashOf(h.encoded)
}

// check enforces the rules a header obeys on its own: valid parameters, the height
// that the index implies, one back-link per level, a genesis field that is zero
// exactly for the genesis, and a well-formed payload kind.
func (h *Header) check() error {
	if err := h.params.Validate(); err != nil {
		return err
	}
	if want := h.params.Height(h.index); h.height != want {
		return fmt.Errorf("%w: block %d: height %d, the index implies %d", ErrMalformed, h.index, h.height, want)
	}
	if h.index == 0 {
		if len(h.backLinks) != 0 || !h.genesis.IsZero() || h.rosterSince != 0 {
			return fmt.Errorf("%w: genesis with back-links, a genesis ID or a roster index", ErrMalformed)
		}
	} else {
		if len(h.backLinks) != int(h.height) {
			return fmt.Errorf("%w: block %d: %d back-links for height %d", ErrMalformed, h.index, len(h.backLinks), h.height)
		}
		if h.genesis.IsZero() {
			return fmt.Errorf("%w: block %d: zero genesis ID", ErrMalformed, h.index)
		}
		if h.rosterSince > h.index {
			return fmt.Errorf("%w: block %d: roster introduced at later block %d", ErrMalformed, h.index, h.rosterSince)
		}
	}
	return checkKind(h.kind)
}

func checkKind(kind string) error {
	if len(kind) == 0 || len(kind) > MaxPayloadKindLen {
		return fmt.Errorf("%w: payload kind of %d bytes, want 1 to %d", ErrMalformed, len(kind), MaxPayloadKindLen)
	}
	for i := 0; i < len(kind); i++ {
		if kind[i] <= ' ' || kind[i] > '~' {
			return fmt.Errorf("%w: payload kind %q has a byte outside printable ASCII", ErrMalformed, kind)
		}
	}
	return nil
}

// ParseHeader decodes a header strictly and checks the rules a header obeys on its
// own (see Header.check); whether it fits its chain is CheckSuccessor's job.
func ParseHeader(b []byte) (*Header, error) {
	if len(b) > MaxHeaderSize {
		return nil, fmt.Errorf("%w: header of %d bytes exceeds %d", ErrMalformed, len(b), MaxHeaderSize)
	}
	d := wire.NewDecoder(b, headerTag)
	var h Header
	if v := d.Field("version").Uint16(); d.Err() == nil && v != HeaderVersion {
		d.Fail(fmt.Errorf("version %d, want %d", v, HeaderVersion))
	}
	h.index = d.Field("index").Uint64()
	h.height = d.Field("height").Uint32()
	h.params.MaxHeight = d.Field("maximum height").Uint32()
	h.params.Base = d.Field("base").Uint32()
	n := d.Field("back-links").Count(MaxMaxHeight, IDSize)
	if n > 0 {
		h.backLinks = make([]ID, n)
	}
	for i := range h.backLinks {
		d.Fixed(h.backLinks[i][:])
	}
	d.Field("genesis").Fixed(h.genesis[:])
	d.Field("roster").Fixed(h.rosterID[:])
	h.rosterSince = d.Field("roster since").Uint64()
	h.kind = d.Field("payload kind").String(MaxPayloadKindLen)
	d.Field("payload hash").Fixed(h.payloadHash[:])
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	if err := h.check(); err != nil {
		return nil, err
	}
	h.encoded = append([]byte(nil), b...)
	h.id = hashOf(h.encoded)
	return &h, nil
}

// Block is a header with the roster and payload it commits to. Forward links are
// stored beside blocks, not in them: they are added after the block and are not part
// of its ID.
type Block struct {
	header  *Header
	roster  *Roster
	payload []byte
}

// NewGenesis makes the first block of a chain with parameters p.
func NewGenesis(p Params, roster *Roster, kind string, payload []byte) (*Block, error) {
	h := &Header{params: p, height: p.MaxHeight, kind: kind}
	return seal(h, roster, payload)
}

// NewBlock makes the block that follows back[0]. back lists the headers at the
// positions Params.LinksInto gives for the new index, lowest level first; the genesis
// must be back's chain's genesis. The block's roster signs the links that will leave
// it; the links into it are signed by back's rosters.
func NewBlock(genesis *Header, back []*Header, roster *Roster, kind string, payload []byte) (*Block, error) {
	if len(back) == 0 {
		return nil, fmt.Errorf("%w: a new block needs at least the previous block", ErrInvalidBlock)
	}
	prev := back[0]
	h := &Header{
		index:       prev.index + 1,
		params:      genesis.params,
		genesis:     genesis.ID(),
		kind:        kind,
		rosterSince: prev.rosterSince,
	}
	if roster != nil && roster.ID() != prev.rosterID {
		h.rosterSince = h.index
	}
	h.height = h.params.Height(h.index)
	for _, b := range back {
		h.backLinks = append(h.backLinks, b.ID())
	}
	b, err := seal(h, roster, payload)
	if err != nil {
		return nil, err
	}
	if err := CheckSuccessor(genesis, back, b.header); err != nil {
		return nil, err
	}
	return b, nil
}

func seal(h *Header, roster *Roster, payload []byte) (*Block, error) {
	if roster == nil {
		return nil, fmt.Errorf("%w: block %d has no roster", ErrInvalidBlock, h.index)
	}
	if len(payload) > MaxPayloadSize {
		return nil, fmt.Errorf("%w: payload of %d bytes exceeds %d", ErrMalformed, len(payload), MaxPayloadSize)
	}
	h.rosterID = roster.ID()
	h.payloadHash = sha256.Sum256(payload)
	if err := h.check(); err != nil {
		return nil, err
	}
	h.seal()
	return &Block{header: h, roster: roster, payload: append([]byte(nil), payload...)}, nil
}

// AssembleBlock joins a header with its roster and payload, checking that they are
// the ones the header commits to.
func AssembleBlock(h *Header, roster *Roster, payload []byte) (*Block, error) {
	if roster.ID() != h.rosterID {
		return nil, fmt.Errorf("%w: block %d: roster %s, the header names %s", ErrInvalidBlock, h.index, roster.ID().Short(), h.rosterID.Short())
	}
	if sha256.Sum256(payload) != h.payloadHash {
		return nil, fmt.Errorf("%w: block %d: payload does not match the header's hash", ErrInvalidBlock, h.index)
	}
	return &Block{header: h, roster: roster, payload: append([]byte(nil), payload...)}, nil
}

// Header returns the header.
func (b *Block) Header() *Header { return b.header }

// Roster returns the roster that signs links from this block.
func (b *Block) Roster() *Roster { return b.roster }

// Payload returns a copy of the payload.
func (b *Block) Payload() []byte { return append([]byte(nil), b.payload...) }

// Index is the header's index.
func (b *Block) Index() uint64 { return b.header.index }

// ID is the header's ID.
func (b *Block) ID() ID { return b.header.id }

// Encode returns the full block: header, roster and payload, each length-prefixed
// under the tag "chainiac/v1/block-data".
func (b *Block) Encode() []byte {
	return wire.NewEncoder(blockTag).Bytes(b.header.encoded).Bytes(b.roster.encoded).Bytes(b.payload).Out()
}

// ParseBlock decodes a full block and checks that the roster and payload are the
// ones the header commits to. The roster's bytes are hashed and compared with the
// header before any key is decoded; RosterCache.ParseBlock also skips the decoding
// of a roster it has seen.
func ParseBlock(b []byte) (*Block, error) { return parseBlock(b, nil) }

// ParseBlockHeader decodes only the header of a full block's encoding, so that a
// caller expecting a given block ID can refuse another block before its roster's keys
// are checked. The rest of the block is not checked.
func ParseBlockHeader(b []byte) (*Header, error) {
	if len(b) > MaxBlockSize {
		return nil, fmt.Errorf("%w: block of %d bytes exceeds %d", ErrMalformed, len(b), MaxBlockSize)
	}
	d := wire.NewDecoder(b, blockTag)
	hb := d.Field("header").Bytes(MaxHeaderSize)
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("%w: block: %w", ErrMalformed, err)
	}
	return ParseHeader(hb)
}

func parseBlock(b []byte, cache *RosterCache) (*Block, error) {
	if len(b) > MaxBlockSize {
		return nil, fmt.Errorf("%w: block of %d bytes exceeds %d", ErrMalformed, len(b), MaxBlockSize)
	}
	d := wire.NewDecoder(b, blockTag)
	hb := d.Field("header").Bytes(MaxHeaderSize)
	rb := d.Field("roster").Bytes(MaxRosterEncodedSize)
	payload := d.Field("payload").Bytes(MaxPayloadSize)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: block: %w", ErrMalformed, err)
	}
	h, err := ParseHeader(hb)
	if err != nil {
		return nil, err
	}
	// Compare the roster's hash before parsing it: parsing validates every key.
	if hashOf(rb) != h.rosterID {
		return nil, fmt.Errorf("%w: block %d: roster bytes do not match the header's roster ID", ErrInvalidBlock, h.index)
	}
	r, err := cache.parseRosterWithID(rb, h.rosterID)
	if err != nil {
		return nil, err
	}
	return AssembleBlock(h, r, payload)
}
