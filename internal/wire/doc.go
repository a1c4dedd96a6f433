// Package wire is the one canonical encoding of every byte string chainiac hashes or
// signs.
//
// A message starts with a domain tag (for example "chainiac/v1/block") so that bytes
// signed for one purpose can never be read as another, followed by its fields in a
// fixed order:
//
//	tag        u8 length, then the ASCII tag
//	u8/u16/u32/u64   big-endian, fixed width
//	fixed      raw bytes whose length the field's type fixes (hashes, keys, points)
//	bytes      u32 length, then the bytes
//	string     as bytes, and valid UTF-8
//	list       u32 count, then the elements
//
// There is no reflection, no optional field and no alternative form: one value has one
// encoding, so decode∘encode and encode∘decode are both the identity. Decoding is strict:
// every length is checked against a caller-supplied limit before anything is allocated,
// and trailing bytes are an error.
//
// Start with NewEncoder and NewDecoder. Both carry a sticky error, so a caller writes a
// straight sequence of field reads and checks Finish once.
package wire
