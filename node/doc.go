// Package node is the cothority node: a witness that rebuilds every proposed release
// before it signs, keeps the chains it witnessed durably, and serves them to updaters,
// mirrors and monitors.
//
// Start with Setup (a node's key and configuration), LoadConfig and Start, after
// Register once per process; Close stops a node. The release team talks to a node
// over HTTP (package api); nodes talk to each other through cosi/protocol rounds over
// onet.
//
// # What a node signs
//
// Two kinds of message, told apart by decoding them (witness.go):
//
//   - a forward link into a proposed block: signed only if the block follows this
//     node's own head by the skipchain and timeline rules, its own rebuild of a
//     release matches the manifest (release/build), the roster asked to sign is the
//     roster of the block the link leaves, and it never signed another block at that
//     position (a synced intent file, written before the share leaves);
//   - a timestamp: signed only for its own stored head, with that block's roster,
//     within MaxClockSkew of its clock, after storing the block the round carries.
//
// Anything else gets a signed refusal with the reason, which reaches the proposer.
//
// # How a block is made
//
// The node that receives a proposal leads (Propose): it builds the block from its own
// chain, runs one round per link into it, each by the roster of the block the link
// leaves, then a timestamp round by the block's roster that members sign only once
// they stored the block. A member that is behind catches up from the leader's HTTP
// API, verifying every block from its own head, and never holds its chain lock while
// it waits on the network. docs/operator-guide.md is the operator's view;
// docs/wire-format.md lists every byte.
//
// A member pins the trees of the rounds it takes part in (pins.go), so that onet does
// not ship it the whole roster at every hourly timestamp or failure.
package node
