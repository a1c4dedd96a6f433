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

// maxURLLen bounds the URLs a round carries.
const maxURLLen = 1024

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
	rd.Source = d.Field("source").String(maxURLLen)
	rd.CatchUp = d.Field("catch-up").String(maxURLLen)
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

// parseLinkMessage reads skipchain.LinkMessage back, for a member that must know
// which link it is asked to sign.
func parseLinkMessage(msg []byte) (from, to skipchain.ID, toIndex uint64, rosterID skipchain.ID, err error) {
	d := wire.NewDecoder(msg, linkTag)
	d.Field("from").Fixed(from[:])
	d.Field("to").Fixed(to[:])
	toIndex = d.Field("to index").Uint64()
	d.Field("roster").Fixed(rosterID[:])
	err = d.Finish()
	return
}

const linkTag = "chainiac/v1/forward-link"

// messageKind says what a message to sign is, by its domain tag.
func messageKind(msg []byte) string {
	if len(msg) == 0 || int(msg[0]) > len(msg)-1 {
		return ""
	}
	return string(msg[1 : 1+int(msg[0])])
}
