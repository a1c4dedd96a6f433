// Package api is the HTTP layout of a chainiac chain: the paths a node serves and a
// static export writes, and the encodings of what is served there. Nodes, the export
// writer, the updater and the monitor all use this one package, so a static mirror and
// a live node can never disagree on where a byte lives or how it is encoded.
//
// Start with the path functions (Latest, Block, Timestamp) and the served encodings
// (LatestRecord, ServedBlock). Everything a client needs is under one prefix,
// /v1/chains/{genesis}/, and is immutable except `latest`, `timestamp` and a block's
// list of links (a block gains links as the chain grows):
//
//	/v1/chains/{genesis}/latest                 LatestRecord: newest index and ID (a hint)
//	/v1/chains/{genesis}/timestamp              timeline.Timestamp: the newest cosigned timestamp
//	/v1/chains/{genesis}/blocks/{index}         ServedBlock: the block with its forward links
//	/v1/chains/{genesis}/headers/{index}        skipchain.Header alone
//	/v1/chains/{genesis}/payloads/{index}       the block's payload alone
//	/v1/chains/{genesis}/links/{index}/{level}  one skipchain.ForwardLink leaving block index
//
// The last three let an updater fetch only what it checks: a header of a few hundred
// bytes instead of a block carrying its whole roster, one link per hop.
//
// # Trust model
//
// Nothing served here is trusted for being served: a block is trusted through the
// forward links and timestamps that a trusted roster signed, and a latest record is
// only a hint for which block to fetch next. The decoders are strict and bounded, for
// bytes from any mirror.
package api
