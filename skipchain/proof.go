package skipchain

import (
	"crypto/sha256"
	"fmt"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/wire"
)

const (
	proofTag = "chainiac/v1/proof"
	// MaxProofHops bounds the hops of one proof. A chain with all its links needs
	// about 2·log_B(k) hops for k blocks; a longer walk (missing links) is served in
	// several proofs, each starting where the previous one ended.
	MaxProofHops = 4096
	// maxProofPath bounds the hops and rosters of one proof in bytes, so a path
	// through many large rosters is also served in several proofs.
	maxProofPath = 16 << 20
	// MaxProofSize bounds an encoded proof: the path, the head header and a payload.
	MaxProofSize = maxProofPath + MaxHeaderSize + MaxPayloadSize + 64
	// minHopSize is the smallest encoded hop: level, ID, the smallest signature and
	// an empty roster.
	minHopSize = 1 + IDSize + 4 + cosi.PointSize + 2 + 1 + 4
)

// Hop is one forward link of an update proof, without its from block: that is the
// previous hop's target (or the trusted block), whose ID the signature covers.
type Hop struct {
	Level     uint8           // the link spans B^Level blocks
	To        ID              // the target block's ID
	Signature *cosi.Signature // by the roster the client holds at this hop
	// NewRoster is the encoded roster of the target block when it differs from the
	// signers' roster, and nil otherwise. Its SHA-256 is the roster ID the signature
	// covers; it is parsed only after that signature checks out.
	NewRoster []byte
}

// Proof is an update proof: the shortest path of forward links from a block the
// client trusts to the newest block, with each new roster once and the newest
// header (and optionally its payload). It is verified with nothing but the trusted
// header and its roster; see Verify.
type Proof struct {
	genesis    ID
	fromIndex  uint64
	from       ID
	hops       []Hop
	head       *Header
	payload    []byte
	hasPayload bool
}

// Genesis is the chain's genesis ID.
func (p *Proof) Genesis() ID { return p.genesis }

// FromIndex is the index of the block the proof starts at.
func (p *Proof) FromIndex() uint64 { return p.fromIndex }

// From is the ID of the block the proof starts at.
func (p *Proof) From() ID { return p.from }

// Hops returns the path, first hop first.
func (p *Proof) Hops() []Hop { return append([]Hop(nil), p.hops...) }

// Head is the header the proof ends at. Trust it only after Verify.
func (p *Proof) Head() *Header { return p.head }

// Payload returns the head's payload, if the proof carries it. Verify checks it
// against the head's payload hash.
func (p *Proof) Payload() ([]byte, bool) { return append([]byte(nil), p.payload...), p.hasPayload }

// Encode returns the canonical encoding:
//
//	tag "chainiac/v1/proof" ‖ genesis ‖ u64 fromIndex ‖ from
//	‖ list of hops: u8 level ‖ to ‖ bytes signature ‖ bytes new roster (empty: unchanged)
//	‖ bytes head header ‖ u8 has payload (0 or 1) ‖ [bytes payload]
func (p *Proof) Encode() []byte {
	e := wire.NewEncoder(proofTag).Fixed(p.genesis[:]).Uint64(p.fromIndex).Fixed(p.from[:]).Count(len(p.hops))
	for _, h := range p.hops {
		e.Uint8(h.Level).Fixed(h.To[:]).Bytes(h.Signature.Encode()).Bytes(h.NewRoster)
	}
	e.Bytes(p.head.encoded)
	if p.hasPayload {
		e.Uint8(1).Bytes(p.payload)
	} else {
		e.Uint8(0)
	}
	return e.Out()
}

// ParseProof decodes a proof strictly. Rosters are kept as bytes until Verify has
// checked the signature that introduces them.
func ParseProof(b []byte) (*Proof, error) {
	if len(b) > MaxProofSize {
		return nil, fmt.Errorf("%w: proof of %d bytes exceeds %d", ErrMalformed, len(b), MaxProofSize)
	}
	var p Proof
	d := wire.NewDecoder(b, proofTag)
	d.Field("genesis").Fixed(p.genesis[:])
	p.fromIndex = d.Field("from index").Uint64()
	d.Field("from").Fixed(p.from[:])
	n := d.Field("hops").Count(MaxProofHops, minHopSize)
	p.hops = make([]Hop, n)
	for i := range p.hops {
		h := &p.hops[i]
		h.Level = d.Field(fmt.Sprintf("hop %d level", i)).Uint8()
		d.Fixed(h.To[:])
		sb := d.Field(fmt.Sprintf("hop %d signature", i)).Bytes(cosi.MaxSignatureSize)
		if d.Err() != nil {
			break
		}
		sig, err := cosi.ParseSignature(sb)
		if err != nil {
			d.Fail(err)
			break
		}
		h.Signature = sig
		h.NewRoster = d.Field(fmt.Sprintf("hop %d roster", i)).Bytes(MaxRosterEncodedSize)
		if len(h.NewRoster) == 0 {
			h.NewRoster = nil
		}
	}
	hb := d.Field("head").Bytes(MaxHeaderSize)
	switch flag := d.Field("payload flag").Uint8(); {
	case d.Err() != nil:
	case flag == 1:
		p.hasPayload = true
		p.payload = d.Field("payload").Bytes(MaxPayloadSize)
	case flag != 0:
		d.Fail(fmt.Errorf("payload flag %d, want 0 or 1", flag))
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: proof: %w", ErrMalformed, err)
	}
	head, err := ParseHeader(hb)
	if err != nil {
		return nil, fmt.Errorf("proof head: %w", err)
	}
	p.head = head
	return &p, nil
}

