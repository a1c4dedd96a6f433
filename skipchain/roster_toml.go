package skipchain

import (
	"bytes"
	"fmt"

	"github.com/BurntSushi/toml"
	"github.com/chainiac/chainiac/cosi"
)

// The TOML form of a roster is an onet group file, so operators can combine rosters
// with onet's tools:
//
//	Threshold = 3            # optional; chainiac's own key, ignored by onet
//
//	[[servers]]
//	  Address = "tls://node1.example.org:7770"
//	  Suite = "bn256.adapter"
//	  Public = "<hex of the 128-byte BLS key>"
//	  Description = "node 1"
//
// A server whose own key is of another suite (a conode's Ed25519 identity) may carry
// its chainiac key as a service key instead:
//
//	  [servers.Services.chainiac]
//	    Suite = "bn256.adapter"
//	    Public = "<hex>"

// KeySuite is the onet suite name of chainiac's keys: kyber's bn256 pairing suite.
const KeySuite = "bn256.adapter"

// RosterService is the name under [servers.Services] that holds a chainiac key.
const RosterService = "chainiac"

// MaxRosterTOMLSize bounds a roster file.
const MaxRosterTOMLSize = 4 << 20

type groupTOML struct {
	Threshold int          `toml:"Threshold,omitempty"`
	Servers   []serverTOML `toml:"servers"`
}

type serverTOML struct {
	Address     string                 `toml:"Address"`
	Suite       string                 `toml:"Suite"`
	Public      string                 `toml:"Public"`
	Description string                 `toml:"Description,omitempty"`
	Services    map[string]serviceTOML `toml:"Services,omitempty"`
}

type serviceTOML struct {
	Public string `toml:"Public"`
	Suite  string `toml:"Suite"`
}

// ParseRosterTOML reads an onet-style group file. Without a Threshold key the roster
// gets cosi.DefaultThreshold of its size.
func ParseRosterTOML(b []byte) (*Roster, error) {
	if len(b) > MaxRosterTOMLSize {
		return nil, fmt.Errorf("%w: roster file of %d bytes exceeds %d", ErrMalformed, len(b), MaxRosterTOMLSize)
	}
	var g groupTOML
	if _, err := toml.Decode(string(b), &g); err != nil {
		return nil, fmt.Errorf("%w: roster file: %v", ErrMalformed, err)
	}
	if len(g.Servers) == 0 || len(g.Servers) > cosi.MaxRosterSize {
		return nil, fmt.Errorf("%w: roster file has %d servers, want 1 to %d", ErrMalformed, len(g.Servers), cosi.MaxRosterSize)
	}
	members := make([]Member, len(g.Servers))
	for i, s := range g.Servers {
		suite, public := s.Suite, s.Public
		if svc, ok := s.Services[RosterService]; ok {
			suite, public = svc.Suite, svc.Public
		}
		if suite != KeySuite {
			return nil, fmt.Errorf("%w: roster file server %d (%s): key suite %q, want %q", ErrMalformed, i, s.Address, suite, KeySuite)
		}
		if err := members[i].Key.UnmarshalText([]byte(public)); err != nil {
			return nil, fmt.Errorf("%w: roster file server %d (%s): %w", ErrMalformed, i, s.Address, err)
		}
		members[i].Address = s.Address
	}
	threshold := g.Threshold
	if threshold == 0 {
		threshold = cosi.DefaultThreshold(len(members))
	}
	return NewRoster(members, threshold)
}

// MarshalTOML writes the roster as an onet-style group file. descriptions, if not
// nil, gives each server's Description in roster order.
func (r *Roster) MarshalTOML(descriptions []string) ([]byte, error) {
	if descriptions != nil && len(descriptions) != len(r.members) {
		return nil, fmt.Errorf("skipchain: %d descriptions for %d members", len(descriptions), len(r.members))
	}
	g := groupTOML{Threshold: r.threshold, Servers: make([]serverTOML, len(r.members))}
	for i, m := range r.members {
		g.Servers[i] = serverTOML{Address: m.Address, Suite: KeySuite, Public: m.Key.String()}
		if descriptions != nil {
			g.Servers[i].Description = descriptions[i]
		}
	}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(g); err != nil {
		return nil, fmt.Errorf("skipchain: roster file: %w", err)
	}
	return buf.Bytes(), nil
}
