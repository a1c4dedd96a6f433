package skipchain_test

import (
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainiac/chainiac/internal/golden"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vectorScript builds the known-answer chain: keys come from chaintest's fixed seeds,
// and BLS signatures are deterministic, so every byte below is reproducible.
const vectorScript = "roster R1 3; genesis; b1; b2; roster R2 2; b3; fork b3"

// vectors is testdata/vectors.json: every encoding this package defines, with the
// IDs derived from them. A change to any encoding shows up as a diff here.
type vectors struct {
	Script        string `json:"script"`
	RosterR1      string `json:"roster_r1"`
	RosterR1ID    string `json:"roster_r1_id"`
	RosterR1TOML  string `json:"roster_r1_toml"`
	Genesis       string `json:"genesis_block"`
	GenesisID     string `json:"genesis_id"`
	Header3       string `json:"header_3"`
	Header3ID     string `json:"header_3_id"`
	Link2to3      string `json:"link_2_3"`
	Link2to3Msg   string `json:"link_2_3_signed_message"`
	Proof0to3     string `json:"proof_0_3_with_payload"`
	ForkEvidence3 string `json:"fork_evidence_3"`

	Block2        string `json:"block_2"` // a non-genesis full block
	Header2       string `json:"header_2"`
	Header2ID     string `json:"header_2_id"`
	Proof0to3Bare string `json:"proof_0_3_without_payload"`
	Proof3to3     string `json:"proof_3_3_zero_hops"`
	// A roster file without Threshold: the roster gets cosi.DefaultThreshold of its
	// size, 3 of 4 here, and the ID of roster_r4 (whose encoding says 3).
	RosterR4TOML string `json:"roster_r4_toml_without_threshold"`
	RosterR4     string `json:"roster_r4"`
	RosterR4ID   string `json:"roster_r4_id"`
}

func makeVectors(t *testing.T) vectors {
	c := buildChain(t, vectorScript)
	s := c.MemStore(t, 3)
	p, err := skipchain.BuildProof(s, 0, true)
	require.NoError(t, err)
	fe, err := skipchain.NewForkError(c.Blocks[2], c.Into[3][0], c.Forks[3].Into[0])
	require.NoError(t, err)
	bare, err := skipchain.BuildProof(s, 0, false)
	require.NoError(t, err)
	zero, err := skipchain.BuildProof(s, 3, false)
	require.NoError(t, err)
	require.Empty(t, zero.Hops())
	r1 := c.Rosters["R1"].Roster
	toml, err := r1.MarshalTOML(nil)
	require.NoError(t, err)
	r4 := chaintest.NewSigners(t, "R4", 4).Roster
	require.Equal(t, 3, r4.Threshold())
	toml4, err := r4.MarshalTOML(nil)
	require.NoError(t, err)
	toml4 = withoutThreshold(t, toml4)
	h := hex.EncodeToString
	return vectors{
		Block2:        h(c.Blocks[2].Encode()),
		Header2:       h(c.Blocks[2].Header().Encode()),
		Header2ID:     c.Blocks[2].ID().String(),
		Proof0to3Bare: h(bare.Encode()),
		Proof3to3:     h(zero.Encode()),
		RosterR4TOML:  string(toml4),
		RosterR4:      h(r4.Encode()),
		RosterR4ID:    r4.ID().String(),

		Script:        vectorScript,
		RosterR1:      h(r1.Encode()),
		RosterR1ID:    r1.ID().String(),
		RosterR1TOML:  string(toml),
		Genesis:       h(c.Genesis().Encode()),
		GenesisID:     c.Genesis().ID().String(),
		Header3:       h(c.Blocks[3].Header().Encode()),
		Header3ID:     c.Blocks[3].ID().String(),
		Link2to3:      h(c.Into[3][0].Encode()),
		Link2to3Msg:   h(c.Into[3][0].SignedMessage()),
		Proof0to3:     h(p.Encode()),
		ForkEvidence3: h(fe.Encode()),
	}
}

func TestKnownAnswers(t *testing.T) {
	path := filepath.Join("testdata", "vectors.json")
	got := makeVectors(t)
	enc, err := json.MarshalIndent(got, "", "  ")
	require.NoError(t, err)
	b := golden.File(t, path, append(enc, '\n'))
	var want vectors
	require.NoError(t, json.Unmarshal(b, &want))

	// The stored bytes verify on their own: the genesis block is all a client needs
	// to check the proof, and the fork evidence checks out by itself.
	unhex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		require.NoError(t, err)
		return b
	}
	g, err := skipchain.ParseBlock(unhex(want.Genesis))
	require.NoError(t, err)
	assert.Equal(t, want.GenesisID, g.ID().String())
	p, err := skipchain.ParseProof(unhex(want.Proof0to3))
	require.NoError(t, err)
	head, roster, err := p.Verify(g.Header(), g.Roster())
	require.NoError(t, err)
	assert.Equal(t, want.Header3ID, head.ID().String())
	assert.Equal(t, want.Header3, hex.EncodeToString(head.Encode()))
	assert.Equal(t, 2, roster.Len())
	_, err = skipchain.ParseForkEvidence(unhex(want.ForkEvidence3))
	require.NoError(t, err)
	r1, err := skipchain.ParseRosterTOML([]byte(want.RosterR1TOML))
	require.NoError(t, err)
	assert.Equal(t, want.RosterR1ID, r1.ID().String())
	l, err := skipchain.ParseForwardLink(unhex(want.Link2to3))
	require.NoError(t, err)
	assert.Equal(t, want.Link2to3Msg, hex.EncodeToString(l.SignedMessage()))

	// Block 2 parses, its header is header_2, and it is the block the link 2→3 leaves.
	b2, err := skipchain.ParseBlock(unhex(want.Block2))
	require.NoError(t, err)
	assert.Equal(t, want.Header2, hex.EncodeToString(b2.Header().Encode()))
	assert.Equal(t, want.Header2ID, b2.ID().String())
	assert.Equal(t, l.From(), b2.ID())
	assert.Equal(t, g.ID(), b2.Header().Genesis())

	// The proof without payload reaches the same head and carries no payload.
	bare, err := skipchain.ParseProof(unhex(want.Proof0to3Bare))
	require.NoError(t, err)
	_, has := bare.Payload()
	assert.False(t, has)
	head, _, err = bare.Verify(g.Header(), g.Roster())
	require.NoError(t, err)
	assert.Equal(t, want.Header3ID, head.ID().String())

	// A proof with no hops starts and ends at the trusted block, and names the
	// chain by the genesis ID.
	zero, err := skipchain.ParseProof(unhex(want.Proof3to3))
	require.NoError(t, err)
	assert.Empty(t, zero.Hops())
	assert.Equal(t, g.ID(), zero.Genesis())
	h3, err := skipchain.ParseHeader(unhex(want.Header3))
	require.NoError(t, err)
	head, _, err = zero.Verify(h3, roster) // R2, which the first proof reached
	require.NoError(t, err)
	assert.Equal(t, want.Header3ID, head.ID().String())

	// The roster file without Threshold gives the default threshold.
	r4, err := skipchain.ParseRosterTOML([]byte(want.RosterR4TOML))
	require.NoError(t, err)
	assert.NotContains(t, want.RosterR4TOML, "Threshold")
	assert.Equal(t, want.RosterR4, hex.EncodeToString(r4.Encode()))
	assert.Equal(t, want.RosterR4ID, r4.ID().String())
}

// withoutThreshold removes the Threshold line from a roster file.
func withoutThreshold(t *testing.T, toml []byte) []byte {
	var out []string
	for _, line := range strings.Split(string(toml), "\n") {
		if !strings.HasPrefix(line, "Threshold") {
			out = append(out, line)
		}
	}
	res := strings.Join(out, "\n")
	require.NotEqual(t, string(toml), res, "the file had a Threshold line")
	return []byte(res)
}
