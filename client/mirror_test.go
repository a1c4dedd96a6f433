package client_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
	"github.com/chainiac/chainiac/timeline"
	"github.com/stretchr/testify/require"
	"go.dedis.ch/kyber/v3"
	"go.dedis.ch/kyber/v3/pairing/bn256"
)

// This file is the malicious mirror of the attack suite and the chains it lies about.

// t0 is the clock of the test chains' timestamps, an hour before the clients' now.
var t0 = now.Add(-time.Hour)

// The attack chain: blocks 1 to trusted are what the client verified before the
// attack, the blocks after it what it is catching up on. Block 6 changes the roster
// from R1 (4 members) to R2 (5 members), block 8 the developer policy, so that a
// catch-up fetches every resource: the timestamp, forward links, the full block of a
// roster change, headers through back-links and payloads.
const (
	trusted    = 3
	headIndex  = 9
	rosterStep = 6
	policyStep = 8
)

// step appends block i of a chain whose releases are named prefix + i.
func step(t testing.TB, c *testchain.Chain, i int, prefix string) {
	switch i {
	case rosterStep:
		c.ChangeRoster(t, "R2", 5)
	case policyStep:
		c.ChangePolicy(t, testchain.Developers(t, 5)[3:], 2)
	default:
		c.Release(t, fmt.Sprintf("%s%d", prefix, i))
	}
}

// honestChain is the attack chain, all blocks visible.
func honestChain(t testing.TB) *testchain.Chain { return forkChain(t, headIndex, false) }

// forkChain replays the honest chain up to block k, then goes on with releases
// 6.6.i signed by the same developers and cosigned by the same roster keys: a second,
// validly signed branch. With sameScript the fork changes roster and policy where
// the honest chain does; without it, it only releases (its roster stays R1).
func forkChain(t testing.TB, k int, sameScript bool) *testchain.Chain {
	c := testchain.New(t, testchain.Options{})
	for i := 1; i <= headIndex; i++ {
		switch {
		case i <= k:
			step(t, c, i, "1.0.")
		case sameScript:
			step(t, c, i, "6.6.")
		default:
			c.Release(t, fmt.Sprintf("6.6.%d", i))
		}
	}
	return c
}

// otherChain is a chain of another genesis (another developer policy), with the same
// roster keys.
func otherChain(t testing.TB) *testchain.Chain {
	c := testchain.New(t, testchain.Options{Developers: 4, Threshold: 2})
	c.Releases(t, 1, headIndex)
	return c
}

// header is block i's header.
func header(c *testchain.Chain, i uint64) *skipchain.Header { return c.Block(i).Header() }

// A rule answers some requests of an evil mirror in place of the chain it serves. It
// returns false to leave the request to the chain.
type rule func(m *evil, w http.ResponseWriter, r *http.Request, p api.Path) bool

// evil serves a chain at the paths of package api, except where a rule answers; it
// counts the answers its rules gave.
type evil struct {
	src   *testchain.Chain
	rules []rule
	lies  atomic.Int64
}

func (m *evil) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p, err := api.ParsePath(r.URL.Path); err == nil {
		lw := &lyingWriter{ResponseWriter: w, m: m}
		for _, rl := range m.rules {
			if rl(m, lw, r, p) {
				lw.lie()
				return
			}
		}
	}
	m.src.Handler().ServeHTTP(w, r)
}

// lyingWriter counts a lie before its first byte leaves, so that a client that hangs
// up early (a body too long) still finds it counted when its Check returns.
type lyingWriter struct {
	http.ResponseWriter
	m    *evil
	told bool
}

func (w *lyingWriter) lie() {
	if !w.told {
		w.told = true
		w.m.lies.Add(1)
	}
}

func (w *lyingWriter) WriteHeader(code int) { w.lie(); w.ResponseWriter.WriteHeader(code) }
func (w *lyingWriter) Write(b []byte) (int, error) {
	w.lie()
	return w.ResponseWriter.Write(b)
}
func (w *lyingWriter) Flush() { w.ResponseWriter.(http.Flusher).Flush() }
func (w *lyingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.lie()
	return w.ResponseWriter.(http.Hijacker).Hijack()
}

func write(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", api.MediaBinary)
	_, _ = w.Write(b)
}

