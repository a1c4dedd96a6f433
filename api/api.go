package api

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/skipchain"
)

// Media types: binary for programs, JSON for people (Accept: application/json or
// ?format=json).
const (
	MediaBinary = "application/octet-stream"
	MediaJSON   = "application/json"
)

// Prefix is the root of every chain's paths.
const Prefix = "/v1/chains/"

// ChainRoot is the directory of one chain: /v1/chains/{genesis hex}/.
func ChainRoot(genesis skipchain.ID) string { return Prefix + genesis.String() + "/" }

// Latest is the path of a chain's LatestRecord.
func Latest(genesis skipchain.ID) string { return ChainRoot(genesis) + "latest" }

// Timestamp is the path of a chain's newest cosigned timestamp.
func Timestamp(genesis skipchain.ID) string { return ChainRoot(genesis) + "timestamp" }

// Block is the path of block index with its forward links.
func Block(genesis skipchain.ID, index uint64) string {
	return ChainRoot(genesis) + "blocks/" + strconv.FormatUint(index, 10)
}

// Header is the path of block index's header alone: what a client needs to check a
// block it reached, without the roster or payload.
func Header(genesis skipchain.ID, index uint64) string {
	return ChainRoot(genesis) + "headers/" + strconv.FormatUint(index, 10)
}

// Payload is the path of block index's payload alone (its SHA-256 is in the header).
func Payload(genesis skipchain.ID, index uint64) string {
	return ChainRoot(genesis) + "payloads/" + strconv.FormatUint(index, 10)
}

// Link is the path of the forward link leaving block index at level: one signature,
// for a client that walks forward links one hop at a time.
func Link(genesis skipchain.ID, index uint64, level int) string {
	return ChainRoot(genesis) + "links/" + strconv.FormatUint(index, 10) + "/" + strconv.Itoa(level)
}

// Proposals is where the release team posts proposals (nodes only, never exported).
func Proposals(genesis skipchain.ID) string { return ChainRoot(genesis) + "proposals" }

// Resource is what a chain path names.
type Resource int

// The resources of a chain.
const (
	ResLatest Resource = iota + 1
	ResTimestamp
	ResBlock
	ResProposals
	ResHeader
	ResPayload
	ResLink
)

// Path is a parsed chain path.
type Path struct {
	Genesis  skipchain.ID
	Resource Resource
	Index    uint64 // for a block, header, payload or link
	Level    int    // for a link
}

// String writes the path back, exactly as the path functions do.
func (p Path) String() string {
	switch p.Resource {
	case ResLatest:
		return Latest(p.Genesis)
	case ResTimestamp:
		return Timestamp(p.Genesis)
	case ResProposals:
		return Proposals(p.Genesis)
	case ResBlock:
		return Block(p.Genesis, p.Index)
	case ResHeader:
		return Header(p.Genesis, p.Index)
	case ResPayload:
		return Payload(p.Genesis, p.Index)
	case ResLink:
		return Link(p.Genesis, p.Index, p.Level)
	}
	return ""
}

// ErrNotFound is returned by ParsePath for a path that names nothing.
var ErrNotFound = errors.New("api: no such path")

// indexed maps the directory of each per-block resource to its resource.
var indexed = map[string]Resource{"blocks": ResBlock, "headers": ResHeader, "payloads": ResPayload, "links": ResLink}

// ParsePath reads a request path: the chain, the resource and, for a block, header,
// payload or link, its index (and a link's level). It accepts exactly the paths the
// functions above write (canonical decimal numbers, no trailing slash), so that one
// resource has one path, as a cache needs.
func ParsePath(p string) (Path, error) {
	var out Path
	rest, ok := strings.CutPrefix(p, Prefix)
	if !ok {
		return Path{}, ErrNotFound
	}
	hexID, rest, ok := strings.Cut(rest, "/")
	if !ok || len(hexID) != 2*skipchain.IDSize || strings.ToLower(hexID) != hexID {
		return Path{}, ErrNotFound
	}
	if err := out.Genesis.UnmarshalText([]byte(hexID)); err != nil {
		return Path{}, ErrNotFound
	}
	switch rest {
	case "latest":
		out.Resource = ResLatest
		return out, nil
	case "timestamp":
		out.Resource = ResTimestamp
		return out, nil
	case "proposals":
		out.Resource = ResProposals
		return out, nil
	}
	dir, num, _ := strings.Cut(rest, "/")
	if out.Resource, ok = indexed[dir]; !ok {
		return Path{}, ErrNotFound
	}
	if out.Resource == ResLink {
		var level string
		if num, level, ok = strings.Cut(num, "/"); !ok {
			return Path{}, ErrNotFound
		}
		l, ok := canonicalUint(level)
		if !ok || l >= skipchain.MaxMaxHeight {
			return Path{}, ErrNotFound
		}
		out.Level = int(l)
	}
	if out.Index, ok = canonicalUint(num); !ok {
		return Path{}, ErrNotFound
	}
	return out, nil
}

// canonicalUint parses a decimal number written without sign or leading zeros.
func canonicalUint(s string) (uint64, bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || strconv.FormatUint(v, 10) != s {
		return 0, false
	}
	return v, true
}

const (
	tagLatest      = "chainiac/v1/latest"
	tagServedBlock = "chainiac/v1/served-block"
)

