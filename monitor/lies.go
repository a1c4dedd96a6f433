package monitor

import (
	"context"
	"errors"
	"fmt"

	"github.com/chainiac/chainiac/skipchain"
)

// noteLie remembers that mirror i served a block at index that did not verify.
func (r *run) noteLie(i int, index uint64) {
	st, base := r.m.st, r.fetchers[i].base
	for _, l := range st.Lies {
		if l.Mirror == base && l.Index == index {
			return
		}
	}
	st.Lies = append(st.Lies, Lie{Mirror: base, Index: index, First: r.now})
	if len(st.Lies) > maxLies {
		st.Lies = st.Lies[len(st.Lies)-maxLies:]
	}
}

// recheckLies asks each mirror that lied about a block, now verified from another
// mirror, for that block again: a sync only fetches blocks beyond the stored head,
// so without this a restarted monitor would never see the forgery again. A mirror
// still lying is an alarm; one that now serves another block is searched for a fork
// like any diverging mirror; one that serves the verified block is forgiven.
func (r *run) recheckLies(ctx context.Context) error {
	m := r.m
	head := m.tl.Head().Index()
	var kept []Lie
	for _, l := range m.st.Lies {
		i := r.mirror(l.Mirror)
		switch {
		case i < 0:
			continue // no longer configured
		case l.Index > head || !r.status[i].Reachable || r.lied[i]:
			kept = append(kept, l) // the sync asks again, or a later run does
			continue
		}
		err := r.checkStored(ctx, i, l.Index)
		switch {
		case err == nil:
			continue
		case errors.Is(err, errDiverged):
			r.diverged[i] = true
		case isLie(err):
			r.mirrorFailed(i, err)
		case isUnreachable(err), errors.Is(err, errNotFound):
			if r.status[i].Error == "" {
				r.status[i].Error = err.Error()
			}
		default:
			return err
		}
		kept = append(kept, l)
	}
	m.st.Lies = kept
	return nil
}

func (r *run) mirror(base string) int {
	for i, f := range r.fetchers {
		if f.base == base {
			return i
		}
	}
	return -1
}

// checkStored checks what mirror i serves for block index, which the store holds:
// the block itself (errDiverged if it is another block) and every forward link into
// it, both as the link resource and as carried by the block it leaves, each under
// the roster of that block.
func (r *run) checkStored(ctx context.Context, i int, index uint64) error {
	m, f := r.m, r.fetchers[i]
	ours, err := m.store.Block(index)
	if err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	sb, err := f.served(ctx, index)
	if err != nil {
		return err
	}
	if sb.Block.ID() != ours.ID() {
		return errDiverged
	}
	p := ours.Header().Params()
	for _, pos := range p.LinksInto(index) {
		from, err := m.store.Block(pos.From)
		if err != nil {
			return fmt.Errorf("monitor: %w", err)
		}
		fsb, err := f.served(ctx, pos.From)
		if err != nil {
			return withheld(err)
		}
		links := []*skipchain.ForwardLink{}
		for _, l := range fsb.Links {
			if level, err := l.Level(p); err == nil && level == pos.Level {
				links = append(links, l)
			}
		}
		resource, err := f.link(ctx, pos.From, pos.Level)
		if err != nil {
			return withheld(err)
		}
		for _, l := range append(links, resource) {
			if err := skipchain.CheckLink(from, ours.Header(), l); err != nil {
				return &lie{err}
			}
		}
	}
	return nil
}
