package timeline

import (
	"errors"
	"fmt"

	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
)

// Payload kinds, the header field that says how to read a block's payload.
const (
	KindGenesis      = "chainiac/v1/genesis"
	KindRelease      = "chainiac/v1/release"
	KindRosterChange = "chainiac/v1/roster-change"
	KindPolicyChange = "chainiac/v1/policy-change"
)

// Domain tags of the payload encodings.
const (
	tagGenesis  = "chainiac/v1/genesis-payload"
	tagEnvelope = "chainiac/v1/block-payload"
)

// MaxPayloadSize bounds a payload: the envelope around the largest body (a signed
// manifest of release.MaxManifestSize with every developer signature).
const MaxPayloadSize = 2 << 20

// ErrInvalidPayload is wrapped by every payload that does not decode or does not obey
// the rules in force.
var ErrInvalidPayload = errors.New("timeline: invalid payload")

// Genesis is what the genesis block fixes: the product whose releases the chain
// carries and the first developer policy.
type Genesis struct {
	Product string
	Policy  *release.Policy
}

// Encode returns the genesis payload:
//
//	tag "chainiac/v1/genesis-payload" ‖ string product ‖ bytes developer policy
func (g *Genesis) Encode() []byte {
	return wire.NewEncoder(tagGenesis).String(g.Product).Bytes(g.Policy.Encode()).Out()
}

// ParseGenesis decodes a genesis payload strictly.
func ParseGenesis(b []byte) (*Genesis, error) {
	if len(b) > MaxPayloadSize {
		return nil, fmt.Errorf("%w: genesis payload of %d bytes, at most %d", ErrInvalidPayload, len(b), MaxPayloadSize)
	}
	d := wire.NewDecoder(b, tagGenesis)
	product := d.Field("product").String(release.MaxProductLen)
	enc := d.Field("policy").Bytes(MaxPayloadSize)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: genesis: %w", ErrInvalidPayload, err)
	}
	if err := release.ValidateProduct(product); err != nil {
		return nil, fmt.Errorf("%w: genesis: product: %w", ErrInvalidPayload, err)
	}
	p, err := release.ParsePolicy(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: genesis: %w", ErrInvalidPayload, err)
	}
	return &Genesis{Product: product, Policy: p}, nil
}

// Payload is a decoded non-genesis payload. Exactly one of Release, RosterChange and
// PolicyChange is set, as Kind says. The bodies are decoded envelopes: their
// signatures are checked by State.Check, not here.
type Payload struct {
	Kind string
	// PolicySince is the index of the block whose payload set the developer policy
	// in force when this block was made: the genesis, or a policy-change block.
	PolicySince uint64
	// PreviousRelease is the index of the newest release before this block, 0 if
	// there is none yet.
	PreviousRelease uint64

	Release      *release.SignedManifest
	RosterChange *release.RosterChange
	PolicyChange *release.PolicyChange
}

// Body returns the encoding of the body the kind names.
func (p *Payload) Body() []byte {
	switch {
	case p.Release != nil:
		return p.Release.Encode()
	case p.RosterChange != nil:
		return p.RosterChange.Encode()
	case p.PolicyChange != nil:
		return p.PolicyChange.Encode()
	}
	return nil
}

// Encode returns the payload envelope:
//
//	tag "chainiac/v1/block-payload" ‖ u64 policy since ‖ u64 previous release ‖ bytes body
//
// where the body is a signed manifest, a signed roster change or a signed policy
// change (package release), as the header's payload kind says.
func (p *Payload) Encode() []byte {
	return wire.NewEncoder(tagEnvelope).
		Uint64(p.PolicySince).
		Uint64(p.PreviousRelease).
		Bytes(p.Body()).
		Out()
}

// ParsePayload decodes the payload of a non-genesis block of the given kind. It checks
// the encoding only.
func ParsePayload(kind string, b []byte) (*Payload, error) {
	if len(b) > MaxPayloadSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidPayload, len(b), MaxPayloadSize)
	}
	p := &Payload{Kind: kind}
	d := wire.NewDecoder(b, tagEnvelope)
	p.PolicySince = d.Field("policy since").Uint64()
	p.PreviousRelease = d.Field("previous release").Uint64()
	body := d.Field("body").Bytes(MaxPayloadSize)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidPayload, kind, err)
	}
	var err error
	switch kind {
	case KindRelease:
		p.Release, err = release.ParseSignedManifest(body)
	case KindRosterChange:
		p.RosterChange, err = release.ParseRosterChange(body)
	case KindPolicyChange:
		p.PolicyChange, err = release.ParsePolicyChange(body)
	default:
		err = fmt.Errorf("unknown payload kind %q", kind)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPayload, err)
	}
	return p, nil
}

// PayloadOf decodes a block's payload by its header's kind: a *Genesis for the
// genesis, a *Payload otherwise.
func PayloadOf(b *skipchain.Block) (any, error) {
	h := b.Header()
	if h.Index() == 0 {
		if h.PayloadKind() != KindGenesis {
			return nil, fmt.Errorf("%w: genesis of kind %q, want %q", ErrInvalidPayload, h.PayloadKind(), KindGenesis)
		}
		return ParseGenesis(b.Payload())
	}
	return ParsePayload(h.PayloadKind(), b.Payload())
}