// MaxLatestSize bounds an encoded LatestRecord.
const MaxLatestSize = 1 + len(tagLatest) + 8 + skipchain.IDSize

// LatestRecord names a chain's newest block. It is not signed: a client uses it only
// to decide what to fetch, and trusts the block through signatures.
type LatestRecord struct {
	Index uint64
	ID    skipchain.ID
}

// Encode returns tag "chainiac/v1/latest" ‖ u64 index ‖ ID.
func (l *LatestRecord) Encode() []byte {
	return wire.NewEncoder(tagLatest).Uint64(l.Index).Fixed(l.ID[:]).Out()
}

// ParseLatest decodes a LatestRecord strictly.
func ParseLatest(b []byte) (*LatestRecord, error) {
	if len(b) > MaxLatestSize {
		return nil, fmt.Errorf("api: latest: %d bytes, at most %d", len(b), MaxLatestSize)
	}
	var l LatestRecord
	d := wire.NewDecoder(b, tagLatest)
	l.Index = d.Field("index").Uint64()
	d.Field("id").Fixed(l.ID[:])
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("api: latest: %w", err)
	}
	return &l, nil
}

// MaxServedLinks bounds the forward links served with one block: one per level.
const MaxServedLinks = skipchain.MaxMaxHeight

// MaxServedBlockSize bounds an encoded ServedBlock.
const MaxServedBlockSize = 1 + len(tagServedBlock) + 4 + skipchain.MaxBlockSize + 4 + MaxServedLinks*(4+skipchain.MaxLinkSize)

// ServedBlock is a block with the forward links that leave it, as stored when served.
// Links are added after the block (a higher link only when the block it reaches
// exists), so the same block is served with more links later; the block itself never
// changes.
type ServedBlock struct {
	Block *skipchain.Block
	Links []*skipchain.ForwardLink // lowest level first
}

// Encode returns tag "chainiac/v1/served-block" ‖ bytes block ‖ list of bytes links.
func (s *ServedBlock) Encode() []byte {
	e := wire.NewEncoder(tagServedBlock).Bytes(s.Block.Encode()).Count(len(s.Links))
	for _, l := range s.Links {
		e.Bytes(l.Encode())
	}
	return e.Out()
}

// ParseServedBlock decodes a served block: the block is checked against its header
// (skipchain.ParseBlock), each link decodes and leaves this block, at strictly
// increasing levels. Signatures are not checked: the caller verifies each link with
// the roster it trusts.
func ParseServedBlock(b []byte) (*ServedBlock, error) { return ParseServedBlockWith(nil, b) }

// ParseServedBlockWith is ParseServedBlock with a roster cache: a block whose roster
// was seen before costs no key checks (a nil cache caches nothing).
func ParseServedBlockWith(cache *skipchain.RosterCache, b []byte) (*ServedBlock, error) {
	return parseServedBlock(cache, b, nil)
}

// ParseServedBlockOf is ParseServedBlockWith for a caller that knows which block it
// asked for: another block is refused on its header alone, before its roster's keys
// are checked (a junk roster of 4096 keys costs about a second to check).
func ParseServedBlockOf(cache *skipchain.RosterCache, b []byte, want skipchain.ID) (*ServedBlock, error) {
	return parseServedBlock(cache, b, &want)
}

func parseServedBlock(cache *skipchain.RosterCache, b []byte, want *skipchain.ID) (*ServedBlock, error) {
	if len(b) > MaxServedBlockSize {
		return nil, fmt.Errorf("api: served block: %d bytes, at most %d", len(b), MaxServedBlockSize)
	}
	d := wire.NewDecoder(b, tagServedBlock)
	blockBytes := d.Field("block").Bytes(skipchain.MaxBlockSize)
	n := d.Field("links").Count(MaxServedLinks, 4)
	linkBytes := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		linkBytes = append(linkBytes, d.Field(fmt.Sprintf("link %d", i)).Bytes(skipchain.MaxLinkSize))
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("api: served block: %w", err)
	}
	if want != nil {
		h, err := skipchain.ParseBlockHeader(blockBytes)
		if err != nil {
			return nil, fmt.Errorf("api: served block: %w", err)
		}
		if h.ID() != *want {
			return nil, fmt.Errorf("api: served block %d is %s, not %s", h.Index(), h.ID().Short(), want.Short())
		}
	}
	blk, err := cache.ParseBlock(blockBytes)
	if err != nil {
		return nil, fmt.Errorf("api: served block: %w", err)
	}
	s := &ServedBlock{Block: blk}
	last := uint64(0)
	for i, lb := range linkBytes {
		l, err := skipchain.ParseForwardLink(lb)
		if err != nil {
			return nil, fmt.Errorf("api: served block %d: link %d: %w", blk.Index(), i, err)
		}
		if l.From() != blk.ID() || l.FromIndex() != blk.Index() {
			return nil, fmt.Errorf("api: served block %d: link %d does not leave this block", blk.Index(), i)
		}
		if _, err := l.Level(blk.Header().Params()); err != nil {
			return nil, fmt.Errorf("api: served block %d: link %d: %w", blk.Index(), i, err)
		}
		if i > 0 && l.ToIndex() <= last {
			return nil, fmt.Errorf("api: served block %d: links not in ascending level order", blk.Index())
		}
		last = l.ToIndex()
		s.Links = append(s.Links, l)
	}
	return s, nil
}
