package cachedpoint

import (
	"go.dedis.ch/kyber/v3/pairing/bn256"
	"go.dedis.ch/kyber/v3/suites"
	_ "go.dedis.ch/onet/v3/network" // registers kyber's decoders first, which these replace
	"go.dedis.ch/protobuf"
)

// onet decodes a kyber.Point by the type tag written before it. From here on, the
// two identity groups' tags decode to Points, so that every identity in the process,
// made here or received, is of one type: kyber's own Ed25519 and BN256 Add and Ed25519
// Equal type-assert their arguments, and panic on a mix.
func init() {
	ed25519 := suites.MustFind("Ed25519")
	protobuf.RegisterInterface(func() interface{} { return Of(ed25519.Point()) })
	protobuf.RegisterInterface(func() interface{} { return Of(bn256.NewSuiteG2().Point()) })
}
