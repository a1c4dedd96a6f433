// Package monitor is an independent auditor of one chainiac chain: run by someone
// outside the cothority, it follows the chain from its genesis ID through one or more
// mirrors (nodes or static exports), verifies every block and every forward link into
// it, compares what each mirror and each other monitor shows, and publishes what it
// found: a signed checkpoint, evidence files and a static timeline site.
//
// Start with New and Run:
//
//	m, err := monitor.New(monitor.Config{Genesis: id, Mirrors: urls, StateDir: dir, SiteDir: site})
//	rep, err := m.Run(ctx) // rep.Status is Healthy, Alarmed or Unreachable
//
// # What a run verifies
//
// Each block after the stored head: the skipchain rules (skipchain.CheckSuccessor:
// index, parameters, every back-link, the roster's "since"), every forward link into
// it (skipchain.CheckLink, each under the roster of the block it leaves, so a roster
// change is authorised by the old roster), and the timeline rules
// (timeline.State.Check, then Apply: the payload pointers, the release manifest under
// the developer policy in force, roster and policy changes and their sequence
// numbers). A block is stored (skipchain.BoltStore, which checks the same chain rules
// again before it writes) only when all of that passed. Each mirror's newest
// timestamp is verified under the roster of the block it names in the verified chain
// and must describe that block (timeline.Timestamp.Verify, Describes).
//
// # Split view
//
// A mirror whose timestamp or next block names another block than the verified one
// is searched (binary search over its headers, which chain by hash) for the first
// block where its chain leaves ours, and its link into that block is offered to the
// store: if the same roster signed it, the store returns a *skipchain.ForkError,
// which is kept as evidence in the updater's format (client.Evidence). A timestamp
// signed by our block's roster naming another block is kept as timestamp evidence
// when no link fork is found. Anything that does not verify is a lying-mirror alarm,
// which proves nothing about the roster; a verified timestamp older than MaxAge is a
// frozen-mirror alarm.
//
// # Checkpoints and peers
//
// After each run the monitor signs a Checkpoint (Ed25519, key in StateDir) of the
// newest block it verified, publishes it in the site, and fetches the checkpoints of
// the peers it was given: one naming another block at an index it verified is a
// peer-conflict alarm (a split view between monitors).
//
// # Release checks
//
// Two optional checks go beyond the chain (see CheckMARs and RebuildConfig). With
// Config.CheckMARs each release's signed MARs are fetched from the URLs in its
// manifest and their size and SHA-512 compared with it: a difference is a
// mar-mismatch alarm. With Config.Rebuild each release is rebuilt from its source
// with release/build (Runner, FetchSignedMARs, CheckRebuild), as the nodes did
// before they signed: a release that does not reproduce is a not-reproducible
// alarm. Each keeps a CheckLog in the state file (every release up to Done checked;
// the failed and the not yet checked), saved after each release, so that a restart
// redoes nothing; what could not be fetched is tried again in the next run.
//
// # State
//
// StateDir holds chain.db (the verified blocks and links), monitor.json (alarms, the
// newest verified timestamp, run history, the release checks' logs; written
// atomically), monitor.key and evidence/. After a restart the monitor goes on from
// the stored head: collective signatures are not checked again, the timeline state
// is rebuilt by applying the stored blocks (developer signatures, cheap). Evidence
// files keep every run's status at Alarmed until a person removes them (the same
// fork found again adds no file), and the blocks mirrors lied about are kept in the
// state file and asked for again in every later run, since a run only fetches blocks
// beyond the stored head.
package monitor
