package skipchain

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/wire"
)

const (
	rosterTag = "chainiac/v1/roster"
	// MaxAddressLen bounds a member's network address.
	MaxAddressLen = 255
	// MaxRosterEncodedSize bounds an encoded roster: the largest roster with the
	// longest addresses.
	MaxRosterEncodedSize = 1 + len(rosterTag) + 2 + 4 + cosi.MaxRosterSize*(cosi.PublicKeySize+4+MaxAddressLen)
)

// Member is one node of a roster: the key it signs with and where to reach it.
type Member struct {
	Key     cosi.PublicKey
	Address string // "tls://host:port" or "tcp://host:port"; see CheckAddress
}

// Roster is the ordered set of nodes that signs forward links from a block, with the
// number of them a signature needs. It is immutable; its ID is the SHA-256 of its
// canonical encoding.
//
// The BDN weights that verification needs cost about 0.2 ms per key to compute, so a
// Roster computes them once, on first use, and keeps them: keep one *Roster per ID.
type Roster struct {
	members   []Member
	threshold int
	encoded   []byte
	id        ID

	once    sync.Once
	weights *cosi.Roster
	err     error
}

// NewRoster validates members and threshold and builds a roster. Keys must be valid
// and distinct, addresses well formed and distinct, and 1 ≤ threshold ≤ len(members);
// cosi.DefaultThreshold(len(members)) is the usual choice.
func NewRoster(members []Member, threshold int) (*Roster, error) {
	if len(members) < 1 || len(members) > cosi.MaxRosterSize {
		return nil, fmt.Errorf("%w: roster of %d members, want 1 to %d", ErrMalformed, len(members), cosi.MaxRosterSize)
	}
	if threshold < 1 || threshold > len(members) {
		return nil, fmt.Errorf("%w: roster threshold %d for %d members", ErrMalformed, threshold, len(members))
	}
	keys := make(map[[cosi.PublicKeySize]byte]int, len(members))
	addrs := make(map[string]int, len(members))
	for i, m := range members {
		if m.Key.IsZero() {
			return nil, fmt.Errorf("%w: roster member %d has no key", ErrMalformed, i)
		}
		if j, dup := keys[m.Key.Array()]; dup {
			return nil, fmt.Errorf("%w: roster members %d and %d have the same key", ErrMalformed, j, i)
		}
		keys[m.Key.Array()] = i
		if err := checkAddress(m.Address); err != nil {
			return nil, fmt.Errorf("%w: roster member %d: %v", ErrMalformed, i, err)
		}
		if j, dup := addrs[m.Address]; dup {
			return nil, fmt.Errorf("%w: roster members %d and %d have the same address", ErrMalformed, j, i)
		}
		addrs[m.Address] = i
	}
	r := &Roster{members: append([]Member(nil), members...), threshold: threshold}
	e := wire.NewEncoder(rosterTag).Uint16(uint16(threshold)).Count(len(members))
	for _, m := range members {
		e.Fixed(m.Key.Bytes()).String(m.Address)
	}
	r.encoded = e.Out()
	r.id = hashOf(r.encoded)
	return r, nil
}

// ParseRoster decodes a roster strictly and validates every key (on the curve, in the
// prime-order subgroup: about 0.5 ms per key) and address. Everything that costs no
// curve arithmetic (the encoding, the threshold, addresses, duplicate keys) is
// checked before the first key is decoded.
func ParseRoster(b []byte) (*Roster, error) {
	if len(b) > MaxRosterEncodedSize {
		return nil, fmt.Errorf("%w: roster of %d bytes exceeds %d", ErrMalformed, len(b), MaxRosterEncodedSize)
	}
	d := wire.NewDecoder(b, rosterTag)
	threshold := int(d.Field("threshold").Uint16())
	n := d.Field("members").Count(cosi.MaxRosterSize, cosi.PublicKeySize+4)
	raw := make([][cosi.PublicKeySize]byte, n)
	addrs := make([]string, n)
	for i := range raw {
		d.Field(fmt.Sprintf("member %d key", i)).Fixed(raw[i][:])
		addrs[i] = d.Field(fmt.Sprintf("member %d address", i)).String(MaxAddressLen)
		if d.Err() != nil {
			break
		}
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: roster: %w", ErrMalformed, err)
	}
	if threshold < 1 || threshold > n {
		return nil, fmt.Errorf("%w: roster threshold %d for %d members", ErrMalformed, threshold, n)
	}
	keys := make(map[[cosi.PublicKeySize]byte]int, n)
	for i, a := range addrs {
		if err := checkAddress(a); err != nil {
			return nil, fmt.Errorf("%w: roster member %d: %v", ErrMalformed, i, err)
		}
		if j, dup := keys[raw[i]]; dup {
			return nil, fmt.Errorf("%w: roster members %d and %d have the same key", ErrMalformed, j, i)
		}
		keys[raw[i]] = i
	}
	members := make([]Member, n)
	for i := range members {
		k, err := cosi.ParsePublicKey(raw[i][:])
		if err != nil {
			return nil, fmt.Errorf("%w: roster: member %d key: %w", ErrMalformed, i, err)
		}
		members[i] = Member{Key: k, Address: addrs[i]}
	}
	return NewRoster(members, threshold)
}

