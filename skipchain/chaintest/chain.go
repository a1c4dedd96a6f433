package chaintest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chainiac/chainiac/skipchain"
)

// PayloadKind is the payload kind of every block chaintest makes.
const PayloadKind = "chaintest"

// Chain is a chain built by a script: the blocks of the main line, the links signed
// into each of them, and the forks.
type Chain struct {
	Params  skipchain.Params
	Blocks  []*skipchain.Block
	Into    [][]*skipchain.ForwardLink // Into[i]: the links signed into block i, lowest level first
	Forks   map[uint64]*Fork
	Rosters map[string]*Signers
	// RosterOf[i] is the Signers of block i's roster.
	RosterOf []*Signers

	current *Signers
}

// Fork is a second block at an index of the main line, with its validly signed links.
type Fork struct {
	Block *skipchain.Block
	Into  []*skipchain.ForwardLink
}

// blockOptions are a block statement's modifiers.
type blockOptions struct {
	missing  map[uint64]bool // from indices whose link is left out
	signedBy *Signers
	signers  int
}

// Build runs a script (see the package documentation) and fails the test on any
// error in it.
func Build(t testing.TB, script string) *Chain {
	t.Helper()
	c := &Chain{Params: skipchain.DefaultParams(), Forks: map[uint64]*Fork{}, Rosters: map[string]*Signers{}}
	for lineNo, line := range strings.Split(script, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		for _, stmt := range strings.Split(line, ";") {
			fields := strings.Fields(stmt)
			if len(fields) == 0 {
				continue
			}
			if err := c.run(t, fields); err != nil {
				t.Fatalf("chaintest: line %d: %q: %v", lineNo+1, strings.TrimSpace(stmt), err)
			}
		}
	}
	return c
}

func (c *Chain) run(t testing.TB, f []string) error {
	switch {
	case f[0] == "params":
		if len(f) != 3 || len(c.Blocks) > 0 {
			return fmt.Errorf("want \"params BASE MAXHEIGHT\" before genesis")
		}
		b, err1 := strconv.ParseUint(f[1], 10, 32)
		h, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("bad numbers")
		}
		c.Params = skipchain.Params{Base: uint32(b), MaxHeight: uint32(h)}
		return c.Params.Validate()
	case f[0] == "roster":
		if len(f) < 2 || len(f) > 3 {
			return fmt.Errorf("want \"roster NAME [SIZE]\"")
		}
		n := 4
		if len(f) == 3 {
			v, err := strconv.Atoi(f[2])
			if err != nil {
				return err
			}
			n = v
		}
		c.current = c.signers(t, f[1], n)
		return nil
	case f[0] == "genesis":
		if len(f) != 1 || len(c.Blocks) > 0 || c.current == nil {
			return fmt.Errorf("want one \"genesis\", after a roster")
		}
		g, err := skipchain.NewGenesis(c.Params, c.current.Roster, PayloadKind, []byte("genesis"))
		if err != nil {
			return err
		}
		c.Blocks, c.Into, c.RosterOf = []*skipchain.Block{g}, [][]*skipchain.ForwardLink{nil}, []*Signers{c.current}
		return nil
	case f[0] == "blocks":
		if len(f) != 2 {
			return fmt.Errorf("want \"blocks N..M\"")
		}
		lo, hi, ok := strings.Cut(f[1], "..")
		from, err1 := strconv.ParseUint(lo, 10, 64)
		to, err2 := strconv.ParseUint(hi, 10, 64)
		if !ok || err1 != nil || err2 != nil || from > to {
			return fmt.Errorf("bad range %q", f[1])
		}
		for i := from; i <= to; i++ {
			if err := c.next(t, i, blockOptions{}); err != nil {
				return err
			}
		}
		return nil
	case f[0] == "fork":
		if len(f) != 2 || !strings.HasPrefix(f[1], "b") {
			return fmt.Errorf("want \"fork bN\"")
		}
		i, err := strconv.ParseUint(f[1][1:], 10, 64)
		if err != nil {
			return err
		}
		return c.fork(t, i)
	case strings.HasPrefix(f[0], "b"):
		i, err := strconv.ParseUint(f[0][1:], 10, 64)
		if err != nil {
			return fmt.Errorf("unknown statement %q", f[0])
		}
		opts, err := c.modifiers(t, i, f[1:])
		if err != nil {
			return err
		}
		return c.next(t, i, opts)
	}
	return fmt.Errorf("unknown statement %q", f[0])
}

func (c *Chain) signers(t testing.TB, name string, n int) *Signers {
	if s, ok := c.Rosters[name]; ok {
		return s
	}
	s := NewSigners(t, name, n)
	c.Rosters[name] = s
	return s
}

