package release

import (
	"bytes"
	"testing"
)

// Each fuzz target checks: garbage gives an error, never a panic; whatever decodes
// re-encodes to the same bytes (one value, one encoding).

func FuzzParseManifest(f *testing.F) {
	f.Add(testManifest().Encode())
	f.Add(rawEncode(testManifest())) // unsorted: must be refused
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err != nil {
			return
		}
		if !bytes.Equal(m.Encode(), b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, m.Encode())
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("parsed manifest does not validate: %v", err)
		}
	})
}

func FuzzParsePolicy(f *testing.F) {
	p, err := NewPolicy(publicKeys(testSigners(f, 3)), 2)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(p.Encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolicy(b)
		if err != nil {
			return
		}
		if !bytes.Equal(p.Encode(), b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, p.Encode())
		}
	})
}

func FuzzParseSignedManifest(f *testing.F) {
	devs := testSigners(f, 3)
	policy, err := NewPolicy(publicKeys(devs), 2)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signedBy(f, devs[0], devs[1]).Encode())
	f.Add(signedBy(f, devs[2]).Encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		sm, err := ParseSignedManifest(b)
		if err != nil {
			return
		}
		if !bytes.Equal(sm.Encode(), b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, sm.Encode())
		}
		// Verification of any decoded envelope returns, without panicking.
		if m, err := policy.VerifyManifest(sm); err == nil && !bytes.Equal(m.Encode(), sm.Manifest) {
			t.Fatal("verified manifest differs from the signed bytes")
		}
	})
}

func FuzzParsePolicyChange(f *testing.F) {
	devs := testSigners(f, 3)
	old, err := NewPolicy(publicKeys(devs), 2)
	if err != nil {
		f.Fatal(err)
	}
	next, err := NewPolicy(publicKeys(devs[1:]), 1)
	if err != nil {
		f.Fatal(err)
	}
	c, err := NewPolicyChange(ChainID(fill256(0xa0)), 1, old, next)
	if err != nil {
		f.Fatal(err)
	}
	for _, d := range devs[:2] {
		if err := d.SignPolicyChange(c); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(c.Encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParsePolicyChange(b)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Encode(), b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, c.Encode())
		}
		// Verification of any decoded envelope returns, without panicking, and
		// accepts only a change for the chain and position asked for.
		if got, err := c.Contents(); err == nil {
			if next, err := old.VerifyChange(c, got.Chain, got.Sequence); err == nil && (got.Previous != old.Hash() || !next.Equal(got.Next)) {
				t.Fatal("the contents shown differ from what verified")
			}
		}
		if _, err := old.VerifyChange(c, ChainID(fill256(0xa0)), 1); err == nil {
			if _, err := old.VerifyChange(c, ChainID(fill256(0xb0)), 1); err == nil {
				t.Fatal("change verified for two chains")
			}
			if _, err := old.VerifyChange(c, ChainID(fill256(0xa0)), 2); err == nil {
				t.Fatal("change verified at two positions")
			}
		}
	})
}

// FuzzParsePolicyFile: text that parses renders back to text that parses to the same
// policy.
func FuzzParsePolicyFile(f *testing.F) {
	p, err := NewPolicy(publicKeys(testSigners(f, 3)), 2)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(p.MarshalPolicyFile()))
	f.Add("threshold = 1\nkeys = []\n")
	f.Fuzz(func(t *testing.T, text string) {
		p, err := ParsePolicyFile([]byte(text))
		if err != nil {
			return
		}
		again, err := ParsePolicyFile(p.MarshalPolicyFile())
		if err != nil || !again.Equal(p) {
			t.Fatalf("policy file does not round-trip: %v", err)
		}
	})
}
