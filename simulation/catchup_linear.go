package simulation

import (
	"fmt"
	"time"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/skipchain"
)

// linearSide is a linear chain with one collective signature per block: to reach a
// block k ahead, an updater checks k signatures, each over one block and the one
// before it. Its signed statement is exactly chainiac's level-0 forward link (from,
// to, index, roster, collective signature), and its header is chainiac's header of a
// height-1 block (one back-link), so bytes come from those real encodings:
//
//	latest record + k level-0 links + the new head's header + its payload
//
// in three round trips (the latest index, one range request for the k links, the
// head with its payload), which is the fewest such a chain allows. Verification is
// measured on up to sample real level-0 links of the chain (cosi signature check under
// the roster, and each link starting where the previous one ends) and scaled
// linearly to k.
type linearSide struct {
	chain       *testchain.Chain
	roster      *skipchain.Roster
	links       []*skipchain.ForwardLink // level-0 links from block 1 on
	linkBytes   int
	headerBytes int // a height-1 header
	latestBytes int
}

func newLinearSide(c *testchain.Chain, sample int) (*linearSide, error) {
	s := &linearSide{chain: c, roster: c.Block(0).Roster()}
	for i := 1; i <= sample; i++ {
		l, err := c.SignLink(uint64(i), 0)
		if err != nil {
			return nil, err
		}
		s.links = append(s.links, l)
	}
	if len(s.links) == 0 {
		return nil, fmt.Errorf("simulation: linear: no links")
	}
	s.linkBytes = len(s.links[0].Encode())
	for _, l := range s.links {
		if len(l.Encode()) != s.linkBytes {
			return nil, fmt.Errorf("simulation: linear: links of %d and %d bytes", s.linkBytes, len(l.Encode()))
		}
	}
	h := c.Block(1).Header()
	if h.Height() != 1 {
		return nil, fmt.Errorf("simulation: linear: block 1 has height %d", h.Height())
	}
	s.headerBytes = len(h.Encode())
	head := c.Head().Header()
	s.latestBytes = len((&api.LatestRecord{Index: head.Index(), ID: head.ID()}).Encode())
	// Weigh the roster once, as a client does when it admits it.
	if err := skipchain.VerifyLinkSignature(s.roster, s.links[0]); err != nil {
		return nil, err
	}
	return s, nil
}

// catchUp is the cost of k blocks ending at block head.
func (s *linearSide) catchUp(k, head uint64) (*catchupMeasure, error) {
	n := min(int(k), len(s.links))
	wall, cpu, err := measure(func() error {
		for i, l := range s.links[:n] {
			if err := skipchain.VerifyLinkSignature(s.roster, l); err != nil {
				return err
			}
			if i > 0 && s.links[i-1].To() != l.From() {
				return fmt.Errorf("simulation: linear: link %d does not follow", i)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	payload := len(s.chain.Block(head).Payload())
	perCPU, perWall := cpu/time.Duration(n), wall/time.Duration(n)
	return &catchupMeasure{
		SignatureChecks: float64(k), Hops: float64(k), RoundTrips: 3,
		Bytes:        float64(s.latestBytes + int(k)*s.linkBytes + s.headerBytes + payload),
		PayloadBytes: float64(payload),
		CPU:          []time.Duration{perCPU * time.Duration(k)},
		Wall:         []time.Duration{perWall * time.Duration(k)},
	}, nil
}
