package mar

// Limits of the reader and writer. They bound every count and length an
// attacker controls, so that opening a hostile file costs at most a few
// megabytes of memory whatever its header claims.
const (
	// MaxFileSize is the largest MAR this package opens or writes.
	MaxFileSize = 500 << 20

	// MaxSignatures and MaxSignatureSize match the limits of Mozilla's
	// updater (8 signatures of at most 2048 bytes, i.e. 16384-bit RSA).
	MaxSignatures    = 8
	MaxSignatureSize = 2048

	// MaxSections bounds the additional sections; MaxSectionSize bounds
	// one section including its 8-byte header.
	MaxSections    = 16
	MaxSectionSize = 4096

	// MaxEntries and MaxNameLen bound the index; MaxIndexSize bounds the
	// bytes read for it (every entry is at least 13 bytes).
	MaxEntries   = 100_000
	MaxNameLen   = 1024
	MaxIndexSize = 16 << 20

	// MaxChannelLen and MaxVersionLen are the room Mozilla's tools give
	// the product information block (64 and 32 bytes with the NULs).
	MaxChannelLen = 63
	MaxVersionLen = 31
)

// Decompression defaults used by Extract when Limits leaves a field zero.
const (
	DefaultMaxEntrySize = 1 << 30
	DefaultMaxTotalSize = 4 << 30
	// DefaultMaxXZDict bounds the LZMA2 dictionary an xz entry may ask
	// for; the decoder allocates it up front. xz -9 uses 64 MiB.
	DefaultMaxXZDict = 64 << 20
)
