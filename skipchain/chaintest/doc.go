// Package chaintest builds skipchains for tests from a short script, with keys from a
// deterministic source so that every run builds the same bytes.
//
// Start with Build:
//
//	c := chaintest.Build(t, `
//		roster R1 4          # a roster of 4 members; following blocks use it
//		genesis
//		b1; b2
//		roster R2 7          # a roster change: block 3 names R2, R1 signs the links into it
//		b3
//		b4 missing-link 2->4 # the level-1 link from block 2 is never signed
//		fork b4              # a second, validly signed block 4
//		b5 signed-by R1      # the links into block 5 are signed by a stale roster
//	`)
//	store := c.MemStore(t, 4)          // blocks 0..4 appended with their links
//
// Statements are separated by newlines or ";", and "#" starts a comment:
//
//	params B H             base and maximum height (before genesis; default 2, 32)
//	roster NAME [N]        use roster NAME (made with N members, default 4, on first use)
//	genesis                the genesis block, with the current roster
//	bN [modifiers]         block N, which must be the next index
//	blocks N..M            blocks N to M, no modifiers
//	fork bN                a different block N, built on the same predecessors and
//	                       validly signed: Forks[N]
//
// Block modifiers: "missing-link A->N" leaves out the link from block A;
// "signed-by NAME" has every link into the block signed by roster NAME instead of
// its from block's roster; "signers K" has only K members of each roster sign.
//
// LazyChain is the other helper: a chain of any length whose headers are computed up
// front and whose links are signed only when read, for benchmarks of update proofs
// over 10⁵ blocks.
package chaintest