// answer serves f's bytes for resource res, f being given the chain's own answer (nil
// if it has none); f returns nil to leave the request to the chain.
func answer(res api.Resource, f func(p api.Path, honest []byte) []byte) rule {
	return func(m *evil, w http.ResponseWriter, _ *http.Request, p api.Path) bool {
		if p.Resource != res {
			return false
		}
		honest, err := m.src.Serve(p.String())
		if err != nil {
			honest = nil
		}
		b := f(p, honest)
		if b == nil {
			return false
		}
		write(w, b)
		return true
	}
}

// at serves b for resource res at index.
func at(res api.Resource, index uint64, b []byte) rule {
	return answer(res, func(p api.Path, _ []byte) []byte {
		if p.Index != index {
			return nil
		}
		return b
	})
}

// stamp serves ts as the newest timestamp.
func stamp(ts *timeline.Timestamp) rule {
	return answer(api.ResTimestamp, func(api.Path, []byte) []byte { return ts.Encode() })
}

// from serves resource res (at every index, or at the given ones) as chain o
// serves it: o shares the genesis, so its answers are at the same paths.
func from(o *testchain.Chain, res api.Resource, indices ...uint64) rule {
	return func(m *evil, w http.ResponseWriter, _ *http.Request, p api.Path) bool {
		if p.Resource != res || len(indices) > 0 && !contains(indices, p.Index) {
			return false
		}
		b, err := o.Serve(p.String())
		if err != nil {
			http.Error(w, "not found", http.StatusNotFound)
		} else {
			write(w, b)
		}
		return true
	}
}

// ofChain serves every resource as chain o serves it, at this chain's paths: a
// mirror of another chain (o has another genesis).
func ofChain(o *testchain.Chain) rule {
	return func(m *evil, w http.ResponseWriter, _ *http.Request, p api.Path) bool {
		p.Genesis = o.ID()
		b, err := o.Serve(p.String())
		if err != nil {
			http.Error(w, "not found", http.StatusNotFound)
		} else {
			write(w, b)
		}
		return true
	}
}

// status answers every request for res with an HTTP status (any resource if res is 0).
func status(res api.Resource, code int) rule {
	return func(m *evil, w http.ResponseWriter, _ *http.Request, p api.Path) bool {
		if res != 0 && p.Resource != res {
			return false
		}
		http.Error(w, http.StatusText(code), code)
		return true
	}
}

// notFoundAbove answers 404 for every indexed resource past index: a mirror that
// stopped at that block.
func notFoundAbove(index uint64) rule {
	return func(m *evil, w http.ResponseWriter, _ *http.Request, p api.Path) bool {
		if p.Resource == api.ResTimestamp || p.Index <= index {
			return false
		}
		http.Error(w, "not found", http.StatusNotFound)
		return true
	}
}

// hideHigherLinks answers 404 for every link above level 0: the client must walk
// the chain block by block.
func hideHigherLinks() rule {
	return func(m *evil, w http.ResponseWriter, _ *http.Request, p api.Path) bool {
		if p.Resource != api.ResLink || p.Level == 0 {
			return false
		}
		http.Error(w, "not found", http.StatusNotFound)
		return true
	}
}

// handle answers requests for res with h.
func handle(res api.Resource, h func(w http.ResponseWriter, r *http.Request, honest []byte)) rule {
	return func(m *evil, w http.ResponseWriter, r *http.Request, p api.Path) bool {
		if p.Resource != res {
			return false
		}
		honest, _ := m.src.Serve(p.String())
		if lw, ok := w.(*lyingWriter); ok {
			lw.lie() // before h, which may never write (silent)
		}
		h(w, r, honest)
		return true
	}
}

// endless sends the honest bytes followed by zeros without end (until the client
// hangs up), without a length; with announce, it first announces max+1 bytes.
func endless(res api.Resource, max int, announce bool) rule {
	return handle(res, func(w http.ResponseWriter, r *http.Request, honest []byte) {
		w.Header().Set("Content-Type", api.MediaBinary)
		if announce {
			w.Header().Set("Content-Length", strconv.Itoa(max+1))
		}
		if _, err := w.Write(honest); err != nil {
			return
		}
		zeros := make([]byte, 64<<10)
		for sent := len(honest); !announce || sent <= max; sent += len(zeros) {
			if r.Context().Err() != nil {
				return
			}
			if _, err := w.Write(zeros); err != nil {
				return
			}
		}
	})
}

