package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/skipchain"
)

// fuzzClock is an hour after the test chains' timestamps.
var fuzzClock = time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)

// realStates returns the state files a real client wrote while following a chain:
// at the genesis, after releases, after a roster and a policy change (the head a
// policy change, the release behind it), after a release under the new policy.
func realStates(t testing.TB) (*testchain.Chain, [][]byte) {
	c := testchain.New(t, testchain.Options{})
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	cl, err := New(Config{Genesis: c.ID(), Mirrors: []string{srv.URL}, StateDir: dir, Clock: func() time.Time { return fuzzClock }})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	snap := func() {
		if _, err := cl.Check(context.Background()); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, stateFile))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	snap()
	c.Releases(t, 1, 2)
	snap()
	c.ChangeRoster(t, "R2", 5)
	c.ChangePolicy(t, testchain.Developers(t, 5)[3:], 2)
	snap()
	c.Release(t, "2.0")
	snap()
	return c, out
}

// FuzzParseState: the state file parser never panics, and accepts only the one
// encoding of the state it returns.
func FuzzParseState(f *testing.F) {
	c, states := realStates(f)
	for _, s := range states {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseState(nil, b, c.ID())
		if err != nil {
			return
		}
		if again := st.encode(); !bytes.Equal(again, b) {
			t.Fatalf("accepted %d bytes that re-encode as %d other bytes", len(b), len(again))
		}
	})
}

// TestParseStateRefusesAReleasePayloadWithoutRelease: the last two fields are the
// newest release's header and payload, both empty before the first release; a
// payload without a header is not a state encode writes.
func TestParseStateRefusesAReleasePayloadWithoutRelease(t *testing.T) {
	c, states := realStates(t)
	genesis := states[0] // no release yet: ... ‖ u32 0 ‖ u32 0
	st, err := parseState(nil, genesis, c.ID())
	if err != nil || st.release != nil {
		t.Fatalf("the genesis state: %v, release %v", err, st.release)
	}
	bad := append(append([]byte(nil), genesis[:len(genesis)-4]...), 0, 0, 0, 1, 'x')
	if st, err := parseState(nil, bad, c.ID()); err == nil {
		t.Fatalf("accepted a release payload without a release header (re-encoded: %d bytes, given %d)", len(st.encode()), len(bad))
	}
}

// answerWith is a transport that answers every request with body.
type answerWith []byte

func (a answerWith) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Header: http.Header{"Content-Type": {api.MediaBinary}},
		Body: io.NopCloser(bytes.NewReader(a)), ContentLength: int64(len(a)), Request: r}, nil
}

// FuzzMirrorAnswers: whatever a mirror answers, the decoders and checks of package
// client never panic, refuse with an error wrapping ErrRejected, and accept only the
// one encoding of what they return (for a payload or a block: exactly the chain's).
func FuzzMirrorAnswers(f *testing.F) {
	c := testchain.New(f, testchain.Options{})
	c.Releases(f, 1, 3)
	c.ChangeRoster(f, "R2", 5)
	c.Release(f, "2.0")
	head := c.Head().Index()
	for i := uint64(0); i <= head; i++ {
		for kind, path := range []string{api.Timestamp(c.ID()), api.Header(c.ID(), i), api.Payload(c.ID(), i),
			api.Link(c.ID(), i, 0), api.Block(c.ID(), i)} {
			if b, err := c.Serve(path); err == nil {
				f.Add(uint8(kind), uint8(i), b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, kind, idx uint8, body []byte) {
		index := uint64(idx) % (head + 1)
		m := &mirror{base: "http://mirror.test", genesis: c.ID(), http: &http.Client{Transport: answerWith(body)},
			timeout: time.Second, stats: &Stats{}, roster: skipchain.NewRosterCache(4)}
		ctx := context.Background()
		var err error
		switch kind % 5 {
		case 0:
			var ts interface{ Encode() []byte }
			if ts, err = m.timestamp(ctx); err == nil && !bytes.Equal(ts.Encode(), body) {
				t.Fatal("a timestamp accepted in another encoding")
			}
		case 1:
			var h *skipchain.Header
			if h, err = m.anyHeader(ctx, index); err == nil && (!bytes.Equal(h.Encode(), body) || h.Index() != index) {
				t.Fatalf("header %d accepted as block %d or in another encoding", index, h.Index())
			}
		case 2:
			var p []byte
			if p, err = m.payload(ctx, c.Block(index).Header()); err == nil && !bytes.Equal(p, c.Block(index).Payload()) {
				t.Fatal("another payload accepted")
			}
		case 3:
			var l *skipchain.ForwardLink
			if l, err = m.link(ctx, index, 0); err == nil && !bytes.Equal(l.Encode(), body) {
				t.Fatal("a link accepted in another encoding")
			}
		case 4:
			var b *skipchain.Block
			if b, err = m.block(ctx, index, c.Block(index).ID()); err == nil && !bytes.Equal(b.Encode(), c.Block(index).Encode()) {
				t.Fatal("another block accepted")
			}
		}
		if err != nil && !errors.Is(err, ErrRejected) {
			t.Fatalf("refused without ErrRejected: %v", err)
		}
	})
}
