package node

import (
	"fmt"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/cosi/protocol"
	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

const tagRoundData = "chainiac/v1/round-data"

// roundData is what a leader sends with every message it asks the roster to sign
// (protocol.Request.Data). Nothing in it is trusted: members check the block, verify
// the links and the timestamp, and fetch what they miss from CatchUp only through
// signatures they verify.
//
//	tag "chainiac/v1/round-data"
//	bytes block           the block the message is about (empty: none)
//	list of bytes links   forward links into that block, already signed
//	string source         where the release's source can be fetched (http or https)
//	string catch-up       the leader's HTTP base URL, to fetch missed blocks from
//	bytes timestamp       the leader's newest signed timestamp (empty: none)
type roundData struct {
	Block     *skipchain.Block
	Links     []*skipchain.ForwardLink
	Source    string
	CatchUp   string
	Timestamp *timeline.Timestamp
}

func (d *roundData) encode() []byte {
	e := wire.NewEncoder(tagRoundData)
	if d.Block != nil {
		e.Bytes(d.Block.Encode())
	} else {
		e.Bytes(nil)
	}
	e.Count(len(d.Links))
	for _, l := range d.Links {
		e.Bytes(l.Encode())
	}
	e.String(d.Source).String(d.CatchUp)
	if d.Timestamp != nil {
		e.Bytes(d.Timestamp.Encode())
	} else {
		e.Bytes(nil)
	}
	return e.Out()
}

func parseRoundData(cache *skipchain.RosterCache, b []byte) (*roundData, error) {
	if len(b) > protocol.MaxDataSize {
		return nil, fmt.Errorf("round data of %d bytes, at most %d", len(b), protocol.MaxDataSize)
	}
	d := wire.NewDecoder(b, tagRoundData)
	blockBytes := d.Field("block").Bytes(protocol.MaxDataSize)
	n := d.Field("links").Count(api.MaxServedLinks, 4)
	links := make([][]byte, n)
	for i := range links {
		links[i] = d.Field("link").Bytes(skipchain.MaxLinkSize)
	}
	rd := &roundData{}
	rd.Source = d.Field("source").String(api.MaxURLLen)
	rd.CatchUp = d.Field("catch-up").String(api.MaxURLLen)
	tsBytes := d.Field("timestamp").Bytes(timeline.MaxTimestampSize)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("round data: %w", err)
	}
	var err error
	if len(blockBytes) > 0 {
		if rd.Block, err = cache.ParseBlock(blockBytes); err != nil {
			return nil, fmt.Errorf("round data: %w", err)
		}
	}
	for _, lb := range links {
		l, err := skipchain.ParseForwardLink(lb)
		if err != nil {
			return nil, fmt.Errorf("round data: %w", err)
		}
		rd.Links = append(rd.Links, l)
	}
	if len(tsBytes) > 0 {
		if rd.Timestamp, err = timeline.ParseTimestamp(tsBytes); err != nil {
			return nil, fmt.Errorf("round data: %w", err)
		}
	}
	return rd, nil
}