// drip answers at once, then sends one byte every 20 ms until the client hangs up.
func drip(res api.Resource) rule {
	return handle(res, func(w http.ResponseWriter, r *http.Request, honest []byte) {
		w.Header().Set("Content-Type", api.MediaBinary)
		w.WriteHeader(http.StatusOK)
		for i := 0; ; i++ {
			b := byte(0)
			if i < len(honest) {
				b = honest[i]
			}
			if _, err := w.Write([]byte{b}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
}

// silent never answers, until the client hangs up.
func silent(res api.Resource) rule {
	return handle(res, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
}

// relink replaces the links the chain serves by f's, given each link's endpoints;
// f returns nil to keep a link.
func relink(c *testchain.Chain, f func(from, to *skipchain.Header) *skipchain.ForwardLink) rule {
	return answer(api.ResLink, func(p api.Path, honest []byte) []byte {
		if honest == nil {
			return nil
		}
		l, err := skipchain.ParseForwardLink(honest)
		if err != nil {
			panic(err)
		}
		if forged := f(header(c, l.FromIndex()), header(c, l.ToIndex())); forged != nil {
			return forged.Encode()
		}
		return nil
	})
}

func contains(s []uint64, v uint64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// down is the URL of a server that no longer listens.
func down() string {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

// Signatures.

var suite = bn256.NewSuite()

// forge makes a signature on msg that should not convince anyone, from the signers of
// the roster that ought to have signed.
type forge struct {
	name string
	sign func(t testing.TB, s *chaintest.Signers, msg []byte) *cosi.Signature
}

// forges are the ways a signature can be wrong.
var forges = []forge{
	{"another message", func(t testing.TB, s *chaintest.Signers, msg []byte) *cosi.Signature {
		return s.Sign(t, append(append([]byte(nil), msg...), 0), 0)
	}},
	{"other keys", func(t testing.TB, s *chaintest.Signers, msg []byte) *cosi.Signature {
		return chaintest.NewSigners(t, "EVIL", s.Roster.Len()).Sign(t, msg, 0)
	}},
	{"one member short of the threshold", func(t testing.TB, s *chaintest.Signers, msg []byte) *cosi.Signature {
		return s.Sign(t, msg, s.Roster.Threshold()-1)
	}},
	// A mask can name each member once only (one bit per roster position, and a
	// roster's keys are distinct), so "counting a key twice" is a threshold−1
	// signers' aggregate with the first share added twice, and a mask that names
	// one more member, who did not sign, to reach the threshold.
	{"a member counted twice", func(t testing.TB, s *chaintest.Signers, msg []byte) *cosi.Signature {
		thr := s.Roster.Threshold()
		shares := shares(t, s, msg, thr-1)
		sum := suite.G1().Point().Add(shares[0], shares[0])
		for _, p := range shares[1:] {
			sum.Add(sum, p)
		}
		return signature(t, sum, s.Roster.Len(), upTo(thr)...)
	}},
	{"a member who did not sign", func(t testing.TB, s *chaintest.Signers, msg []byte) *cosi.Signature {
		thr := s.Roster.Threshold()
		sum := suite.G1().Point().Null()
		for _, p := range shares(t, s, msg, thr-1) {
			sum.Add(sum, p)
		}
		return signature(t, sum, s.Roster.Len(), upTo(thr)...)
	}},
	// A bitmap one member longer than the roster, its last bit a second copy of
	// member 0 (whose share the point holds twice).
	{"a bitmap past the roster", func(t testing.TB, s *chaintest.Signers, msg []byte) *cosi.Signature {
		n := s.Roster.Len()
		shares := shares(t, s, msg, n)
		sum := suite.G1().Point().Add(shares[0], shares[0])
		for _, p := range shares[1:] {
			sum.Add(sum, p)
		}
		return signature(t, sum, n+1, upTo(n+1)...)
	}},
}

func upTo(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// shares are the first n members' weighted BLS signatures on msg, as G1 points.
func shares(t testing.TB, s *chaintest.Signers, msg []byte, n int) []kyber.Point {
	weights, err := s.Roster.Cosi()
	require.NoError(t, err)
	out := make([]kyber.Point, n)
	for i := range out {
		sh, err := s.Keys[i].Sign(weights, msg)
		require.NoError(t, err)
		out[i] = suite.G1().Point()
		require.NoError(t, out[i].UnmarshalBinary(sh.Encode()[:cosi.PointSize]))
	}
	return out
}

// signature encodes a signature as cosi does (point, member count, bitmap) and
// decodes it: the decoder accepts anything well formed.
func signature(t testing.TB, point kyber.Point, n int, members ...int) *cosi.Signature {
	b, err := point.MarshalBinary()
	require.NoError(t, err)
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	bits := make([]byte, (n+7)/8)
	for _, i := range members {
		bits[i/8] |= 1 << (i % 8)
	}
	sig, err := cosi.ParseSignature(append(b, bits...))
	require.NoError(t, err)
	return sig
}

// timestampBy is a timestamp over h at time at naming roster rosterID, with the
// signature sign makes on its message.
func timestampBy(h *skipchain.Header, rosterID skipchain.ID, at time.Time, sign func(msg []byte) *cosi.Signature) *timeline.Timestamp {
	ts := timeline.NewTimestamp(h, at)
	ts.RosterID = rosterID
	ts.Signature = sign(ts.Message())
	return ts
}

func stampWith(t testing.TB, s *chaintest.Signers, h *skipchain.Header, at time.Time) *timeline.Timestamp {
	ts, err := testchain.StampWith(s, h, at)
	require.NoError(t, err)
	return ts
}

func linkWith(t testing.TB, s *chaintest.Signers, from, to *skipchain.Header, count int) *skipchain.ForwardLink {
	l, err := testchain.LinkWith(s, from, to, count)
	require.NoError(t, err)
	return l
}

// linkBy is the link from one header to another with the signature sign makes.
func linkBy(t testing.TB, from, to *skipchain.Header, sign func(msg []byte) *cosi.Signature) *skipchain.ForwardLink {
	l, err := skipchain.NewForwardLink(from, to, sign(skipchain.LinkMessage(from.ID(), to.ID(), to.Index(), to.RosterID())))
	require.NoError(t, err)
	return l
}

// Rosters.

// members returns roster members for keys, with distinct addresses.
func members(name string, keys []cosi.PublicKey) []skipchain.Member {
	out := make([]skipchain.Member, len(keys))
	for i, k := range keys {
		out[i] = skipchain.Member{Key: k, Address: fmt.Sprintf("tcp://%s-%d.attack:7770", name, i)}
	}
	return out
}

// rogueRoster is R2's five honest keys and a sixth, rogue key pk = x·G − Σ pk_i, so
// that the plain sum of all six keys is x·G: without BDN's weights, x alone would
// sign for the whole roster. It returns the roster and x.
func rogueRoster(t testing.TB, honest *chaintest.Signers) (*skipchain.Roster, kyber.Scalar) {
	x := suite.G2().Scalar().SetInt64(0x5eed)
	sum := suite.G2().Point().Null()
	for _, k := range honest.Roster.Keys() {
		p := suite.G2().Point()
		require.NoError(t, p.UnmarshalBinary(k.Bytes()))
		sum.Add(sum, p)
	}
	rogue := suite.G2().Point().Mul(x, nil)
	rogue.Sub(rogue, sum)
	b, err := rogue.MarshalBinary()
	require.NoError(t, err)
	pk, err := cosi.ParsePublicKey(b)
	require.NoError(t, err, "a rogue key is a valid key: only BDN's weights defeat it")
	keys := append(honest.Roster.Keys(), pk)
	r, err := skipchain.NewRoster(members("rogue", keys), cosi.DefaultThreshold(len(keys)))
	require.NoError(t, err)
	plain := suite.G2().Point().Null()
	for _, k := range keys {
		p := suite.G2().Point()
		require.NoError(t, p.UnmarshalBinary(k.Bytes()))
		plain.Add(plain, p)
	}
	require.True(t, plain.Equal(suite.G2().Point().Mul(x, nil)), "the plain aggregate key of the rogue roster is x·G")
	return r, x
}

// rogueSignature is x·H(msg) with every member of an n-member roster in the mask: a
// valid signature for the plain sum of the rogue roster's keys.
func rogueSignature(t testing.TB, x kyber.Scalar, n int, msg []byte) *cosi.Signature {
	h := suite.G1().Point().(interface {
		Hash([]byte) kyber.Point
	}).Hash(msg)
	return signature(t, suite.G1().Point().Mul(x, h), n, upTo(n)...)
}

// weakRoster is R2's keys with a threshold of 1.
func weakRoster(t testing.TB, honest *chaintest.Signers) *skipchain.Roster {
	r, err := skipchain.NewRoster(honest.Roster.Members(), 1)
	require.NoError(t, err)
	return r
}

// duplicateKeyRoster is the encoding of R2's members followed by a second copy of
// member 0's key (at another address): what no roster constructor writes.
func duplicateKeyRoster(honest *chaintest.Signers) []byte {
	ms := honest.Roster.Members()
	ms = append(ms, skipchain.Member{Key: ms[0].Key, Address: "tcp://duplicate.attack:7770"})
	e := wire.NewEncoder("chainiac/v1/roster").Uint16(uint16(cosi.DefaultThreshold(len(ms)))).Count(len(ms))
	for _, m := range ms {
		e.Fixed(m.Key.Bytes()).String(m.Address)
	}
	return e.Out()
}

// forkedRosterChange is a block rosterStep of a branch of c: the same blocks before
// it, then a roster change to roster (instead of R2) that the developers signed.
func forkedRosterChange(t testing.TB, c *testchain.Chain, roster *skipchain.Roster) *skipchain.Block {
	st, err := timeline.NewState(c.Block(0))
	require.NoError(t, err)
	for i := uint64(1); i < rosterStep; i++ {
		_, err := st.Apply(c.Block(i))
		require.NoError(t, err)
	}
	rc, err := release.NewRosterChange(st.ChainID(), st.RosterChanges()+1, release.RosterID(st.Roster().ID()), release.RosterID(roster.ID()))
	require.NoError(t, err)
	for _, d := range testchain.Developers(t, 3)[:2] {
		require.NoError(t, d.SignRosterChange(rc))
	}
	var back []*skipchain.Header
	for _, pos := range header(c, 0).Params().LinksInto(rosterStep) {
		back = append(back, header(c, pos.From))
	}
	b, err := st.NewBlock(back, roster, rc)
	require.NoError(t, err)
	return b
}

// withRosterBytes re-encodes h with the roster ID of an arbitrary roster encoding.
func withRosterBytes(t testing.TB, h *skipchain.Header, roster []byte) *skipchain.Header {
	p := h.Params()
	e := wire.NewEncoder("chainiac/v1/block").Uint16(skipchain.HeaderVersion).Uint64(h.Index()).
		Uint32(h.Height()).Uint32(p.MaxHeight).Uint32(p.Base).Count(len(h.BackLinks()))
	for _, id := range h.BackLinks() {
		e.Fixed(id[:])
	}
	g, rid, ph := h.Genesis(), skipchain.ID(sha256.Sum256(roster)), h.PayloadHash()
	e.Fixed(g[:]).Fixed(rid[:]).Uint64(h.RosterSince()).String(h.PayloadKind()).Fixed(ph[:])
	out, err := skipchain.ParseHeader(e.Out())
	require.NoError(t, err)
	return out
}

// servedBlock is the encoding of a served block from its parts, without links.
func servedBlock(h *skipchain.Header, roster, payload []byte) []byte {
	blk := wire.NewEncoder("chainiac/v1/block-data").Bytes(h.Encode()).Bytes(roster).Bytes(payload).Out()
	return wire.NewEncoder("chainiac/v1/served-block").Bytes(blk).Count(0).Out()
}

// all serves every resource as fork f serves it.
func all(f *testchain.Chain) []rule {
	return []rule{from(f, api.ResTimestamp), from(f, api.ResHeader), from(f, api.ResPayload), from(f, api.ResLink), from(f, api.ResBlock)}
}

// blocks serves the headers, payloads and full blocks (without links) of bs at their
// indices.
func blocks(bs ...*skipchain.Block) []rule {
	var out []rule
	for _, b := range bs {
		out = append(out, at(api.ResHeader, b.Index(), b.Header().Encode()), at(api.ResPayload, b.Index(), b.Payload()),
			at(api.ResBlock, b.Index(), (&api.ServedBlock{Block: b}).Encode()))
	}
	return out
}

// link serves l as the link leaving its from block at level.
func link(level int, l *skipchain.ForwardLink) rule {
	return answer(api.ResLink, func(p api.Path, _ []byte) []byte {
		if p.Index != l.FromIndex() || p.Level != level {
			return nil
		}
		return l.Encode()
	})
}

// hangUp closes the connection without an answer.
func hangUp() rule {
	return func(m *evil, w http.ResponseWriter, _ *http.Request, p api.Path) bool {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return true
	}
}
