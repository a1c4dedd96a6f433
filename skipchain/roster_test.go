package skipchain_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func members(t testing.TB, n int) []skipchain.Member {
	t.Helper()
	return chaintest.NewSigners(t, "members", n).Roster.Members()
}

// assertSameMembers compares members by key encoding and address: parsed points
// may hold different internal coordinates for the same key.
func assertSameMembers(t *testing.T, want, got []skipchain.Member) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		assert.True(t, want[i].Key.Equal(got[i].Key), "member %d key", i)
		assert.Equal(t, want[i].Address, got[i].Address, "member %d address", i)
	}
}

func TestRosterRoundTrip(t *testing.T) {
	ms := members(t, 5)
	r, err := skipchain.NewRoster(ms, 4)
	require.NoError(t, err)
	assert.Equal(t, 5, r.Len())
	assert.Equal(t, 4, r.Threshold())
	assert.Equal(t, cosi.Policy{Threshold: 4}, r.Policy())

	parsed, err := skipchain.ParseRoster(r.Encode())
	require.NoError(t, err)
	assert.Equal(t, r.ID(), parsed.ID())
	assert.Equal(t, r.Encode(), parsed.Encode())
	assertSameMembers(t, ms, parsed.Members())

	// Order and threshold are part of the identity.
	swapped := append([]skipchain.Member{ms[1], ms[0]}, ms[2:]...)
	r2, err := skipchain.NewRoster(swapped, 4)
	require.NoError(t, err)
	assert.NotEqual(t, r.ID(), r2.ID())
	r3, err := skipchain.NewRoster(ms, 5)
	require.NoError(t, err)
	assert.NotEqual(t, r.ID(), r3.ID())
}

func TestRosterWeightsBuiltOnce(t *testing.T) {
	r, err := skipchain.NewRoster(members(t, 3), 2)
	require.NoError(t, err)
	a, err := r.Cosi()
	require.NoError(t, err)
	b, err := r.Cosi()
	require.NoError(t, err)
	assert.Same(t, a, b)
}

