package skipchain

import (
	"errors"
	"fmt"
)

// Reader is the read side of a chain: what proofs are built from. Store implements
// it; so can anything that serves blocks and links.
type Reader interface {
	// Head returns the newest header.
	Head() (*Header, error)
	// Header returns the header at index, or an error wrapping ErrUnknownBlock.
	Header(index uint64) (*Header, error)
	// Block returns the full block at index, or an error wrapping ErrUnknownBlock.
	Block(index uint64) (*Block, error)
	// Link returns the forward link from index at level, or an error wrapping
	// ErrUnknownLink.
	Link(from uint64, level int) (*ForwardLink, error)
	// Roster returns a roster by ID, or an error wrapping ErrUnknownRoster.
	Roster(id ID) (*Roster, error)
}

// BuildProof returns the update proof from block from to the head: at each block it
// takes the highest stored link that does not pass the head, so with every link
// present the path is the shortest (about 2·log_B(k) hops for k blocks) and each hop
// costs one link read. A missing link costs one more read and a lower level. If the
// path would exceed MaxProofHops or the proof's size limit, the proof ends at the
// last block it reached, and the client asks again from there. withPayload adds the
// final block's payload.
func BuildProof(r Reader, from uint64, withPayload bool) (*Proof, error) {
	head, err := r.Head()
	if err != nil {
		return nil, err
	}
	if from > head.index {
		return nil, fmt.Errorf("%w: proof from block %d, the head is block %d", ErrUnknownBlock, from, head.index)
	}
	start, err := r.Header(from)
	if err != nil {
		return nil, err
	}
	p := &Proof{genesis: start.Genesis(), fromIndex: from, from: start.ID()}
	params := start.params
	cur, curID, rosterID := from, start.ID(), start.rosterID
	size := 0
	for cur < head.index && len(p.hops) < MaxProofHops {
		link, level, err := highestLink(r, params, cur, head.index)
		if err != nil {
			return nil, err
		}
		if link.from != curID || link.fromIndex != cur {
			return nil, fmt.Errorf("%w: link stored at block %d level %d leaves block %d (%s), want %s",
				ErrCorrupt, cur, level, link.fromIndex, link.from.Short(), curID.Short())
		}
		hop := Hop{Level: uint8(level), To: link.to, Signature: link.sig}
		if link.rosterID != rosterID {
			ro, err := r.Roster(link.rosterID)
			if err != nil {
				return nil, err
			}
			hop.NewRoster = ro.encoded
		}
		size += minHopSize + len(hop.NewRoster) + len(link.sig.Mask().Bytes())
		if size > maxProofPath {
			break
		}
		p.hops = append(p.hops, hop)
		cur, curID, rosterID = link.toIndex, link.to, link.rosterID
	}
	end, err := r.Header(cur)
	if err != nil {
		return nil, err
	}
	if end.ID() != curID || end.rosterID != rosterID {
		return nil, fmt.Errorf("%w: block %d is %s with roster %s, its link says %s with roster %s",
			ErrCorrupt, cur, end.ID().Short(), end.rosterID.Short(), curID.Short(), rosterID.Short())
	}
	p.head = end
	if withPayload {
		b, err := r.Block(cur)
		if err != nil {
			return nil, err
		}
		p.payload, p.hasPayload = b.payload, true
	}
	return p, nil
}

// highestLink returns the highest stored link from block cur that does not pass
// block last.
func highestLink(r Reader, params Params, cur, last uint64) (*ForwardLink, int, error) {
	for level := int(params.Height(cur)) - 1; level >= 0; level-- {
		to, ok := params.target(cur, level)
		if !ok || to > last {
			continue
		}
		l, err := r.Link(cur, level)
		if errors.Is(err, ErrUnknownLink) {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		return l, level, nil
	}
	return nil, 0, fmt.Errorf("%w: no stored link leaves block %d towards block %d", ErrNoPath, cur, last)
}
