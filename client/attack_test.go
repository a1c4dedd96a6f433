package client_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
	"github.com/chainiac/chainiac/timeline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The attack suite: The Update Framework's attacks (and a few of a cothority's own)
// played by malicious mirrors against a client that trusts blocks 0 to 3 and catches
// up on blocks 4 to 9 (see mirror_test.go for the chain). Every attack must fail with
// an error of the class it names and leave the trusted state as it was, file and
// all. The MAR-level attacks (a tampered MAR, a signed MAR that is not the unsigned
// one plus signatures, a wrong channel or version inside it) are Download's, tested
// with real MAR files elsewhere.

// attack is one case: the mirrors the client is given, and what it must answer.
type attack struct {
	name    string
	modes   []client.Mode // the catch-up modes to attack (default: both)
	fresh   bool          // the client has no trusted state yet (first use)
	edit    func(*client.Config)
	mirrors func(e *env) []string
	want    error // ErrRejected, ErrFrozen, ErrEvidence or ErrUnreachable
	// forkError: the evidence must carry a link fork that anyone can check.
	forkError bool
}

// env is what an attack builds its mirrors from: the honest chain, all its blocks
// visible, and the lying mirrors made so far.
type env struct {
	t     *testing.T
	c     *testchain.Chain
	evils []*evil
}

// lie is a mirror of the honest chain that lies as the rules say.
func (e *env) lie(rules ...rule) string { return e.lieAbout(e.c, rules...) }

// lieAbout is a mirror of chain src that lies as the rules say.
func (e *env) lieAbout(src *testchain.Chain, rules ...rule) string {
	m := &evil{src: src, rules: rules}
	e.evils = append(e.evils, m)
	return serve(e.t, m)
}

func (e *env) honest() string { return serve(e.t, e.c.Handler()) }

func inDir(dir string) func(*client.Config) { return func(c *client.Config) { c.StateDir = dir } }