func TestNewRosterRefuses(t *testing.T) {
	ms := members(t, 3)
	withAddr := func(a string) []skipchain.Member {
		out := append([]skipchain.Member(nil), ms...)
		out[1].Address = a
		return out
	}
	for _, tc := range []struct {
		name      string
		members   []skipchain.Member
		threshold int
		want      string
	}{
		{"empty", nil, 1, "roster of 0 members"},
		{"threshold zero", ms, 0, "threshold 0"},
		{"threshold above size", ms, 4, "threshold 4"},
		{"duplicate key", []skipchain.Member{ms[0], {Key: ms[0].Key, Address: "tcp://other:1"}}, 1, "same key"},
		{"zero key", []skipchain.Member{{Address: "tcp://a:1"}}, 1, "no key"},
		{"duplicate address", withAddr(ms[0].Address), 2, "same address"},
		{"no scheme", withAddr("node:7770"), 2, "tls:// or tcp://"},
		{"http scheme", withAddr("http://node:7770"), 2, "tls:// or tcp://"},
		{"no port", withAddr("tls://node"), 2, "no port"},
		{"port zero", withAddr("tls://node:0"), 2, "port"},
		{"port too big", withAddr("tls://node:65536"), 2, "port"},
		{"port with sign", withAddr("tls://node:+80"), 2, "port"},
		{"no host", withAddr("tls://:80"), 2, "no host"},
		{"space", withAddr("tls://no de:80"), 2, "a-z, 0-9"},
		{"too long", withAddr("tls://" + strings.Repeat("a", 250) + ":80"), 2, "exceeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := skipchain.NewRoster(tc.members, tc.threshold)
			require.ErrorIs(t, err, skipchain.ErrMalformed)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	r, err := skipchain.NewRoster(withAddr("tls://[::1]:7770"), 2)
	require.NoError(t, err, "IPv6 addresses are fine")
	assert.Equal(t, "tls://[::1]:7770", r.Member(1).Address)
}

// TestCheckAddress pins the address grammar of CheckAddress (and wire-format.md):
// every accepted form and one refusal for each way to leave it.
func TestCheckAddress(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	labels63 := long(63) + "." + long(63) + "." + long(63) + "." + long(61) // 253 bytes
	require.Len(t, "tls://"+labels63[:243]+":65535", skipchain.MaxAddressLen)
	for _, a := range []string{
		"tcp://a:1",
		"tls://node1.example.org:7770",
		"tcp://a-b.c:65535",
		"tcp://1a:80",             // a label may start with a digit
		"tcp://x.1a:80",           // the last label only needs a letter
		"tcp://localhost:7770",    // one label
		"tcp://127.0.0.1:7770",    // IPv4
		"tcp://0.0.0.0:1",         // zero octets are written "0"
		"tcp://255.255.255.255:9", // the largest octets
		"tls://[::1]:7770",
		"tls://[::]:7770",
		"tls://[2001:db8::1]:443",
		"tls://[1:0:1:1:1:1:1:1]:1",          // one zero group is not shortened
		"tls://[1::1:0:0:1:1]:1",             // the first of two equal runs is
		"tls://" + long(63) + ".b:80",        // the longest label
		"tls://" + labels63[:243] + ":65535", // MaxAddressLen bytes in all
	} {
		assert.NoError(t, skipchain.CheckAddress(a), "%q", a)
	}
	for _, tc := range []struct{ addr, want string }{
		{"tcp://a/b:1", "a-z, 0-9"},   // a path
		{"tcp://u@h:1", "a-z, 0-9"},   // user information
		{"tcp://a:b:1", "a-z, 0-9"},   // a colon in the host
		{"tcp://A:1", "a-z, 0-9"},     // upper case
		{"tcp://a_b:1", "a-z, 0-9"},   // underscore
		{"tcp://a.:1", "empty label"}, // trailing dot
		{"tcp://.a:1", "empty label"},
		{"tcp://a..b:1", "empty label"},
		{"tcp://-a:1", "hyphen"},
		{"tcp://a-:1", "hyphen"},
		{"tcp://" + long(64) + ":1", "exceeds 63"},
		{"tcp://" + labels63 + ":1", "exceeds 255"}, // a 253-byte host: 261 in all
		{"tcp://123:1", "IPv4"},
		{"tcp://1.2.3:1", "IPv4"},
		{"tcp://1.2.3.4.5:1", "IPv4"},
		{"tcp://1.2.3.256:1", "IPv4"},
		{"tcp://1.2.3.04:1", "IPv4"},
		{"tcp://1.2.3.999:1", "IPv4"},
		{"tcp://a.1:1", "IPv4"},
		{"tcp://[::1:1", "bracket"},
		{"tcp://::1:1", "a-z, 0-9"}, // IPv6 without brackets
		{"tls://[0:0:0:0:0:0:0:1]:1", "RFC 5952"},
		{"tls://[2001:DB8::1]:1", "RFC 5952"},
		{"tls://[2001:db8::01]:1", "RFC 5952"},
		{"tls://[::ffff:1.2.3.4]:1", "RFC 5952"},
		{"tls://[::1.2.3.4]:1", "RFC 5952"},
		{"tls://[fe80::1%eth0]:1", "RFC 5952"},
		{"tls://[1.2.3.4]:1", "RFC 5952"},
		{"tls://[a]:1", "RFC 5952"},
		{"tls://:1", "no host"},
		{"tls://[]:1", "RFC 5952"},
		{"tls://a", "no port"},
		{"tls://a:", "port"},
		{"tls://a:0", "port"},
		{"tls://a:01", "port"},
		{"tls://a:65536", "port"},
		{"tls://a:100000", "port"},
		{"tls://a:+1", "port"},
		{"tls://a:1 ", "port"},
		{"TLS://a:1", "tls:// or tcp://"},
		{"udp://a:1", "tls:// or tcp://"},
		{"tls:/a:1", "tls:// or tcp://"},
		{"a:1", "tls:// or tcp://"},
		{"tls://é.org:1", "a-z, 0-9"},
		{"tls://a\x00:1", "a-z, 0-9"},
	} {
		err := skipchain.CheckAddress(tc.addr)
		if assert.Error(t, err, "%q", tc.addr) {
			assert.ErrorIs(t, err, skipchain.ErrMalformed)
			assert.Contains(t, err.Error(), tc.want, "%q", tc.addr)
		}
	}
}

func TestParseRosterMalformed(t *testing.T) {
	ms := members(t, 2)
	enc := func(threshold uint16, count int, keys [][]byte, addrs []string, trailing []byte) []byte {
		e := wire.NewEncoder("chainiac/v1/roster").Uint16(threshold).Count(count)
		for i := range keys {
			e.Fixed(keys[i]).String(addrs[i])
		}
		return append(e.Out(), trailing...)
	}
	k0, k1 := ms[0].Key.Bytes(), ms[1].Key.Bytes()
	a0, a1 := ms[0].Address, ms[1].Address
	good := enc(2, 2, [][]byte{k0, k1}, []string{a0, a1}, nil)
	_, err := skipchain.ParseRoster(good)
	require.NoError(t, err)

	notOnCurve := append([]byte(nil), k1...)
	notOnCurve[len(notOnCurve)-1] ^= 1
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"wrong tag", append([]byte{5}, "hello"...)},
		{"truncated", good[:len(good)-1]},
		{"trailing", enc(2, 2, [][]byte{k0, k1}, []string{a0, a1}, []byte{0})},
		{"count past input", enc(2, 3, [][]byte{k0, k1}, []string{a0, a1}, nil)},
		{"huge count", enc(2, 1<<30, nil, nil, nil)},
		{"key off curve", enc(2, 2, [][]byte{k0, notOnCurve}, []string{a0, a1}, nil)},
		{"duplicate key", enc(2, 2, [][]byte{k0, k0}, []string{a0, a1}, nil)},
		{"threshold zero", enc(0, 2, [][]byte{k0, k1}, []string{a0, a1}, nil)},
		{"threshold above size", enc(3, 2, [][]byte{k0, k1}, []string{a0, a1}, nil)},
		{"bad address", enc(2, 2, [][]byte{k0, k1}, []string{a0, "udp://x:1"}, nil)},
		{"no members", enc(1, 0, nil, nil, nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := skipchain.ParseRoster(tc.b)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "skipchain: ") || strings.HasPrefix(err.Error(), "cosi: "), err.Error())
		})
	}
}