// rosterShape reads only the threshold and the member count of an encoded roster,
// without decoding any key: enough to tell whether a signature's mask could meet the
// roster's threshold.
func rosterShape(b []byte) (threshold, n int, err error) {
	d := wire.NewDecoder(b, rosterTag)
	threshold = int(d.Field("threshold").Uint16())
	n = d.Field("members").Count(cosi.MaxRosterSize, cosi.PublicKeySize+4)
	if err := d.Err(); err != nil {
		return 0, 0, fmt.Errorf("%w: roster: %w", ErrMalformed, err)
	}
	if threshold < 1 || threshold > n {
		return 0, 0, fmt.Errorf("%w: roster threshold %d for %d members", ErrMalformed, threshold, n)
	}
	return threshold, n, nil
}

// CheckAddress accepts exactly the addresses of this grammar (ABNF, RFC 5234), and
// nothing else, so that one node has one spelling and every implementation agrees:
//
//	address  = scheme "://" host ":" port          ; at most MaxAddressLen bytes
//	scheme   = "tls" / "tcp"
//	host     = hostname / ipv4 / "[" ipv6 "]"
//	hostname = label *("." label)                 ; the last label has a letter
//	label    = ldh / ldh *(ldh / "-") ldh         ; 1 to 63 bytes
//	ldh      = %x61-7A / DIGIT                    ; lowercase letters and digits
//	ipv4     = dec-octet 3("." dec-octet)         ; 0 to 255, no leading zero
//	ipv6     = the RFC 5952 section 4 text form of an IPv6 address: lowercase hex,
//	           no leading zeros, the longest run of two or more zero groups
//	           (the first of equal runs) written "::", no embedded IPv4 form
//	port     = %x31-39 *3DIGIT                    ; 1 to 65535, no leading zero
//
// A host whose last label has no letter must be an ipv4 address: "1.2.3.999" is
// neither. User information ("u@h"), paths ("a/b"), upper case, a trailing dot,
// IPv6 zones and IPv4-mapped IPv6 addresses are all refused.
func CheckAddress(a string) error {
	if err := checkAddress(a); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

func checkAddress(a string) error {
	if len(a) > MaxAddressLen {
		return fmt.Errorf("address of %d bytes exceeds %d", len(a), MaxAddressLen)
	}
	rest, ok := strings.CutPrefix(a, "tls://")
	if !ok {
		rest, ok = strings.CutPrefix(a, "tcp://")
	}
	if !ok {
		return fmt.Errorf("address %q does not start with tls:// or tcp://", a)
	}
	colon := strings.LastIndexByte(rest, ':')
	if colon < 0 {
		return fmt.Errorf("address %q has no port", a)
	}
	host, port := rest[:colon], rest[colon+1:]
	if err := checkPort(port); err != nil {
		return fmt.Errorf("address %q: %v", a, err)
	}
	if err := checkHost(host); err != nil {
		return fmt.Errorf("address %q: %v", a, err)
	}
	return nil
}

func checkPort(port string) error {
	if port == "" || len(port) > 5 || port[0] == '0' || !allDigits(port) {
		return fmt.Errorf("port %q is not a decimal from 1 to 65535 without leading zeros", port)
	}
	if p, err := strconv.Atoi(port); err != nil || p > 65535 {
		return fmt.Errorf("port %q is not a decimal from 1 to 65535 without leading zeros", port)
	}
	return nil
}

func checkHost(host string) error {
	if host == "" {
		return errors.New("no host")
	}
	if inner, ok := strings.CutPrefix(host, "["); ok {
		inner, ok = strings.CutSuffix(inner, "]")
		if !ok {
			return fmt.Errorf("host %q: unbalanced bracket", host)
		}
		return checkIPv6(inner)
	}
	labels := strings.Split(host, ".")
	for _, l := range labels {
		if err := checkLabel(l); err != nil {
			return fmt.Errorf("host %q: %v", host, err)
		}
	}
	if last := labels[len(labels)-1]; strings.IndexFunc(last, isLower) < 0 {
		return checkIPv4(host, labels)
	}
	return nil
}

func checkLabel(l string) error {
	switch {
	case l == "":
		return errors.New("empty label")
	case len(l) > 63:
		return fmt.Errorf("label of %d bytes exceeds 63", len(l))
	case l[0] == '-' || l[len(l)-1] == '-':
		return fmt.Errorf("label %q starts or ends with a hyphen", l)
	}
	for i := 0; i < len(l); i++ {
		if c := l[i]; !isLower(rune(c)) && !isDigit(c) && c != '-' {
			return fmt.Errorf("label %q has a byte other than a-z, 0-9 and '-'", l)
		}
	}
	return nil
}

// checkIPv4 accepts four decimal octets without leading zeros; labels is host split
// at the dots and already checked as labels.
func checkIPv4(host string, labels []string) error {
	if len(labels) != 4 {
		return fmt.Errorf("host %q: a name's last label needs a letter, and it is not an IPv4 address", host)
	}
	for _, l := range labels {
		if !allDigits(l) || len(l) > 3 || (len(l) > 1 && l[0] == '0') {
			return fmt.Errorf("host %q: not an IPv4 address (octets 0 to 255, no leading zeros)", host)
		}
		if v, _ := strconv.Atoi(l); v > 255 {
			return fmt.Errorf("host %q: not an IPv4 address (octets 0 to 255, no leading zeros)", host)
		}
	}
	return nil
}

// checkIPv6 accepts the RFC 5952 form only, which is what netip.Addr.String writes
// for an IPv6 address that is neither IPv4-mapped nor zoned.
func checkIPv6(s string) error {
	ip, err := netip.ParseAddr(s)
	if err != nil || !ip.Is6() || ip.Is4In6() || ip.Zone() != "" || strings.Contains(s, ".") || ip.String() != s {
		return fmt.Errorf("host [%s] is not an IPv6 address in RFC 5952 form", s)
	}
	return nil
}

func isLower(c rune) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// ID is the SHA-256 of the canonical encoding.
func (r *Roster) ID() ID { return r.id }

// Encode returns the canonical encoding.
func (r *Roster) Encode() []byte { return append([]byte(nil), r.encoded...) }

// Len is the number of members.
func (r *Roster) Len() int { return len(r.members) }

// Threshold is the number of members a collective signature needs.
func (r *Roster) Threshold() int { return r.threshold }

// Policy is the cosi policy for this roster's threshold.
func (r *Roster) Policy() cosi.Policy { return cosi.Policy{Threshold: r.threshold} }

// Members returns a copy of the members in roster order.
func (r *Roster) Members() []Member { return append([]Member(nil), r.members...) }

// Member returns the i-th member.
func (r *Roster) Member(i int) Member { return r.members[i] }

// Keys returns the members' keys in roster order.
func (r *Roster) Keys() []cosi.PublicKey {
	keys := make([]cosi.PublicKey, len(r.members))
	for i, m := range r.members {
		keys[i] = m.Key
	}
	return keys
}

// Cosi returns the roster's cosi form with its BDN weights, computing them on the
// first call only. Safe for concurrent use.
func (r *Roster) Cosi() (*cosi.Roster, error) {
	r.once.Do(func() {
		r.weights, r.err = cosi.NewRoster(r.Keys())
		if r.err != nil {
			r.err = fmt.Errorf("skipchain: roster %s: %w", r.id.Short(), r.err)
		}
	})
	return r.weights, r.err
}

// Verify checks a collective signature on msg by this roster under its threshold.
// The error wraps cosi's (cosi.ErrThreshold, cosi.ErrInvalidSignature, ...).
func (r *Roster) Verify(msg []byte, sig *cosi.Signature) error {
	if err := r.verify(msg, sig); err != nil {
		return fmt.Errorf("skipchain: roster %s: %w", r.id.Short(), err)
	}
	return nil
}

func (r *Roster) verify(msg []byte, sig *cosi.Signature) error {
	c, err := r.Cosi()
	if err != nil {
		return err
	}
	return cosi.Verify(c, msg, sig, r.Policy())
}