func (c *Chain) modifiers(t testing.TB, index uint64, f []string) (blockOptions, error) {
	opts := blockOptions{missing: map[uint64]bool{}}
	for len(f) > 0 {
		if len(f) < 2 {
			return opts, fmt.Errorf("modifier %q needs a value", f[0])
		}
		switch f[0] {
		case "missing-link":
			a, b, ok := strings.Cut(f[1], "->")
			from, err1 := strconv.ParseUint(a, 10, 64)
			to, err2 := strconv.ParseUint(b, 10, 64)
			if !ok || err1 != nil || err2 != nil || to != index {
				return opts, fmt.Errorf("bad link %q for block %d", f[1], index)
			}
			opts.missing[from] = true
		case "signed-by":
			s, ok := c.Rosters[f[1]]
			if !ok {
				return opts, fmt.Errorf("unknown roster %q", f[1])
			}
			opts.signedBy = s
		case "signers":
			n, err := strconv.Atoi(f[1])
			if err != nil {
				return opts, err
			}
			opts.signers = n
		default:
			return opts, fmt.Errorf("unknown modifier %q", f[0])
		}
		f = f[2:]
	}
	return opts, nil
}

// back returns the headers block index links back to.
func (c *Chain) back(index uint64) []*skipchain.Header {
	var back []*skipchain.Header
	for _, pos := range c.Params.LinksInto(index) {
		back = append(back, c.Blocks[pos.From].Header())
	}
	return back
}

func (c *Chain) next(t testing.TB, index uint64, opts blockOptions) error {
	if len(c.Blocks) == 0 {
		return fmt.Errorf("block before genesis")
	}
	if index != uint64(len(c.Blocks)) {
		return fmt.Errorf("block %d, the next index is %d", index, len(c.Blocks))
	}
	b, err := skipchain.NewBlock(c.Blocks[0].Header(), c.back(index), c.current.Roster, PayloadKind, fmt.Appendf(nil, "block %d", index))
	if err != nil {
		return err
	}
	c.Blocks = append(c.Blocks, b)
	c.RosterOf = append(c.RosterOf, c.current)
	c.Into = append(c.Into, c.signInto(t, b.Header(), opts))
	return nil
}

// signInto signs the links into a new header, each by its from block's roster
// unless the options say otherwise.
func (c *Chain) signInto(t testing.TB, h *skipchain.Header, opts blockOptions) []*skipchain.ForwardLink {
	var links []*skipchain.ForwardLink
	for _, pos := range c.Params.LinksInto(h.Index()) {
		if opts.missing[pos.From] {
			continue
		}
		s := c.RosterOf[pos.From]
		if opts.signedBy != nil {
			s = opts.signedBy
		}
		count := opts.signers
		if count == 0 {
			count = s.Roster.Threshold()
		}
		links = append(links, s.Link(t, c.Blocks[pos.From].Header(), h, count))
	}
	return links
}

func (c *Chain) fork(t testing.TB, index uint64) error {
	if index == 0 || index >= uint64(len(c.Blocks)) {
		return fmt.Errorf("fork at %d: only blocks 1 to %d exist", index, len(c.Blocks)-1)
	}
	b, err := skipchain.NewBlock(c.Blocks[0].Header(), c.back(index), c.RosterOf[index].Roster, PayloadKind, fmt.Appendf(nil, "fork %d", index))
	if err != nil {
		return err
	}
	c.Forks[index] = &Fork{Block: b, Into: c.signInto(t, b.Header(), blockOptions{})}
	return nil
}

// Genesis is block 0.
func (c *Chain) Genesis() *skipchain.Block { return c.Blocks[0] }

// Head is the last block of the main line.
func (c *Chain) Head() *skipchain.Block { return c.Blocks[len(c.Blocks)-1] }

// MemStore returns a memory store holding blocks 0..last of the main line with
// their links, failing the test if the script has no block last or the store
// refuses any.
func (c *Chain) MemStore(t testing.TB, last uint64) *skipchain.MemStore {
	t.Helper()
	s, err := skipchain.NewMemStore(c.Genesis())
	if err != nil {
		t.Fatalf("chaintest: %v", err)
	}
	c.AppendTo(t, s, 1, last)
	return s
}

// AppendTo appends blocks first..last of the main line with their links. It fails
// the test if the script has no block last.
func (c *Chain) AppendTo(t testing.TB, s skipchain.Store, first, last uint64) {
	t.Helper()
	if first <= last && last >= uint64(len(c.Blocks)) {
		t.Fatalf("chaintest: append blocks %d..%d: the script made blocks 0..%d", first, last, len(c.Blocks)-1)
	}
	for i := first; i <= last; i++ {
		if err := s.Append(c.Blocks[i], c.Into[i]...); err != nil {
			t.Fatalf("chaintest: append block %d: %v", i, err)
		}
	}
}