func TestRosterTOML(t *testing.T) {
	r, err := skipchain.NewRoster(members(t, 3), 2)
	require.NoError(t, err)
	text, err := r.MarshalTOML([]string{"one", "two", "three"})
	require.NoError(t, err)
	assert.Contains(t, string(text), "[[servers]]")
	assert.Contains(t, string(text), `Suite = "bn256.adapter"`)
	assert.Contains(t, string(text), `Description = "two"`)
	back, err := skipchain.ParseRosterTOML(text)
	require.NoError(t, err)
	assert.Equal(t, r.ID(), back.ID())

	_, err = r.MarshalTOML([]string{"one"})
	require.Error(t, err)
}

// An onet group file written by a conode: the server's own key is Ed25519 and the
// chainiac key is a service key. Without a Threshold the default applies.
func TestRosterTOMLOnetGroup(t *testing.T) {
	ms := members(t, 4)
	var b strings.Builder
	for i, m := range ms {
		fmt.Fprintf(&b, `
[[servers]]
  Address = %q
  Suite = "Ed25519"
  Public = "6d5ab1e5c9d5e0b2f6a2e3c0d1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0"
  Description = "conode %d"
  Url = "https://conode%d.example.org"
  [servers.Services]
    [servers.Services.ByzCoin]
      Public = "00"
      Suite = "bn256.adapter"
    [servers.Services.chainiac]
      Public = %q
      Suite = "bn256.adapter"
`, m.Address, i, i, m.Key.String())
	}
	r, err := skipchain.ParseRosterTOML([]byte(b.String()))
	require.NoError(t, err)
	assertSameMembers(t, ms, r.Members())
	assert.Equal(t, cosi.DefaultThreshold(4), r.Threshold())
}

func TestRosterTOMLRefuses(t *testing.T) {
	key := members(t, 1)[0].Key.String()
	for _, tc := range []struct{ name, text, want string }{
		{"not toml", "[[servers", "roster file"},
		{"no servers", "Threshold = 1", "0 servers"},
		{"other suite", "[[servers]]\nAddress = \"tcp://a:1\"\nSuite = \"Ed25519\"\nPublic = \"" + key + "\"", "key suite"},
		{"bad key", "[[servers]]\nAddress = \"tcp://a:1\"\nSuite = \"bn256.adapter\"\nPublic = \"00\"", "public key"},
		{"bad address", "[[servers]]\nAddress = \"a:1\"\nSuite = \"bn256.adapter\"\nPublic = \"" + key + "\"", "tls:// or tcp://"},
		{"threshold too high", "Threshold = 2\n[[servers]]\nAddress = \"tcp://a:1\"\nSuite = \"bn256.adapter\"\nPublic = \"" + key + "\"", "threshold 2"},
		{"too large", strings.Repeat("#", skipchain.MaxRosterTOMLSize+1), "exceeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := skipchain.ParseRosterTOML([]byte(tc.text))
			require.ErrorIs(t, err, skipchain.ErrMalformed)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestRosterVerify(t *testing.T) {
	s := chaintest.NewSigners(t, "verify", 4)
	msg := []byte("message")
	require.NoError(t, s.Roster.Verify(msg, s.Sign(t, msg, 3)))
	err := s.Roster.Verify([]byte("other"), s.Sign(t, msg, 3))
	require.ErrorIs(t, err, cosi.ErrInvalidSignature)
	assert.True(t, strings.HasPrefix(err.Error(), "skipchain: roster "), err.Error())
	require.ErrorIs(t, s.Roster.Verify(msg, s.Sign(t, msg, 2)), cosi.ErrThreshold)
}