// Verify follows the proof from the trusted header, whose roster the caller holds,
// and returns the newest header and its roster. At each hop it checks the link's
// collective signature with the roster it trusts at that point, and switches roster
// when the link names a new one, whose bytes must hash to the signed roster ID. At
// the end the head header must hash to the last link's target and name the roster
// reached. Cost: one signature check per hop, plus parsing and weighting each new
// roster (about 0.7 ms per key). Every failure wraps ErrInvalidProof.
//
// RosterCache.VerifyProof does the same with the carried rosters taken from, or added
// to, a cache.
func (p *Proof) Verify(trusted *Header, roster *Roster) (*Header, *Roster, error) {
	return p.verify(trusted, roster, nil)
}

func (p *Proof) verify(trusted *Header, roster *Roster, cache *RosterCache) (*Header, *Roster, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidProof, fmt.Sprintf(format, args...))
	}
	if roster.ID() != trusted.rosterID {
		return nil, nil, fail("the roster given is %s, the trusted block names %s", roster.ID().Short(), trusted.rosterID.Short())
	}
	if p.genesis != trusted.Genesis() {
		return nil, nil, fail("chain %s, the trusted block is on chain %s", p.genesis.Short(), trusted.Genesis().Short())
	}
	if p.fromIndex != trusted.index || p.from != trusted.ID() {
		return nil, nil, fail("starts at block %d (%s), the trusted block is %d (%s)", p.fromIndex, p.from.Short(), trusted.index, trusted.ID().Short())
	}
	// First every check that costs no pairing, so that a damaged proof is usually
	// refused before any signature is checked: the path's indices, the roster IDs the
	// links name (hashes of the rosters carried), and the head.
	params := trusted.params
	type step struct {
		from, to ID
		toIndex  uint64
		rosterID ID
	}
	steps := make([]step, len(p.hops))
	cur, curIndex, rosterID := p.from, p.fromIndex, roster.ID()
	for i, h := range p.hops {
		toIndex, ok := params.target(curIndex, int(h.Level))
		if !ok {
			return nil, nil, fail("hop %d: block %d has no link at level %d", i, curIndex, h.Level)
		}
		if h.NewRoster != nil {
			next := hashOf(h.NewRoster)
			if next == rosterID {
				return nil, nil, fail("hop %d: carries the roster it is signed by", i)
			}
			rosterID = next
		}
		steps[i] = step{from: cur, to: h.To, toIndex: toIndex, rosterID: rosterID}
		cur, curIndex = h.To, toIndex
	}
	head := p.head
	switch {
	case head.ID() != cur || head.index != curIndex:
		return nil, nil, fail("head is block %d (%s), the path reaches block %d (%s)", head.index, head.ID().Short(), curIndex, cur.Short())
	case head.rosterID != rosterID:
		return nil, nil, fail("head names roster %s, the path's links name %s", head.rosterID.Short(), rosterID.Short())
	case head.Genesis() != p.genesis || head.params != params:
		return nil, nil, fail("head belongs to another chain")
	case p.hasPayload && sha256.Sum256(p.payload) != head.payloadHash:
		return nil, nil, fail("payload does not match the head's payload hash")
	}
	// Then the signatures, in order: each hop is checked with the roster the previous
	// hops established, and a new roster is parsed only once a signature vouches for it.
	for i, h := range p.hops {
		st := steps[i]
		msg := LinkMessage(st.from, st.to, st.toIndex, st.rosterID)
		if err := roster.verify(msg, h.Signature); err != nil {
			return nil, nil, fmt.Errorf("%w: hop %d (→%d): signature by roster %s: %w", ErrInvalidProof, i, st.toIndex, roster.ID().Short(), err)
		}
		if h.NewRoster != nil {
			r, err := parseSignedRoster(h.NewRoster, st.rosterID, cache)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: hop %d: new roster: %w", ErrInvalidProof, i, err)
			}
			roster = r
		}
	}
	return head, roster, nil
}

// parseSignedRoster parses a roster whose ID a verified signature named, and checks
// that the parsed roster has that ID. The signed ID is the hash of the bytes carried,
// and ParseRoster accepts only canonical encodings, so the two agree today; checking
// keeps a future decoder that normalises anything from switching to a roster nobody
// signed.
func parseSignedRoster(raw []byte, signed ID, cache *RosterCache) (*Roster, error) {
	if r, ok := cache.Get(signed); ok {
		return r, nil
	}
	r, err := ParseRoster(raw)
	if err != nil {
		return nil, err
	}
	if r.ID() != signed {
		return nil, fmt.Errorf("parsed roster is %s, the signature names %s", r.ID().Short(), signed.Short())
	}
	return cache.Add(r), nil
}
