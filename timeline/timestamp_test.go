package timeline

import (
	"bytes"
	"testing"
	"time"

	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func signedTimestamp(t *testing.T, s *chaintest.Signers, head *skipchain.Header, at time.Time, count int) *Timestamp {
	ts := NewTimestamp(head, at)
	ts.Signature = s.Sign(t, ts.Message(), count)
	return ts
}

func TestTimestamp(t *testing.T) {
	f := newFixture(t)
	s1 := chaintest.NewSigners(t, "R1", 4)
	f.apply(f.block(nil, f.release("14.0")))
	head := f.state.Head()
	at := time.Date(2026, 12, 1, 12, 0, 0, 700, time.UTC)
	ts := signedTimestamp(t, s1, head, at, 3)

	parsed, err := ParseTimestamp(ts.Encode())
	require.NoError(t, err)
	assert.Equal(t, ts.Encode(), parsed.Encode())
	assert.Equal(t, at.Truncate(time.Second), parsed.Time)
	require.NoError(t, parsed.Verify(s1.Roster))
	require.NoError(t, parsed.Describes(head))
	assert.Equal(t, 90*time.Minute, parsed.Age(at.Truncate(time.Second).Add(90*time.Minute)))
	assert.Equal(t, f.state.Genesis().ID(), parsed.Genesis)

	genesisTS := signedTimestamp(t, s1, f.state.Genesis(), at, 4)
	require.NoError(t, genesisTS.Describes(f.state.Genesis()))
	assert.Equal(t, f.state.Genesis().ID(), genesisTS.Genesis, "a genesis names itself")

	t.Run("below threshold", func(t *testing.T) {
		weak := signedTimestamp(t, s1, head, at, 2)
		require.ErrorIs(t, weak.Verify(s1.Roster), ErrInvalidTimestamp)
	})
	t.Run("another roster", func(t *testing.T) {
		s2 := chaintest.NewSigners(t, "R2", 4)
		require.ErrorContains(t, ts.Verify(s2.Roster), "not by roster")
		forged := signedTimestamp(t, s2, head, at, 4)
		require.ErrorIs(t, forged.Verify(s1.Roster), ErrInvalidTimestamp, "signed by R2 while naming R1")
	})
	t.Run("altered statement", func(t *testing.T) {
		for _, alter := range []func(*Timestamp){
			func(t *Timestamp) { t.Index++ },
			func(t *Timestamp) { t.Time = t.Time.Add(time.Hour) },
			func(t *Timestamp) { t.Head[0] ^= 1 },
			func(t *Timestamp) { t.Genesis[0] ^= 1 },
		} {
			c := *ts
			alter(&c)
			require.ErrorIs(t, c.Verify(s1.Roster), ErrInvalidTimestamp)
		}
	})
	t.Run("other header", func(t *testing.T) {
		require.ErrorContains(t, ts.Describes(f.state.Genesis()), "names block")
		c := *ts
		c.Head = f.state.Genesis().ID()
		require.ErrorContains(t, c.Describes(f.state.Genesis()), "names index")
	})
	t.Run("every altered byte is refused", func(t *testing.T) {
		enc := ts.Encode()
		for i := range enc {
			for _, delta := range []byte{1, 0x80} {
				b := bytes.Clone(enc)
				b[i] ^= delta
				got, err := ParseTimestamp(b)
				if err != nil {
					continue
				}
				require.Error(t, got.Verify(s1.Roster), "byte %d ^ %#x verified", i, delta)
			}
		}
		for i := range enc {
			_, err := ParseTimestamp(enc[:i])
			require.Error(t, err)
		}
		_, err := ParseTimestamp(append(bytes.Clone(enc), 0))
		require.Error(t, err)
		_, err = ParseTimestamp(make([]byte, MaxTimestampSize+1))
		require.ErrorContains(t, err, "at most")
	})
}

func FuzzParseTimestamp(f *testing.F) {
	fx := newFixture(f)
	s1 := chaintest.NewSigners(f, "R1", 4)
	ts := NewTimestamp(fx.state.Genesis(), time.Unix(1764590400, 0))
	ts.Signature = s1.Sign(f, ts.Message(), 4)
	f.Add(ts.Encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseTimestamp(b)
		if err != nil {
			return
		}
		if !bytes.Equal(got.Encode(), b) {
			t.Fatalf("re-encoding differs")
		}
		if got.Verify(s1.Roster) == nil && !bytes.Equal(got.Message(), ts.Message()) {
			t.Fatalf("another statement verified")
		}
	})
}

func FuzzParsePayload(f *testing.F) {
	fx := newFixture(f)
	p, err := fx.state.NewPayload(fx.release("14.0"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(KindRelease, p.Encode())
	f.Add(KindGenesis, (&Genesis{Product: "tor-browser", Policy: fx.policy}).Encode())
	f.Add(KindRosterChange, []byte{})
	f.Fuzz(func(t *testing.T, kind string, b []byte) {
		if kind == KindGenesis {
			g, err := ParseGenesis(b)
			if err == nil && !bytes.Equal(g.Encode(), b) {
				t.Fatalf("genesis re-encoding differs")
			}
			return
		}
		got, err := ParsePayload(kind, b)
		if err != nil {
			return
		}
		if !bytes.Equal(got.Encode(), b) {
			t.Fatalf("re-encoding differs")
		}
	})
}
