package api

import (
	"fmt"

	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

const tagProposal = "chainiac/v1/proposal"

// MaxProposalSize bounds a proposal body: a payload and a roster.
const MaxProposalSize = 1 + len(tagProposal) + 4 + skipchain.MaxPayloadKindLen + 4 + timeline.MaxPayloadSize + 4 + skipchain.MaxRosterEncodedSize + 4 + MaxURLLen

// MaxURLLen bounds a URL in a proposal.
const MaxURLLen = 1024

// Proposal is what the release team posts to a node (POST .../proposals, binary): the
// kind of block and its body, the new roster for a roster change, and for a release
// where the nodes fetch its source. The node builds the block itself, with the chain's
// pointers, so a proposal cannot choose them.
//
//	tag "chainiac/v1/proposal" ‖ string kind ‖ bytes body ‖ bytes roster (empty unless
//	a roster change) ‖ string source URL (empty unless a release)
//
// The body is a signed manifest, a signed roster change or a signed policy change
// (package release).
type Proposal struct {
	Kind   string
	Body   []byte
	Roster []byte
	Source string
}

// Encode returns the proposal's encoding.
func (p *Proposal) Encode() []byte {
	return wire.NewEncoder(tagProposal).String(p.Kind).Bytes(p.Body).Bytes(p.Roster).String(p.Source).Out()
}

// ParseProposal decodes a proposal strictly and decodes its body by its kind.
func ParseProposal(b []byte) (*Proposal, any, error) {
	if len(b) > MaxProposalSize {
		return nil, nil, fmt.Errorf("api: proposal of %d bytes, at most %d", len(b), MaxProposalSize)
	}
	p := &Proposal{}
	d := wire.NewDecoder(b, tagProposal)
	p.Kind = d.Field("kind").String(skipchain.MaxPayloadKindLen)
	p.Body = d.Field("body").Bytes(timeline.MaxPayloadSize)
	p.Roster = d.Field("roster").Bytes(skipchain.MaxRosterEncodedSize)
	p.Source = d.Field("source").String(MaxURLLen)
	if err := d.Finish(); err != nil {
		return nil, nil, fmt.Errorf("api: proposal: %w", err)
	}
	var body any
	var err error
	switch p.Kind {
	case timeline.KindRelease:
		body, err = release.ParseSignedManifest(p.Body)
		if err == nil && p.Source == "" {
			err = fmt.Errorf("a release needs a source URL")
		}
	case timeline.KindRosterChange:
		body, err = release.ParseRosterChange(p.Body)
		if err == nil && len(p.Roster) == 0 {
			err = fmt.Errorf("a roster change needs the new roster")
		}
	case timeline.KindPolicyChange:
		body, err = release.ParsePolicyChange(p.Body)
	default:
		err = fmt.Errorf("kind %q: want %s, %s or %s", p.Kind, timeline.KindRelease, timeline.KindRosterChange, timeline.KindPolicyChange)
	}
	if err == nil && p.Kind != timeline.KindRosterChange && len(p.Roster) > 0 {
		err = fmt.Errorf("a roster only comes with a roster change")
	}
	if err == nil && p.Kind != timeline.KindRelease && p.Source != "" {
		err = fmt.Errorf("a source only comes with a release")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("api: proposal: %w", err)
	}
	return p, body, nil
}

// Refusal is one member's signed refusal, as a node reports it to a proposer. It can
// be checked offline with cosi.VerifyRefusal(roster, round, message, reason, signature),
// the round and message being the RoundReport's.
type Refusal struct {
	Member    int    `json:"member"`
	Key       string `json:"key"`
	Reason    string `json:"reason"`
	Signature string `json:"signature"` // hex of the cosi signature encoding
}

// Failure is a member that did not answer, as the leader saw it.
type Failure struct {
	Member int    `json:"member"`
	Reason string `json:"reason"`
}

// RoundReport is one signing round of a proposal.
type RoundReport struct {
	What     string    `json:"what"`              // "link 4→5 level 0", "timestamp 5", ...
	Round    string    `json:"round,omitempty"`   // hex round ID
	Message  string    `json:"message,omitempty"` // hex of the bytes asked to sign
	OK       bool      `json:"ok"`
	Signers  int       `json:"signers"`
	Members  int       `json:"members"`
	Needed   int       `json:"needed"`
	Seconds  float64   `json:"seconds"`
	Refusals []Refusal `json:"refusals,omitempty"`
	Failures []Failure `json:"failures,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// ProposalResult is a node's answer to a proposal (JSON): the block, if one was made
// and stored by a threshold, and every round with its refusals.
type ProposalResult struct {
	Accepted bool          `json:"accepted"`
	Index    uint64        `json:"index,omitempty"`
	ID       string        `json:"id,omitempty"`
	Kind     string        `json:"kind"`
	Rounds   []RoundReport `json:"rounds"`
	Error    string        `json:"error,omitempty"`
}

// GenesisRequest asks a node to create a chain (POST /v1/chains, binary): the genesis
// block, which the node checks and has its roster cosign (a timestamp over it).
//
//	tag "chainiac/v1/genesis-request" ‖ bytes genesis block
type GenesisRequest struct {
	Genesis *skipchain.Block
}

const tagGenesisRequest = "chainiac/v1/genesis-request"

// Encode returns the request's encoding.
func (g *GenesisRequest) Encode() []byte {
	return wire.NewEncoder(tagGenesisRequest).Bytes(g.Genesis.Encode()).Out()
}

// ParseGenesisRequest decodes a genesis request.
func ParseGenesisRequest(b []byte) (*GenesisRequest, error) {
	if len(b) > 1+len(tagGenesisRequest)+4+skipchain.MaxBlockSize {
		return nil, fmt.Errorf("api: genesis request of %d bytes is too large", len(b))
	}
	d := wire.NewDecoder(b, tagGenesisRequest)
	blockBytes := d.Field("genesis").Bytes(skipchain.MaxBlockSize)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("api: genesis request: %w", err)
	}
	g, err := skipchain.ParseBlock(blockBytes)
	if err != nil {
		return nil, fmt.Errorf("api: genesis request: %w", err)
	}
	if g.Index() != 0 {
		return nil, fmt.Errorf("api: genesis request: block %d is not a genesis", g.Index())
	}
	return &GenesisRequest{Genesis: g}, nil
}

// Chains is the path where genesis requests are posted.
const Chains = "/v1/chains"

// Status is a node's report on itself (GET /v1/status, JSON).
type Status struct {
	Address string        `json:"address"`
	Key     string        `json:"key"`
	Chains  []ChainStatus `json:"chains"`
}

// ChainStatus is one chain as a node holds it.
type ChainStatus struct {
	Genesis  string   `json:"genesis"`
	Product  string   `json:"product"`
	Height   uint64   `json:"height"`
	Head     string   `json:"head"`
	HeadKind string   `json:"head_kind"`
	Roster   []string `json:"roster"`
	Needed   int      `json:"threshold"`
	// TimestampAge is the age of the newest cosigned timestamp in seconds, −1 if
	// there is none.
	TimestampAge   float64       `json:"timestamp_age_seconds"`
	TimestampIndex uint64        `json:"timestamp_index"`
	PeersReachable int           `json:"peers_reachable"`
	RecentRounds   []RoundReport `json:"recent_rounds"`
}
