package skipchain_test

import (
	"errors"
	"testing"

	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forkEvidence returns the evidence of the fork at block 4 of scriptRosterChanges.
func forkEvidence(t *testing.T) *skipchain.ForkError {
	t.Helper()
	c := buildChain(t, scriptRosterChanges)
	fe, err := skipchain.NewForkError(c.Blocks[3], c.Into[4][0], c.Forks[4].Into[0])
	require.NoError(t, err)
	return fe
}

func TestForkEvidence(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	a, b := c.Into[4][0], c.Forks[4].Into[0]
	fe, err := skipchain.NewForkError(c.Blocks[3], a, b)
	require.NoError(t, err)
	swapped, err := skipchain.NewForkError(c.Blocks[3], b, a)
	require.NoError(t, err)
	assert.Equal(t, fe.Encode(), swapped.Encode(), "one encoding whatever the order given")
	assert.Contains(t, fe.Error(), "skipchain: fork: roster")

	var target *skipchain.ForkError
	require.True(t, errors.As(error(fe), &target))

	for _, tc := range []struct {
		name string
		from *skipchain.Block
		a, b *skipchain.ForwardLink
	}{
		{"same link twice", c.Blocks[3], a, a},
		{"same statement, other signers", c.Blocks[3], a, c.Rosters["R1"].Link(t, c.Blocks[3].Header(), c.Blocks[4].Header(), 4)},
		{"different positions", c.Blocks[3], a, c.Into[5][0]},
		{"links from another block", c.Blocks[2], a, b},
		{"a forged link", c.Blocks[3], a, c.Rosters["R2"].Link(t, c.Blocks[3].Header(), c.Forks[4].Block.Header(), 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := skipchain.NewForkError(tc.from, tc.a, tc.b)
			require.ErrorIs(t, err, skipchain.ErrInvalidEvidence)
		})
	}
}

// Every single-byte change of published evidence is refused.
func TestForkEvidenceMangling(t *testing.T) {
	enc := forkEvidence(t).Encode()
	_, err := skipchain.ParseForkEvidence(enc)
	require.NoError(t, err)
	for i := range enc {
		bad := append([]byte(nil), enc...)
		bad[i] ^= 0x01
		_, err := skipchain.ParseForkEvidence(bad)
		require.Error(t, err, "byte %d of %d changed, evidence accepted", i, len(enc))
	}
}

func TestParseForkEvidenceMalformed(t *testing.T) {
	fe := forkEvidence(t)
	c := buildChain(t, scriptRosterChanges)
	enc := func(h, r, a, b []byte) []byte {
		return wire.NewEncoder("chainiac/v1/fork-evidence").Bytes(h).Bytes(r).Bytes(a).Bytes(b).Out()
	}
	h, r, a, b := fe.From.Encode(), fe.Roster.Encode(), fe.A.Encode(), fe.B.Encode()
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, skipchain.ErrMalformed},
		{"links in the wrong order", enc(h, r, b, a), skipchain.ErrInvalidEvidence},
		{"other roster", enc(h, c.Rosters["R2"].Roster.Encode(), a, b), skipchain.ErrInvalidEvidence},
		{"bad header", enc(h[1:], r, a, b), skipchain.ErrMalformed},
		{"bad link", enc(h, r, a[1:], b), skipchain.ErrMalformed},
		{"too long", make([]byte, skipchain.MaxForkEvidenceSize+1), skipchain.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := skipchain.ParseForkEvidence(tc.b)
			require.ErrorIs(t, err, tc.want)
		})
	}
}
