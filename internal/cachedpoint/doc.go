// Package cachedpoint gives onet server identities public keys that remember their
// encoding.
//
// onet encodes a server's public key on every message it sends (the key's String
// names the connection to use) and compares two keys, by encoding both, on every
// message it receives. An Ed25519 encoding costs a field inversion and a BN256 G2
// encoding one in GF(p²), so in a round of 4096 members these encodings took about a
// tenth of all CPU. A Point computes its encoding once, until it changes, and
// everything else goes to the point it wraps.
//
// A Point is encoded exactly as the point it wraps, type tag included, so peers see no
// difference. Importing this package makes onet decode Ed25519 and BN256 G2 points,
// process-wide, as Points (see decode.go), and identities the program makes must be
// wrapped with Of: kyber's points type-assert their arguments in Add (and Ed25519's
// in Equal), so a plain point meeting a Point there panics. Points themselves accept
// either.
package cachedpoint
