package simulation

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/testchain"
)

// chainiacSide is chainiac's updater, the real client package, against an
// internal/testchain cothority served over loopback HTTP, as client/bench_test.go
// measures it: links and timestamps are signed by the roster's threshold of real
// keys, lazily, before the timed runs.
type chainiacSide struct {
	chain *testchain.Chain
	url   string
	now   time.Time // the clients' clock: an hour after the chain's timestamps
	tmp   string    // state directories
	http  *http.Client
}

// catchupMeasure is the cost of one catch-up, from one start, over repeated runs.
type catchupMeasure struct {
	SignatureChecks float64
	Hops            float64
	Bytes           float64 // response bodies, payload included
	PayloadBytes    float64
	ProofHashes     float64
	RoundTrips      float64
	CPU, Wall       []time.Duration // one per timed run
}

// trusted returns a state directory whose client trusts block index (reached by
// the express path from the genesis).
func (s *chainiacSide) trusted(ctx context.Context, index uint64) (string, error) {
	head := s.chain.Head().Index()
	s.chain.SetVisible(index)
	defer s.chain.SetVisible(head)
	dir, err := os.MkdirTemp(s.tmp, "trusted-")
	if err != nil {
		return "", err
	}
	cl, err := s.client(dir, client.Express)
	if err != nil {
		return "", err
	}
	u, err := cl.Check(ctx)
	if err != nil {
		return "", err
	}
	if u.Head.Index != index {
		return "", fmt.Errorf("simulation: trusted block %d, want %d", u.Head.Index, index)
	}
	return dir, nil
}

func (s *chainiacSide) client(dir string, mode client.Mode) (*client.Client, error) {
	return client.New(client.Config{Genesis: s.chain.ID(), Mirrors: []string{s.url}, StateDir: dir, Mode: mode,
		Clock: func() time.Time { return s.now }, HTTPClient: s.http, RequestTimeout: time.Minute})
}

// catchUp measures one Check in mode from the state in template to the visible
// head: one run that signs what the path reads and admits the roster, then repeats
// timed runs, each from a fresh copy of the template state, with the same client (its
// roster cache warm, as in a long-running updater).
func (s *chainiacSide) catchUp(ctx context.Context, template string, mode client.Mode, repeats int, want uint64) (*catchupMeasure, error) {
	dir, err := os.MkdirTemp(s.tmp, "state-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cl, err := s.client(dir, mode)
	if err != nil {
		return nil, err
	}
	m := &catchupMeasure{}
	for i := 0; i <= repeats; i++ {
		if err := copyState(template, dir); err != nil {
			return nil, err
		}
		var u *client.Update
		wall, cpu, err := measure(func() error {
			var err error
			u, err = cl.Check(ctx)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", mode, err)
		}
		if u.Head.Index != want {
			return nil, fmt.Errorf("simulation: %s reached block %d, want %d", mode, u.Head.Index, want)
		}
		if i == 0 {
			continue // the warm-up run
		}
		st := u.Stats
		m.SignatureChecks, m.Hops, m.RoundTrips = float64(st.SignatureChecks), float64(st.Hops), float64(st.RoundTrips)
		m.Bytes, m.PayloadBytes = float64(st.Bytes), float64(st.PayloadBytes)
		m.CPU, m.Wall = append(m.CPU, cpu), append(m.Wall, wall)
	}
	return m, nil
}

// copyState makes dst hold exactly the files of src (state directories are flat).
func copyState(src, dst string) error {
	old, err := os.ReadDir(dst)
	if err != nil {
		return err
	}
	for _, e := range old {
		if err := os.RemoveAll(filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	files, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range files {
		if !e.Type().IsRegular() {
			return fmt.Errorf("simulation: state %s holds %s, not a file", src, e.Name())
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}
