package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/internal/nodeclient"
	"github.com/chainiac/chainiac/internal/sample"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/mar"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// procCluster is n `chainiac node run` processes set up by `chainiac node setup`,
// a 2-of-3 developer policy made with `chainiac release keygen`, and the release
// team's download server.
type procCluster struct {
	t       *testing.T
	work    string
	configs []string
	https   []string // fixed HTTP addresses, so a restarted node serves at the same one
	procs   []*nodeProc
	group   string   // group file path
	entries []string // each node's group entry, from node setup
	policy  string   // policy file path
	devs    []*release.Signer
	files   *sample.Server
	genesis skipchain.ID
}

// newProcCluster sets up and starts n nodes; each setting is a node.toml key and its
// TOML value, written into every node's configuration.
func newProcCluster(t *testing.T, n int, settings ...[2]string) *procCluster {
	c := &procCluster{t: t, work: t.TempDir()}
	var group bytes.Buffer
	for i := 0; i < n; i++ {
		dir := filepath.Join(c.work, fmt.Sprintf("node%d", i))
		httpAddr := freePort(t)
		entry := mustRunBin(t, "node", "setup", "--address", freePort(t), "--http", httpAddr,
			"--dir", dir, "--description", fmt.Sprintf("node %d", i), "--reference-recipe")
		require.Contains(t, entry, "[[servers]]")
		group.WriteString(entry)
		c.entries = append(c.entries, entry)
		cfg := filepath.Join(dir, "node.toml")
		// Short rounds: a member that is down costs the round timeout, and a round
		// lingers after its threshold for the last signatures.
		setConfig(t, cfg, "linger", `"1s"`)
		setConfig(t, cfg, "round_timeout", `"15s"`)
		for _, kv := range settings {
			setConfig(t, cfg, kv[0], kv[1])
		}
		c.configs, c.https = append(c.configs, cfg), append(c.https, httpAddr)
		c.procs = append(c.procs, nil)
	}
	c.group = filepath.Join(c.work, "group.toml")
	require.NoError(t, os.WriteFile(c.group, group.Bytes(), 0o644))

	var keys []release.DeveloperKey
	for i := 0; i < 3; i++ {
		keyFile := filepath.Join(c.work, fmt.Sprintf("dev%d.key", i))
		pub := strings.TrimSpace(mustRunBin(t, "release", "keygen", "-o", keyFile))
		b, err := os.ReadFile(keyFile)
		require.NoError(t, err)
		s, err := release.ParseKeyFile(b)
		require.NoError(t, err)
		require.Equal(t, pub, s.Public().String(), "keygen prints the public key")
		c.devs, keys = append(c.devs, s), append(keys, s.Public())
	}
	policy, err := release.NewPolicy(keys, 2)
	require.NoError(t, err)
	c.policy = filepath.Join(c.work, "policy.toml")
	require.NoError(t, os.WriteFile(c.policy, policy.MarshalPolicyFile(), 0o644))

	c.files, err = sample.NewServer()
	require.NoError(t, err)
	t.Cleanup(func() { c.files.Close() })
	for i := range c.procs {
		c.start(i)
	}
	return c
}

// start runs node i and waits until its HTTP API answers.
func (c *procCluster) start(i int) {
	t := c.t
	p := startNodeProc(t, c.configs[i])
	require.Equal(t, c.https[i], p.waitReady(), "the ready line names the configured HTTP address")
	code, body := httpGet(t, c.url(i)+"/v1/status")
	require.Equal(t, http.StatusOK, code, string(body))
	c.procs[i] = p
}

// stop stops node i with SIGTERM and waits for it.
func (c *procCluster) stop(i int) {
	c.procs[i].signal(syscall.SIGTERM)
	require.Equal(c.t, 0, c.procs[i].wait(20*time.Second), c.procs[i].stderr.String())
}

func (c *procCluster) url(i int) string { return "http://" + c.https[i] }

