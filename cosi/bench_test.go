package cosi

import (
	"fmt"
	"testing"

	"go.dedis.ch/kyber/v3"
	"go.dedis.ch/kyber/v3/pairing/bn256"
	kybersign "go.dedis.ch/kyber/v3/sign"
	"go.dedis.ch/kyber/v3/sign/bdn"
)

var benchMsg = []byte("chainiac benchmark block")

type benchSetup struct {
	keys   []*PrivateKey
	roster *Roster
	shares []*Signature
}

var benchSetups = map[int]*benchSetup{}

func setupBench(b *testing.B, n int) *benchSetup {
	if s, ok := benchSetups[n]; ok {
		return s
	}
	keys := testKeys(b, n)
	r := testRoster(b, keys)
	shares := make([]*Signature, n)
	for i, k := range keys {
		s, err := k.Sign(r, benchMsg)
		if err != nil {
			b.Fatal(err)
		}
		shares[i] = s
	}
	s := &benchSetup{keys, r, shares}
	benchSetups[n] = s
	return s
}

// BenchmarkVerifyBaseline is one plain BLS verification with kyber's sign/bdn (two
// full pairings): the yardstick for BenchmarkVerify.
func BenchmarkVerifyBaseline(b *testing.B) {
	s := bn256.NewSuite()
	x, pub := bdn.NewKeyPair(s, s.RandomStream())
	sig, err := bdn.Sign(s, x, benchMsg)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := bdn.Verify(s, pub, benchMsg, sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify checks a collective signature with all members, and with exactly the
// default threshold (the most absentees Verify ever has to subtract).
func BenchmarkVerify(b *testing.B) {
	for _, n := range []int{16, 128, 1024} {
		s := setupBench(b, n)
		pol := DefaultPolicy(n)
		for _, signers := range []int{n, pol.Threshold} {
			sig, err := Aggregate(s.shares[:signers]...)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("n=%d/signers=%d", n, signers), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if err := Verify(s.roster, benchMsg, sig, pol); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkAggregate1024 adds 1024 weighted shares, as the root of a flat tree would.
func BenchmarkAggregate1024(b *testing.B) {
	s := setupBench(b, 1024)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Aggregate(s.shares...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAggregate1024KyberBDN is the same aggregation done the reference way, with
// sign/bdn re-deriving every coefficient and re-weighting every signature and key.
func BenchmarkAggregate1024KyberBDN(b *testing.B) {
	s := setupBench(b, 1024)
	suite := bn256.NewSuite()
	publics := make([]kyber.Point, len(s.keys))
	plain := make([][]byte, len(s.keys))
	for i, k := range s.keys {
		publics[i] = k.public.point
		sig, err := bdn.Sign(suite, k.secret, benchMsg)
		if err != nil {
			b.Fatal(err)
		}
		plain[i] = sig
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mask, _ := kybersign.NewMask(suite, publics, nil)
		for j := range publics {
			_ = mask.SetBit(j, true)
		}
		if _, err := bdn.AggregateSignatures(suite, plain, mask); err != nil {
			b.Fatal(err)
		}
		if _, err := bdn.AggregatePublicKeys(suite, mask); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignShare is one member's work per round: hash to G1 and one multiplication.
func BenchmarkSignShare(b *testing.B) {
	s := setupBench(b, 16)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.keys[0].Sign(s.roster, benchMsg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewRoster1024 is the one-time cost of admitting a roster: BDN coefficients
// and the weighted keys.
func BenchmarkNewRoster1024(b *testing.B) {
	s := setupBench(b, 1024)
	keys := s.roster.Keys()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := NewRoster(keys); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParsePublicKey includes the prime-order subgroup check.
func BenchmarkParsePublicKey(b *testing.B) {
	raw := setupBench(b, 16).keys[0].Public().Bytes()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ParsePublicKey(raw); err != nil {
			b.Fatal(err)
		}
	}
}
