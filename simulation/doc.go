// Package simulation measures chainiac's protocols and compares the design with a
// transparency log. Each scenario returns a Result (CSV tables, figures, findings)
// that WriteResult writes as CSV, PNG, SVG and markdown; `chainiac simulate` runs
// them (see docs/simulation.md).
//
//   - cosi (RunCosi, RunCosiSweep): n onet servers on 127.0.0.1 (internal/localnet),
//     each with a cosi key, and signing rounds of cosi/protocol from the first
//     server. The first rounds pay for opening connections and shipping the tree to
//     every node; they are reported as warm-up and left out of the figures.
//   - catchup (RunCatchup): an updater that missed k releases, by chainiac's real
//     client against an internal/testchain cothority over loopback HTTP, by a linear
//     chain of collective signatures, and by a Merkle log (golang.org/x/mod/sumdb/tlog)
//     whose checkpoints (sumdb/note) w witnesses cosign.
//   - scale (RunScale): serving cost at Tor Browser's scale over the real release
//     dates (data/tor-browser-releases.csv), from sizes measured on real encodings.
//   - attacks (RunAttacks): split view, freeze and rollback, a model of each design's
//     rules over seeded clients.
//
// internal/testchain is written for tests; harness drives it here, turning its
// Fatalf into an error.
//
// onet's own localhost simulation platform is not used: it starts a websocket on every
// interface for each server, waits 50 ms or more per server at start-up (about a
// minute for 1000 servers), changes the working directory and exits the process on
// errors. The servers, the tree protocol and the TCP transport are onet's all the
// same.
package simulation
