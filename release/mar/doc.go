// Package mar reads, writes, strips, signs and verifies Mozilla Archive
// (MAR) files, the update packages Firefox, Thunderbird and Tor Browser
// updaters apply. It is pure Go: no network, no external tools.
//
// Start with Open, which parses and checks an archive through an
// io.ReaderAt without reading its contents; then Verify, Strip or
// CompareStripped (a signed MAR, stripped, against the unsigned MAR a
// rebuild produced). Write creates unsigned MARs deterministically, Sign
// adds RSA signatures, Extract unpacks with size limits.
//
// Write's xz entries are one stream of independent 8 MiB blocks, compressed
// in parallel; random-looking blocks are stored as LZMA2 uncompressed chunks.
// xzwriter.go gives the container byte for byte; the bytes do not depend on
// the number of cores.
//
// # Format
//
// All integers are big-endian.
//
//	offset  size  field
//	0       4     "MAR1"
//	4       4     offset of the index
//	8       8     size of the whole file
//	16      4     number of signatures (at most 8)
//	20            per signature: u32 algorithm, u32 length L (at most 2048), L bytes
//	              u32 number of additional sections
//	              per section: u32 size (including these 8 bytes), u32 id, data;
//	              id 1, product information: channel NUL version NUL zero padding
//	              entry contents, each compressed on its own (xz or bzip2)
//	index         u32 size of what follows, then per entry:
//	              u32 offset, u32 size, u32 mode, name NUL
//
// Open insists on the canonical shape Mozilla's tools produce: the header's
// file size is the real size, the index is last and fills the rest of the
// file exactly, every entry lies between the additional sections and the
// index, entries do not overlap, names are unique. Every count and length
// is bounded (see the Max constants), so a hostile file costs at most a
// few MiB of memory to open, whatever it claims.
//
// # Signatures
//
// A signature covers bytes 0-19 (magic, index offset, file size, signature
// count), each signature's algorithm and length fields but not its bytes,
// and everything after the signature block. Algorithm 1 is RSA PKCS#1 v1.5
// with SHA-1 (verified, never produced), algorithm 2 the same with
// SHA-384. Stripping removes the signature block's entries, sets the count
// to 0 and moves the index offset, the file size and every entry offset
// down by the block's length; AddSignatures is the exact inverse, so a
// signed MAR is "the unsigned MAR plus signatures" byte for byte, which is
// what CompareStripped checks.
//
// # Trust
//
// Open only establishes that the bytes are well formed. Nothing in an
// archive is authentic until Verify succeeds with a key the caller trusts
// for other reasons (pinned, or bound by a collectively signed release
// manifest). Entry names are untrusted: Extract refuses absolute names,
// ".." and the like, creates files through an os.Root so existing
// symlinks cannot redirect it, never overwrites, and limits decompressed
// sizes and the xz dictionary an entry may ask for.
package mar