func (c *procCluster) release(version string) *sample.Release {
	pem, err := os.ReadFile("../../release/build/testdata/mar-signing-key.pem")
	require.NoError(c.t, err)
	key, err := mar.ParsePrivateKeyPEM(pem)
	require.NoError(c.t, err)
	r, err := sample.Make(context.Background(), sample.Options{
		Version: version, Channel: "release", BaseURL: c.files.URL(), MARKey: key,
		Developers: c.devs[:2], WorkDir: filepath.Join(c.work, "team"),
	})
	require.NoError(c.t, err)
	c.files.Publish(r.Files)
	return r
}

// propose posts a release proposal to node i, as the release team would.
func (c *procCluster) propose(ctx context.Context, i int, r *sample.Release) (*api.ProposalResult, error) {
	p := &api.Proposal{Kind: timeline.KindRelease, Body: r.Signed.Encode(), Source: r.SourceURL}
	client, err := nodeclient.New(c.url(i), 2*time.Minute)
	if err != nil {
		return nil, err
	}
	return client.PostResult(ctx, api.Proposals(c.genesis), p.Encode())
}

func (c *procCluster) mustAccept(i int, r *sample.Release, index uint64) {
	res, err := c.propose(context.Background(), i, r)
	require.NoError(c.t, err)
	require.True(c.t, res.Accepted, "%+v", res)
	require.Equal(c.t, index, res.Index, "%+v", res)
	for _, rr := range res.Rounds {
		require.True(c.t, rr.OK, "%+v", rr)
	}
}

// latest is node i's LatestRecord.
func (c *procCluster) latest(i int) *api.LatestRecord {
	code, b := httpGet(c.t, c.url(i)+api.Latest(c.genesis))
	require.Equal(c.t, http.StatusOK, code, "node %d: %s", i, b)
	l, err := api.ParseLatest(b)
	require.NoError(c.t, err)
	return l
}

// waitSameHead waits, bounded, until every node's latest is block index with one ID.
func (c *procCluster) waitSameHead(index uint64) skipchain.ID {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ids []skipchain.ID
		for i := range c.procs {
			if l := c.latest(i); l.Index == index {
				ids = append(ids, l.ID)
			}
		}
		if len(ids) == len(c.procs) {
			for _, id := range ids {
				require.Equal(c.t, ids[0], id, "two nodes hold different blocks at index %d", index)
			}
			return ids[0]
		}
		require.True(c.t, time.Now().Before(deadline), "nodes did not all reach block %d", index)
		time.Sleep(50 * time.Millisecond)
	}
}

// blocks are node i's served blocks 0..last, as bytes.
func (c *procCluster) blocks(i int, last uint64) [][]byte {
	var out [][]byte
	for j := uint64(0); j <= last; j++ {
		code, b := httpGet(c.t, c.url(i)+api.Block(c.genesis, j))
		require.Equal(c.t, http.StatusOK, code, "node %d block %d: %s", i, j, b)
		out = append(out, b)
	}
	return out
}

func TestNodeProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four node processes")
	}
	c := newProcCluster(t, 4)

	t.Run("chain create", func(t *testing.T) {
		out := mustRunBin(t, "chain", "create", "--roster", c.group, "--policy", c.policy,
			"--product", sample.Product, "--node", c.url(0))
		c.genesis = parseID(t, out)
		require.Equal(t, c.genesis, c.waitSameHead(0), "every node stored the genesis")
	})

	var newest *sample.Release
	t.Run("releases", func(t *testing.T) {
		for v, version := range []string{"1.0", "1.1"} {
			newest = c.release(version)
			c.mustAccept(v%4, newest, uint64(v+1))
		}
		// The third through the release team's command.
		newest = c.release("2.0")
		signed := filepath.Join(t.TempDir(), "signed-2.0.bin")
		require.NoError(t, os.WriteFile(signed, newest.Signed.Encode(), 0o644))
		// First the team's own rebuild, fetching source and signed MARs as nodes will.
		ok := mustRunBin(t, "release", "rebuild", "--manifest", signed, "--source", newest.SourceURL)
		require.Contains(t, ok, "each signed MAR is its rebuild plus signatures")
		require.NotContains(t, ok, "local files")
		out := mustRunBin(t, "release", "propose", "--node", c.url(2), "--source", newest.SourceURL, signed)
		require.Contains(t, out, "block 3 ")
		require.Contains(t, out, "round link 2→3 level 0: signed by 4 of 4")
		c.waitSameHead(3)
	})

	t.Run("release propose refused", func(t *testing.T) {
		pem, err := os.ReadFile("../../release/build/testdata/mar-signing-key.pem")
		require.NoError(t, err)
		key, err := mar.ParsePrivateKeyPEM(pem)
		require.NoError(t, err)
		r, err := sample.Make(context.Background(), sample.Options{Version: "2.0.1", Channel: "release",
			BaseURL: c.files.URL(), MARKey: key, Developers: c.devs[:2], WorkDir: filepath.Join(c.work, "team"), Tamper: true})
		require.NoError(t, err)
		c.files.Publish(r.Files)
		signed := filepath.Join(t.TempDir(), "signed.bin")
		require.NoError(t, os.WriteFile(signed, r.Signed.Encode(), 0o644))
		out, errOut, code := runBin(t, "release", "propose", "--node", c.url(1), "--source", r.SourceURL, "--json", signed)
		require.Equal(t, exitRejected, code, errOut)
		var po proposeOutput
		require.NoError(t, json.Unmarshal([]byte(out), &po), out)
		require.False(t, po.Result.Accepted)
		refusals := 0
		for _, rr := range po.Result.Rounds {
			for _, f := range rr.Refusals {
				require.Contains(t, f.Reason, "rebuild of demo-browser 2.0.1")
				refusals++
			}
		}
		require.GreaterOrEqual(t, refusals, 2, "more than f members refused")
		// Unreachable node: exit 4; unsigned manifest: told to sign first.
		_, errOut, code = runBin(t, "release", "propose", "--node", "http://"+freePort(t), "--source", r.SourceURL, signed)
		require.Equal(t, exitUnreachable, code, errOut)
		require.Equal(t, uint64(3), c.latest(1).Index, "no block was made")
	})

	t.Run("status", func(t *testing.T) {
		out := mustRunBin(t, "node", "status", "--node", c.url(1), "--json")
		var st api.Status
		require.NoError(t, json.Unmarshal([]byte(out), &st), out)
		require.Len(t, st.Chains, 1)
		cs := st.Chains[0]
		require.Equal(t, c.genesis.String(), cs.Genesis)
		require.EqualValues(t, 3, cs.Height)
		require.Equal(t, c.latest(1).ID.String(), cs.Head)
		require.Len(t, cs.Roster, 4)
		require.Equal(t, 3, cs.Needed)
		require.NotEmpty(t, cs.RecentRounds, "node 1 led the rounds of release 1.1")

		human := mustRunBin(t, "node", "status", "--node", c.url(1))
		require.Contains(t, human, "chain "+c.genesis.String()+" ("+sample.Product+")")
		require.Contains(t, human, "height     3, head "+cs.Head+" ("+timeline.KindRelease+")")
		require.Contains(t, human, "roster     4 members, threshold 3")
		require.Contains(t, human, "signed 4/4")
	})

	t.Run("export", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "site")
		first := mustRunBin(t, "export", "--node", c.url(2), "--output", out)
		require.Contains(t, first, "blocks 0..3")
		files := exportedFiles(t, out)
		// Blocks 0..3 each as a block, a header and a payload; links 0→1, 0→2, 1→2
		// and 2→3 alone; latest and the timestamp.
		require.Len(t, files, 4*3+4+2, "%v", slices.Collect(maps.Keys(files)))
		require.Contains(t, files, strings.TrimPrefix(api.Link(c.genesis, 0, 1), "/"))
		// Byte for byte what the node serves, at the path it serves it.
		for rel, data := range files {
			code, served := httpGet(t, c.url(2)+"/"+rel)
			require.Equal(t, http.StatusOK, code, rel)
			require.Equal(t, served, data, rel)
		}
		times := fileTimes(t, out)
		again := mustRunBin(t, "export", "--node", c.url(2), "--output", out)
		require.Contains(t, again, "0 files written")
		require.Equal(t, files, exportedFiles(t, out))
		require.Equal(t, times, fileTimes(t, out), "a second export rewrote files")
	})

	t.Run("updater", func(t *testing.T) {
		// From a node, by the express path, then from a static export of another
		// node by forward links: the same release, and its MAR checked byte for byte.
		site := filepath.Join(t.TempDir(), "site")
		mustRunBin(t, "export", "--node", c.url(1), "--output", site)
		static := httptest.NewServer(http.FileServer(http.Dir(site)))
		defer static.Close()
		pub := "../../release/build/testdata/mar-signing-key.pub.pem"
		for _, m := range []struct{ mirror, mode string }{{c.url(0), "express"}, {static.URL, "links"}} {
			state := t.TempDir()
			mustRunBin(t, "update", "init", "--state", state, "--genesis", c.genesis.String(), "--mirror", m.mirror,
				"--mode", m.mode, "--mar-key", pub)
			var out checkOutput
			raw := mustRunBin(t, "update", "check", "--state", state, "--json")
			require.NoError(t, json.Unmarshal([]byte(raw), &out), raw)
			require.Equal(t, "2.0", out.Version, m.mode)
			require.EqualValues(t, 3, out.ReleaseIndex)
			if m.mode == "express" {
				require.Equal(t, 1, out.SignatureChecks, "one signature for three missed releases")
			} else {
				require.Equal(t, out.Hops+1, out.SignatureChecks)
			}
			dir := t.TempDir()
			path := strings.TrimSpace(mustRunBin(t, "update", "fetch", "--state", state, "--target", "linux-x86_64/en-US", "-o", dir))
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, newest.SignedMARs[release.TargetKey{Platform: "linux-x86_64", Locale: "en-US"}], got)
			xml := mustRunBin(t, "update", "xml", "--state", state, "--target", "linux-x86_64/en-US", "--installed", "1.1")
			require.Contains(t, xml, `appVersion="2.0"`)
			bundle := filepath.Join(dir, "2.0.bundle")
			mustRunBin(t, "update", "bundle", "--state", state, "--target", "linux-x86_64/en-US", "-o", bundle)
			ok := mustRunBin(t, "update", "verify-bundle", "--genesis", c.genesis.String(), "--bundle", bundle, "--mar-key", pub, path)
			require.Contains(t, ok, "ok: ")
		}
		// The local update server an unmodified browser is pointed at.
		state := t.TempDir()
		mustRunBin(t, "update", "init", "--state", state, "--genesis", c.genesis.String(), "--mirror", c.url(3))
		srv := startProc(t, "update", "serve", "--state", state, "--listen", "127.0.0.1:0")
		addr := srv.waitReady()
		code, body := httpGet(t, "http://"+addr+"/update/release/Linux_x86_64-gcc3/1.0/en-US")
		require.Equal(t, http.StatusOK, code, "%s", body)
		require.Contains(t, string(body), `<patch type="complete" URL="`+c.files.URL())
		srv.signal(syscall.SIGTERM)
		require.Equal(t, 0, srv.wait(10*time.Second), srv.stderr.String())

		// Exit codes: 4 when no mirror answers, 3 when the newest timestamp is too old.
		state = t.TempDir()
		mustRunBin(t, "update", "init", "--state", state, "--genesis", c.genesis.String(), "--mirror", "http://"+freePort(t))
		_, errOut, code := runBin(t, "update", "check", "--state", state)
		require.Equal(t, exitUnreachable, code, errOut)
		state = t.TempDir()
		mustRunBin(t, "update", "init", "--state", state, "--genesis", c.genesis.String(), "--mirror", c.url(2), "--max-age", "1ns")
		_, errOut, code = runBin(t, "update", "check", "--state", state)
		require.Equal(t, exitRejected, code, errOut)
		require.Contains(t, errOut, "too old")
	})

	t.Run("export refuses a mangled copy", func(t *testing.T) {
		block := func(i uint64) []byte {
			_, b := httpGet(t, c.url(2)+api.Block(c.genesis, i))
			return b
		}
		flipLast := func(b []byte) []byte {
			b = bytes.Clone(b)
			b[len(b)-1] ^= 1
			return b
		}
		for _, tc := range []struct {
			name   string
			path   string
			mangle func([]byte) []byte
			want   string
		}{
			{"another block at an index", api.Block(c.genesis, 2), func([]byte) []byte { return block(3) }, "asked for block 2, the node served block 3"},
			{"a link signature", api.Block(c.genesis, 1), flipLast, "block 1: skipchain: invalid forward link: 1→2: signature by roster"},
			{"the timestamp signature", api.Timestamp(c.genesis), flipLast, "timestamp: timeline: invalid timestamp: block 3"},
			{"latest", api.Latest(c.genesis), flipLast, "latest names block 3"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				proxy := tamperingProxy(t, c.url(2), func(path string, b []byte) []byte {
					if path == tc.path {
						return tc.mangle(b)
					}
					return b
				})
				out := filepath.Join(t.TempDir(), "site")
				_, errOut, code := runBin(t, "export", "--node", proxy, "--output", out, "--genesis", c.genesis.String())
				require.Equal(t, 1, code, errOut)
				require.Contains(t, errOut, tc.want)
				t.Logf("refused: %s", errOut)
				_, err := os.Stat(out)
				require.True(t, os.IsNotExist(err), "nothing written")
			})
		}
	})

	t.Run("lifecycle", func(t *testing.T) {
		// A second node on the same directory refuses to start, and the first runs on.
		_, errOut, code := runBin(t, "node", "run", "--config", c.configs[3])
		require.Equal(t, 1, code)
		require.Contains(t, errOut, "is in use by another node process")
		head := c.latest(3)

		start := time.Now()
		c.procs[3].signal(syscall.SIGTERM)
		require.Equal(t, 0, c.procs[3].wait(20*time.Second), c.procs[3].stderr.String())
		t.Logf("node 3 shut down in %s", time.Since(start))
		require.Contains(t, c.procs[3].stderr.String(), "node stopped")
		c.start(3)
		require.Equal(t, head, c.latest(3), "the restarted node serves the same head")
	})

	t.Run("sigkill during a proposal", func(t *testing.T) {
		before := c.blocks(2, 3)
		r := c.release("2.1")
		type answer struct {
			res *api.ProposalResult
			err error
		}
		answers := make(chan answer, 1)
		posted := make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel() // the poster's owner: it returns when the test does
		go func() {
			close(posted)
			res, err := c.propose(ctx, 0, r)
			answers <- answer{res, err}
		}()
		<-posted
		// Kill node 2 in the middle of its witness check: while its rebuild workspace
		// exists (the runner removes it when the build ends).
		builds := filepath.Join(filepath.Dir(c.configs[2]), "data", "builds")
		deadline := time.Now().Add(30 * time.Second)
		for {
			ws, err := filepath.Glob(filepath.Join(builds, "chainiac-build-*"))
			require.NoError(t, err)
			if len(ws) > 0 {
				break
			}
			require.True(t, time.Now().Before(deadline), "node 2 never started rebuilding release 2.1")
			time.Sleep(2 * time.Millisecond)
		}
		c.procs[2].kill()
		var a answer
		select {
		case a = <-answers:
		case <-time.After(2 * time.Minute):
			t.Fatal("no answer to the proposal")
		}
		require.NoError(t, a.err)
		// Three of four members suffice: the chain does not stop for one lost node.
		require.True(t, a.res.Accepted, "%+v", a.res)
		require.EqualValues(t, 4, a.res.Index)

		c.start(2)
		after := c.latest(2)
		require.GreaterOrEqual(t, after.Index, uint64(3))
		require.Equal(t, before, c.blocks(2, 3), "the killed node lost or changed nothing it stored")

		// The next release is accepted, and the restarted node, which missed block 4,
		// catches up from the leader named in the round and stores block 5 too.
		c.mustAccept(1, c.release("3.0"), 5)
		c.waitSameHead(5)
	})

	t.Run("policy and roster changes by the release team's commands", func(t *testing.T) {
		dir := t.TempDir()
		keyFile := func(i int) string { return filepath.Join(c.work, fmt.Sprintf("dev%d.key", i)) }
		// Developer 2 leaves: the new policy is developers 0 and 1, both needed.
		newPolicy := filepath.Join(dir, "policy-2.toml")
		mustRunBin(t, "release", "policy", "--threshold", "2", "-o", newPolicy, keyFile(0), keyFile(1))
		change := filepath.Join(dir, "policy-change.bin")
		mustRunBin(t, "policy", "change", "--node", c.url(0), "--policy", newPolicy, "-o", change)
		mustRunBin(t, "release", "sign", "--key", keyFile(0), change, "-o", change)
		_, errOut, code := runBin(t, "release", "sign", "--key", keyFile(0), change, "-o", change)
		require.Equal(t, exitRejected, code, "a key signs once")
		require.Contains(t, errOut, "already carries the signature of")
		_, errOut, code = runBin(t, "policy", "propose", "--node", c.url(0), change)
		require.Equal(t, exitRejected, code, "one signature of two: refused before it is proposed")
		require.Contains(t, errOut, "1 valid developer signatures of 2 needed")
		mustRunBin(t, "release", "sign", "--key", keyFile(2), change, "-o", change)
		out := mustRunBin(t, "policy", "propose", "--node", c.url(0), change)
		require.Contains(t, out, "block 6 ")

		// Node 3 leaves the roster: nodes 0, 1 and 2, all three needed.
		group := filepath.Join(dir, "group-3.toml")
		require.NoError(t, os.WriteFile(group, []byte(c.entries[0]+c.entries[1]+c.entries[2]), 0o644))
		rc := filepath.Join(dir, "roster-change.bin")
		mustRunBin(t, "roster", "change", "--node", c.url(1), "--roster", group, "-o", rc)
		mustRunBin(t, "release", "sign", "--key", keyFile(0), rc, "-o", rc)
		mustRunBin(t, "release", "sign", "--key", keyFile(1), rc, "-o", rc)
		out = mustRunBin(t, "roster", "propose", "--node", c.url(1), "--roster", group, rc)
		require.Contains(t, out, "block 7 ")

		r := c.release("4.0")
		signed := filepath.Join(dir, "signed-4.0.bin")
		require.NoError(t, os.WriteFile(signed, r.Signed.Encode(), 0o644))
		out = mustRunBin(t, "release", "propose", "--node", c.url(2), "--source", r.SourceURL, signed)
		require.Contains(t, out, "block 8 ")
		require.Contains(t, out, "round link 7→8 level 0: signed by 3 of 3")
	})
}

// exportedFiles maps each file under dir (slash path) to its content.
func exportedFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)], err = os.ReadFile(p)
		return err
	}))
	return out
}

func fileTimes(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		out[p] = st.ModTime()
		return nil
	}))
	return out
}

// tamperingProxy serves upstream's answers (status, body, content type) at its own
// URL, each body passed through mangle first; it stops when the test ends.
func tamperingProxy(t *testing.T, upstream string, mangle func(path string, b []byte) []byte) string {
	t.Helper()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := testHTTP.Get(upstream + r.URL.Path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(mangle(r.URL.Path, b))
	}))
	t.Cleanup(proxy.Close)
	return proxy.URL
}
