// Package client is the updater's side of chainiac: from a pinned genesis ID alone to
// a release the cothority witnessed, and from there to a MAR file checked byte for
// byte. It speaks HTTP only, to nodes or to static mirrors of an export (package api
// gives the paths), and trusts nothing it has not verified itself.
//
// Start with New and the two calls an updater makes:
//
//	c, err := client.New(client.Config{Genesis: id, Mirrors: urls, StateDir: dir})
//	u, err := c.Check(ctx)                       // newest verified release
//	path, err := c.Download(ctx, u.Targets()[0], downloadDir)
//
// # Catch-up
//
// Check starts from the trusted state (the last verified block, its roster and the
// developer policy in force; the genesis on first use) and reaches the block that the
// newest cosigned timestamp names. The express path verifies that timestamp with the
// trusted roster (one signature check) and fetches the header it names; when the
// roster changed it first follows forward links to the newest roster change. The
// forward-link path (Config.Mode = Links) verifies every hop's collective signature
// instead. Either way the timestamp must be younger than Config.MaxAge, and the
// newest release is reached from the verified head through back-links (hashes) and
// checked against the developer policy in force, whose changes the client verifies
// one by one.
//
// # Failures
//
// Errors wrap ErrRejected when a mirror served something that does not verify (an
// attack, or a broken mirror), ErrFrozen (which also wraps ErrRejected) when the
// newest timestamp is too old, ErrUnreachable when no mirror answered, and
// ErrEvidence when two validly signed statements conflict: the evidence is kept in the
// state directory and Check refuses to go on until a person has looked and removed it.
// Trusted state only moves forward, is written atomically, and is locked while a Check
// runs, so concurrent clients may share a state directory.
package client