// trustedFile returns the bytes of the state file, nil if there is none.
func trustedFile(t testing.TB, dir string) []byte {
	b, err := os.ReadFile(filepath.Join(dir, "trusted"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	return b
}

func evidenceFiles(t *testing.T, dir string) []string {
	files, err := filepath.Glob(filepath.Join(dir, "evidence", "*.json"))
	require.NoError(t, err)
	return files
}

func TestAttacks(t *testing.T) {
	// One honest chain for every case, and the state of a client that verified it
	// up to block trusted, in each mode: each case starts from a copy.
	c := honestChain(t)
	states := map[client.Mode][]byte{}
	c.SetVisible(trusted)
	for _, mode := range []client.Mode{client.Express, client.Links} {
		dir := t.TempDir()
		u := check(t, newClient(t, c, []string{serve(t, c.Handler())}, withMode(mode), inDir(dir)))
		require.Equal(t, uint64(trusted), u.Head.Index)
		states[mode] = trustedFile(t, dir)
	}
	c.SetVisible(headIndex)

	for _, a := range attacks() {
		modes := a.modes
		if modes == nil {
			modes = []client.Mode{client.Express, client.Links}
		}
		for _, mode := range modes {
			t.Run(a.name+"/"+mode.String(), func(t *testing.T) {
				dir := t.TempDir()
				if !a.fresh {
					require.NoError(t, os.WriteFile(filepath.Join(dir, "trusted"), states[mode], 0o644))
				}
				runAttack(t, a, mode, c, dir)
			})
		}
	}
}

// runAttack runs a case against chain c (all its blocks visible) with the state in
// dir.
func runAttack(t *testing.T, a attack, mode client.Mode, c *testchain.Chain, dir string) {
	e := &env{t: t, c: c}
	edits := []func(*client.Config){withMode(mode), inDir(dir)}
	if a.edit != nil {
		edits = append(edits, a.edit)
	}
	cl := newClient(t, c, a.mirrors(e), edits...)
	before := trustedFile(t, dir)
	lastBefore, err := cl.Last()
	require.NoError(t, err)
	if a.fresh {
		require.Nil(t, before)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	began := time.Now()
	u, err := cl.Check(ctx)
	checkErr := err
	require.Error(t, err, "the attack succeeded: %+v", u)
	t.Logf("%s (%s)", err, time.Since(began).Round(time.Millisecond))
	require.ErrorIs(t, err, a.want)
	switch a.want {
	case client.ErrRejected:
		assert.NotErrorIs(t, err, client.ErrFrozen)
	case client.ErrUnreachable:
		assert.NotErrorIs(t, err, client.ErrRejected)
	}
	if a.want != client.ErrEvidence {
		assert.NotErrorIs(t, err, client.ErrEvidence)
	}

	assert.Equal(t, before, trustedFile(t, dir), "the state file changed")
	lastAfter, err := cl.Last()
	require.NoError(t, err)
	assert.Equal(t, lastBefore, lastAfter, "the trusted state changed")

	files := evidenceFiles(t, dir)
	if a.want != client.ErrEvidence {
		assert.Empty(t, files)
	} else {
		require.Len(t, files, 1, "the evidence is kept")
		var ee *client.EvidenceError
		require.ErrorAs(t, checkErr, &ee)
		assert.Equal(t, files[0], ee.Path)
		evs, err := cl.Evidence()
		require.NoError(t, err)
		require.Len(t, evs, 1)
		assert.GreaterOrEqual(t, len(evs[0].Statements), 1)
		if a.forkError {
			assert.Equal(t, "link-fork", evs[0].Kind)
			b, err := hex.DecodeString(evs[0].ForkError)
			require.NoError(t, err)
			fe, err := skipchain.ParseForkEvidence(b)
			require.NoError(t, err, "the fork evidence verifies on its own")
			assert.Equal(t, header(c, fe.From.Index()).ID(), fe.From.ID(), "about a block of the honest chain")
		}
	}
	for i, m := range e.evils {
		assert.Positive(t, m.lies.Load(), "lying mirror %d told no lie: the attack did not happen", i)
	}
}

func express() []client.Mode { return []client.Mode{client.Express} }
func links() []client.Mode   { return []client.Mode{client.Links} }

// resources are the resources a catch-up fetches, with their size limits.
var resources = []struct {
	name string
	res  api.Resource
	max  int
}{
	{"timestamp", api.ResTimestamp, timeline.MaxTimestampSize},
	{"headers", api.ResHeader, skipchain.MaxHeaderSize},
	{"payloads", api.ResPayload, skipchain.MaxPayloadSize},
	{"links", api.ResLink, skipchain.MaxLinkSize},
	{"blocks", api.ResBlock, api.MaxServedBlockSize},
}

// garbage are the ways a body can be broken.
var garbage = []struct {
	name string
	f    func(honest []byte) []byte
}{
	{"random bytes", func(h []byte) []byte {
		r := rand.New(rand.NewPCG(uint64(len(h)), 1))
		b := make([]byte, max(len(h), 64))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}},
	{"empty", func([]byte) []byte { return []byte{} }},
	{"truncated to half", func(h []byte) []byte { return h[:len(h)/2] }},
	{"one byte short", func(h []byte) []byte { return h[:len(h)-1] }},
	{"one byte more", func(h []byte) []byte { return append(h, 0) }},
	{"one byte flipped", func(h []byte) []byte { return flip(h, len(h)/3) }}, // for a timestamp: its genesis ID, past the short prefix
}

// flip returns b with byte i inverted.
func flip(b []byte, i int) []byte {
	b = append([]byte(nil), b...)
	b[i] ^= 0xff
	return b
}

func last(b []byte) int { return len(b) - 1 }

func attacks() []attack {
	rejected := client.ErrRejected
	var list []attack
	add := func(a ...attack) { list = append(list, a...) }

	// Rollback, freeze, replay.
	add(attack{name: "rollback/timestamp of an older block", want: rejected, mirrors: func(e *env) []string {
		return []string{e.lie(stamp(stampWith(e.t, e.c.Signers(2), header(e.c, 2), t0.Add(time.Minute))), notFoundAbove(2))}
	}}, attack{name: "rollback/timestamp of the genesis", want: rejected, mirrors: func(e *env) []string {
		return []string{e.lie(stamp(stampWith(e.t, e.c.Signers(0), header(e.c, 0), t0.Add(time.Minute))), notFoundAbove(0))}
	}}, attack{name: "freeze/the chain as it was at the trusted block, two days on", want: client.ErrFrozen,
		edit: func(c *client.Config) { c.Clock = func() time.Time { return now.Add(48 * time.Hour) } },
		mirrors: func(e *env) []string {
			return []string{e.lie(stamp(stampWith(e.t, e.c.Signers(trusted), header(e.c, trusted), t0)), notFoundAbove(trusted))}
		}}, attack{name: "freeze/the newest block with a stale timestamp", want: client.ErrFrozen,
		edit:    func(c *client.Config) { c.MaxAge = 30 * time.Minute },
		mirrors: func(e *env) []string { return []string{e.honest()} },
	}, attack{name: "replay/an older timestamp of a newer block", want: rejected, mirrors: func(e *env) []string {
		return []string{e.lie(stamp(stampWith(e.t, e.c.Signers(headIndex), header(e.c, headIndex), t0.Add(-10*time.Minute))))}
	}}, attack{name: "replay/an older timestamp of the trusted block", want: rejected, mirrors: func(e *env) []string {
		return []string{e.lie(stamp(stampWith(e.t, e.c.Signers(trusted), header(e.c, trusted), t0.Add(-10*time.Minute))))}
	}}, attack{name: "timestamp from the future", want: rejected, mirrors: func(e *env) []string {
		return []string{e.lie(stamp(stampWith(e.t, e.c.Signers(headIndex), header(e.c, headIndex), now.Add(2*time.Hour))))}
	}})

	// Forks: a second chain validly signed by the same roster keys.
	add(attack{name: "fork/a timestamp at the trusted index names another block", want: client.ErrEvidence,
		mirrors: func(e *env) []string {
			f := forkChain(e.t, trusted-1, false)
			f.SetVisible(trusted)
			return []string{e.lie(from(f, api.ResTimestamp))}
		}}, attack{name: "fork/a forked head at a higher index, ancestry checked", modes: express(), want: client.ErrEvidence,
		edit: func(c *client.Config) { c.VerifyAncestry = true },
		mirrors: func(e *env) []string {
			return []string{e.lie(all(forkChain(e.t, trusted-1, false))...)}
		}}, attack{name: "fork/a forked head at a higher index", modes: links(), want: rejected,
		mirrors: func(e *env) []string {
			return []string{e.lie(all(forkChain(e.t, trusted-1, false))...)}
		}}, attack{name: "fork/the links reach another roster change than the timestamp names", modes: express(), want: client.ErrEvidence,
		mirrors: func(e *env) []string {
			f := forkChain(e.t, rosterStep-2, true)
			f.SetVisible(rosterStep)
			return []string{e.lie(from(f, api.ResTimestamp), from(f, api.ResHeader, rosterStep))}
		}}, attack{name: "fork/the links reach another head than the timestamp names", modes: links(), want: client.ErrEvidence,
		mirrors: func(e *env) []string {
			return []string{e.lie(from(forkChain(e.t, headIndex-1, true), api.ResTimestamp))}
		}}, attack{name: "fork/two mirrors serve conflicting links from one block", modes: links(), want: client.ErrEvidence, forkError: true,
		mirrors: func(e *env) []string {
			f := forkChain(e.t, trusted, false)
			// The first mirror's branch verifies up to its head's payload.
			return []string{e.lieAbout(f, at(api.ResPayload, headIndex, []byte("garbage"))), e.honest()}
		}})

	// Mix and match.
	add(attack{name: "mix/the payload of another block", want: rejected, mirrors: func(e *env) []string {
		return []string{e.lie(at(api.ResPayload, headIndex, e.c.Block(7).Payload()))}
	}}, attack{name: "mix/a fork's payload at the same index", want: rejected, mirrors: func(e *env) []string {
		return []string{e.lie(at(api.ResPayload, headIndex, forkChain(e.t, headIndex-1, true).Block(headIndex).Payload()))}
	}}, attack{name: "mix/the header of another block", want: rejected, mirrors: func(e *env) []string {
		return []string{e.lie(at(api.ResHeader, headIndex, header(e.c, 7).Encode()))}
	}}, attack{name: "mix/a fork's header at the same index", want: rejected, mirrors: func(e *env) []string {
		return []string{e.lie(at(api.ResHeader, headIndex, header(forkChain(e.t, headIndex-1, true), headIndex).Encode()))}
	}}, attack{name: "mix/a fork's header at a back-link", modes: express(), want: rejected, mirrors: func(e *env) []string {
		return []string{e.lie(at(api.ResHeader, policyStep, header(forkChain(e.t, policyStep-2, true), policyStep).Encode()))}
	}}, attack{name: "mix/the block of another index", want: rejected, mirrors: func(e *env) []string {
		return []string{e.lie(answer(api.ResBlock, func(p api.Path, _ []byte) []byte {
			b, _ := e.c.Serve(api.Block(e.c.ID(), p.Index-1))
			return b
		}))}
	}}, attack{name: "mix/the link leaving the block before", want: rejected, mirrors: func(e *env) []string {
		return []string{e.lie(answer(api.ResLink, func(p api.Path, _ []byte) []byte {
			b, _ := e.c.Serve(api.Link(e.c.ID(), p.Index-1, 0))
			return b
		}))}
	}}, attack{name: "mix/the link of a lower level", want: rejected, mirrors: func(e *env) []string {
		return []string{e.lie(answer(api.ResLink, func(p api.Path, _ []byte) []byte {
			if p.Level == 0 {
				return nil
			}
			b, _ := e.c.Serve(api.Link(e.c.ID(), p.Index, p.Level-1))
			return b
		}))}
	}}, attack{name: "mix/a mirror of another chain", want: rejected, mirrors: func(e *env) []string {
		return []string{e.lie(ofChain(otherChain(e.t)))}
	}}, attack{name: "mix/the headers of another chain", want: rejected, mirrors: func(e *env) []string {
		o := otherChain(e.t)
		return []string{e.lie(answer(api.ResHeader, func(p api.Path, _ []byte) []byte {
			b, _ := o.Serve(api.Header(o.ID(), p.Index))
			return b
		}))}
	}}, attack{name: "first use/the genesis of another chain", fresh: true, want: rejected, mirrors: func(e *env) []string {
		return []string{e.lie(ofChain(otherChain(e.t)))}
	}}, attack{name: "first use/a garbled genesis", fresh: true, want: rejected, mirrors: func(e *env) []string {
		return []string{e.lie(answer(api.ResBlock, func(p api.Path, honest []byte) []byte { return flip(honest, len(honest)/3) }))}
	}})

	// Endless data.
	for _, r := range resources {
		add(attack{name: "endless/" + r.name + "/announced", want: rejected, mirrors: func(e *env) []string {
			return []string{e.lie(endless(r.res, r.max, true))}
		}}, attack{name: "endless/" + r.name + "/unannounced", want: rejected, mirrors: func(e *env) []string {
			return []string{e.lie(endless(r.res, r.max, false))}
		}}, attack{name: "endless/" + r.name + "/drip", want: client.ErrUnreachable,
			edit: func(c *client.Config) { c.RequestTimeout = 200 * time.Millisecond },
			mirrors: func(e *env) []string {
				return []string{e.lie(drip(r.res))}
			}})
	}
	add(attack{name: "endless/timestamp/silent", want: client.ErrUnreachable,
		edit:    func(c *client.Config) { c.RequestTimeout = 200 * time.Millisecond },
		mirrors: func(e *env) []string { return []string{e.lie(silent(api.ResTimestamp))} },
	})

	// Signatures: forged, short of the threshold, counting a member twice.
	for _, fg := range forges {
		add(attack{name: "signature/" + fg.name + "/timestamp", want: rejected, mirrors: func(e *env) []string {
			ts := timestampBy(header(e.c, headIndex), e.c.Signers(headIndex).Roster.ID(), t0, func(msg []byte) *cosi.Signature {
				return fg.sign(e.t, e.c.Signers(headIndex), msg)
			})
			return []string{e.lie(stamp(ts))}
		}}, attack{name: "signature/" + fg.name + "/links", want: rejected, mirrors: func(e *env) []string {
			return []string{e.lie(relink(e.c, func(from, to *skipchain.Header) *skipchain.ForwardLink {
				return linkBy(e.t, from, to, func(msg []byte) *cosi.Signature { return fg.sign(e.t, e.c.Signers(from.Index()), msg) })
			}))}
		}})
	}
	add(attack{name: "signature/a timestamp signed by a roster the client does not trust", want: rejected, mirrors: func(e *env) []string {
		return []string{e.lie(stamp(stampWith(e.t, chaintest.NewSigners(e.t, "EVIL", 5), header(e.c, headIndex), t0)))}
	}})

	// Roster changes.
	add(attack{name: "roster change/signed by the new roster, not the old", want: rejected, mirrors: func(e *env) []string {
		return []string{e.lie(relink(e.c, func(from, to *skipchain.Header) *skipchain.ForwardLink {
			if from.RosterID() == to.RosterID() {
				return nil
			}
			return linkWith(e.t, e.c.Signers(to.Index()), from, to, 0)
		}))}
	}}, attack{name: "roster change/to the attacker's roster, signed by it", want: rejected, mirrors: func(e *env) []string {
		evil := chaintest.NewSigners(e.t, "EVIL", 4)
		b6 := forkedRosterChange(e.t, e.c, evil.Roster)
		return []string{e.lie(append(blocks(b6),
			stamp(stampWith(e.t, evil, b6.Header(), t0)),
			link(1, linkWith(e.t, evil, header(e.c, 4), b6.Header(), 0)))...)}
	}}, attack{name: "roster change/to a roster below the threshold rule", want: rejected, mirrors: func(e *env) []string {
		r2 := chaintest.NewSigners(e.t, "R2", 5)
		weak := &chaintest.Signers{Roster: weakRoster(e.t, r2), Keys: r2.Keys}
		b6 := forkedRosterChange(e.t, e.c, weak.Roster)
		return []string{e.lie(append(blocks(b6),
			stamp(stampWith(e.t, weak, b6.Header(), t0)),
			link(1, linkWith(e.t, e.c.Signers(4), header(e.c, 4), b6.Header(), 0)))...)}
	}}, attack{name: "roster change/to a roster that lists one key twice", want: rejected, mirrors: func(e *env) []string {
		r2 := chaintest.NewSigners(e.t, "R2", 5)
		dup := duplicateKeyRoster(r2)
		b6 := forkedRosterChange(e.t, e.c, r2.Roster)
		h6 := withRosterBytes(e.t, b6.Header(), dup)
		ts := timestampBy(h6, h6.RosterID(), t0, func(msg []byte) *cosi.Signature {
			// All six bits: member 0 signs for both of its positions.
			s := shares(e.t, r2, msg, 5)
			sum := suite.G1().Point().Add(s[0], s[0])
			for _, p := range s[1:] {
				sum.Add(sum, p)
			}
			return signature(e.t, sum, 6, upTo(6)...)
		})
		return []string{e.lie(stamp(ts), at(api.ResHeader, rosterStep, h6.Encode()), at(api.ResPayload, rosterStep, b6.Payload()),
			at(api.ResBlock, rosterStep, servedBlock(h6, dup, b6.Payload())),
			link(1, linkWith(e.t, e.c.Signers(4), header(e.c, 4), h6, 0)))}
	}}, attack{name: "roster change/to a roster with a rogue key, which alone signs a timestamp", want: rejected,
		mirrors: func(e *env) []string {
			rr, x := rogueRoster(e.t, chaintest.NewSigners(e.t, "R2", 5))
			b6 := forkedRosterChange(e.t, e.c, rr)
			ts := timestampBy(b6.Header(), rr.ID(), t0, func(msg []byte) *cosi.Signature { return rogueSignature(e.t, x, rr.Len(), msg) })
			// The old roster signed the change: the rogue member was admitted.
			return []string{e.lie(append(blocks(b6), stamp(ts),
				link(1, linkWith(e.t, e.c.Signers(4), header(e.c, 4), b6.Header(), 0)))...)}
		}}, attack{name: "roster change/to a roster with a rogue key, which alone signs a link", modes: links(), want: rejected,
		mirrors: func(e *env) []string {
			r2 := chaintest.NewSigners(e.t, "R2", 5)
			rr, x := rogueRoster(e.t, r2)
			b6 := forkedRosterChange(e.t, e.c, rr)
			b7 := releaseAfter(e.t, e.c, b6, rr, "6.6.7")
			honest := &chaintest.Signers{Roster: rr, Keys: r2.Keys} // the rogue roster's honest members
			return []string{e.lie(append(blocks(b6, b7),
				stamp(stampWith(e.t, honest, b7.Header(), t0)),
				link(1, linkWith(e.t, e.c.Signers(4), header(e.c, 4), b6.Header(), 0)),
				link(0, linkBy(e.t, b6.Header(), b7.Header(), func(msg []byte) *cosi.Signature { return rogueSignature(e.t, x, rr.Len(), msg) })),
				notFoundAbove(7))...)}
		}})

	// Tampered headers and payloads.
	add(attack{name: "header/the head's, one byte changed", want: rejected, mirrors: func(e *env) []string {
		h := header(e.c, headIndex).Encode()
		return []string{e.lie(at(api.ResHeader, headIndex, flip(h, last(h))))}
	}}, attack{name: "header/a back-link's, one byte changed", modes: express(), want: rejected, mirrors: func(e *env) []string {
		h := header(e.c, policyStep).Encode()
		return []string{e.lie(at(api.ResHeader, policyStep, flip(h, last(h))))}
	}}, attack{name: "payload/the head's, one byte changed", want: rejected, mirrors: func(e *env) []string {
		p := e.c.Block(headIndex).Payload()
		return []string{e.lie(at(api.ResPayload, headIndex, flip(p, last(p))))}
	}}, attack{name: "payload/the policy change's, one byte changed", want: rejected, mirrors: func(e *env) []string {
		p := e.c.Block(policyStep).Payload()
		return []string{e.lie(at(api.ResPayload, policyStep, flip(p, last(p))))}
	}})

	// Garbage at every path.
	for _, r := range resources {
		for _, g := range garbage {
			add(attack{name: "garbage/" + r.name + "/" + g.name, want: rejected, mirrors: func(e *env) []string {
				return []string{e.lie(answer(r.res, func(_ api.Path, honest []byte) []byte {
					if honest == nil {
						return nil
					}
					return g.f(honest)
				}))}
			}})
		}
	}

	// Mirrors that do not answer, or do not have what they name.
	add(attack{name: "down/every mirror", want: client.ErrUnreachable, mirrors: func(e *env) []string {
		return []string{down(), e.lie(status(0, http.StatusInternalServerError)), e.lie(status(0, http.StatusServiceUnavailable)), e.lie(hangUp())}
	}}, attack{name: "down/a mirror without the chain", want: client.ErrUnreachable, mirrors: func(e *env) []string {
		// A 404 for the timestamp: the mirror does not carry this chain, which says
		// nothing about its honesty (a 404 on anything a verified statement names is
		// withholding: the "missing" cases).
		return []string{e.lie(status(0, http.StatusNotFound))}
	}})
	for _, r := range resources[1:] {
		add(attack{name: "missing/" + r.name, want: rejected, mirrors: func(e *env) []string {
			return []string{e.lie(status(r.res, http.StatusNotFound))}
		}})
	}
	add(attack{name: "hops/a mirror that hides every higher link", want: rejected,
		edit: func(c *client.Config) {
			c.MaxHops = 2 // the honest path: 3→4→6 (express), 3→4→8→9 (links)
			if c.Mode == client.Links {
				c.MaxHops = 3
			}
		},
		mirrors: func(e *env) []string { return []string{e.lie(hideHigherLinks())} },
	})
	return list
}

// releaseAfter is a release block after b, with roster r, signed by the genesis
// developers.
func releaseAfter(t *testing.T, c *testchain.Chain, b *skipchain.Block, r *skipchain.Roster, version string) *skipchain.Block {
	st, err := timeline.NewState(c.Block(0))
	require.NoError(t, err)
	for i := uint64(1); i < b.Index(); i++ {
		_, err := st.Apply(c.Block(i))
		require.NoError(t, err)
	}
	_, err = st.Apply(b)
	require.NoError(t, err)
	sm, err := release.NewSignedManifest(testchain.Manifest(version, "release"))
	require.NoError(t, err)
	for _, d := range testchain.Developers(t, 3)[:2] {
		require.NoError(t, d.SignManifest(sm))
	}
	var back []*skipchain.Header
	for _, pos := range header(c, 0).Params().LinksInto(b.Index() + 1) {
		if pos.From == b.Index() {
			back = append(back, b.Header())
		} else {
			back = append(back, header(c, pos.From))
		}
	}
	next, err := st.NewBlock(back, r, sm)
	require.NoError(t, err)
	return next
}

// TestOneHonestMirrorAmongLiars: a client given many lying mirrors and one honest
// one, last, updates from the honest one. The liars include one that hides every
// higher link, so that the client walks its chain block by block up to MaxHops
// before finding it lies: that must not use up the honest mirror's hops.
func TestOneHonestMirrorAmongLiars(t *testing.T) {
	modes(t, func(t *testing.T, mode client.Mode) {
		c := honestChain(t)
		dir := t.TempDir()
		c.SetVisible(trusted)
		check(t, newClient(t, c, []string{serve(t, c.Handler())}, withMode(mode), inDir(dir)))
		c.SetVisible(headIndex)

		e := &env{t: t, c: c}
		f := forkChain(t, headIndex-1, true)
		liars := []string{
			down(),
			e.lie(status(0, http.StatusInternalServerError)),
			e.lie(answer(api.ResTimestamp, func(_ api.Path, h []byte) []byte { return flip(h, len(h)/2) })),
			e.lie(stamp(stampWith(t, c.Signers(2), header(c, 2), t0))),
			e.lie(stamp(stampWith(t, c.Signers(headIndex), header(c, headIndex), t0.Add(-time.Hour)))),
			e.lie(relink(c, func(from, to *skipchain.Header) *skipchain.ForwardLink {
				return linkWith(t, chaintest.NewSigners(t, "EVIL", c.Signers(from.Index()).Roster.Len()), from, to, 0)
			})),
			e.lie(hideHigherLinks(), at(api.ResPayload, headIndex, []byte("garbage"))),
			e.lie(at(api.ResHeader, headIndex, header(f, headIndex).Encode())),
			e.lie(at(api.ResPayload, headIndex, f.Block(headIndex).Payload())),
			e.lie(endless(api.ResPayload, skipchain.MaxPayloadSize, false)),
			e.lie(drip(api.ResTimestamp)),
		}
		honest := e.honest()
		cl := newClient(t, c, append(liars, honest), withMode(mode), inDir(dir), func(c *client.Config) {
			c.MaxHops = 4
			c.RequestTimeout = 300 * time.Millisecond
		})
		u, err := cl.Check(context.Background())
		require.NoError(t, err)
		assert.Equal(t, honest, u.Mirror)
		assert.Equal(t, uint64(headIndex), u.Head.Index)
		assert.Equal(t, header(c, headIndex).ID(), u.Head.ID)
		assert.Equal(t, fmt.Sprintf("1.0.%d", headIndex), version(u))
		assert.Empty(t, evidenceFiles(t, dir))
		for i, m := range e.evils {
			assert.Positive(t, m.lies.Load(), "liar %d told no lie", i)
		}
	})
}

// TestEvidenceStopsChecksUntilRemoved: once a fork is found, no Check goes on, even
// against an honest mirror, until the evidence file is removed.
func TestEvidenceStopsChecksUntilRemoved(t *testing.T) {
	c := honestChain(t)
	dir := t.TempDir()
	c.SetVisible(trusted)
	check(t, newClient(t, c, []string{serve(t, c.Handler())}, inDir(dir)))
	c.SetVisible(headIndex)
	state := trustedFile(t, dir)

	f := forkChain(t, trusted-1, false)
	f.SetVisible(trusted)
	e := &env{t: t, c: c}
	_, err := newClient(t, c, []string{e.lie(from(f, api.ResTimestamp))}, inDir(dir)).Check(context.Background())
	require.ErrorIs(t, err, client.ErrEvidence)
	files := evidenceFiles(t, dir)
	require.Len(t, files, 1)

	cl := newClient(t, c, []string{e.honest()}, inDir(dir))
	evs, err := cl.Evidence()
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, "timestamp-fork", evs[0].Kind)
	require.Len(t, evs[0].Statements, 2, "the trusted timestamp and the conflicting one")
	for i, want := range []*skipchain.Header{header(c, trusted), header(f, trusted)} {
		b, err := hex.DecodeString(evs[0].Statements[i].Encoding)
		require.NoError(t, err)
		ts, err := timeline.ParseTimestamp(b)
		require.NoError(t, err)
		require.NoError(t, ts.Verify(c.Signers(trusted).Roster), "statement %d is validly signed", i)
		assert.Equal(t, want.ID(), ts.Head)
	}

	for i := 0; i < 2; i++ {
		_, err = cl.Check(context.Background())
		require.ErrorIs(t, err, client.ErrEvidence, "check %d after the evidence", i)
		assert.Contains(t, err.Error(), files[0])
		assert.Equal(t, state, trustedFile(t, dir))
	}

	require.NoError(t, os.Remove(files[0]))
	u := check(t, cl)
	assert.Equal(t, uint64(headIndex), u.Head.Index)
	assert.True(t, u.Moved)
}
