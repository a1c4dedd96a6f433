package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/internal/testrand"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
)

func TestNodeSetupWritesKeyAndEntryAndRefusesTwice(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	entry, err := runCLI(t, "node", "setup", "--address", "127.0.0.1:7770", "--http", "127.0.0.1:7771",
		"--dir", dir, "--description", "test node", "--reference-recipe")
	require.NoError(t, err)
	r, err := skipchain.ParseRosterTOML([]byte(entry))
	require.NoError(t, err, "the entry is a group file")
	require.Equal(t, 1, r.Len())
	require.Equal(t, "tcp://127.0.0.1:7770", r.Members()[0].Address)
	require.Contains(t, entry, `Description = "test node"`)

	st, err := os.Stat(filepath.Join(dir, "node.key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	key, err := os.ReadFile(filepath.Join(dir, "node.key"))
	require.NoError(t, err)
	cfg, err := os.ReadFile(filepath.Join(dir, "node.toml"))
	require.NoError(t, err)
	require.Contains(t, string(cfg), "reference_recipe = true")

	_, err = runCLI(t, "node", "setup", "--address", "127.0.0.1:7772", "--http", "127.0.0.1:7773", "--dir", dir)
	require.ErrorContains(t, err, "already holds a node key; refusing to overwrite it")
	again, err := os.ReadFile(filepath.Join(dir, "node.key"))
	require.NoError(t, err)
	require.Equal(t, key, again, "the key is untouched")
}

func TestNodeSetupRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no port", []string{"--address", "127.0.0.1", "--http", "127.0.0.1:1"}, "address"},
		{"bad http port", []string{"--address", "127.0.0.1:7770", "--http", "127.0.0.1:99999"}, "http"},
		{"other scheme", []string{"--address", "tls://127.0.0.1:7770", "--http", "127.0.0.1:1"}, "only tcp:// is supported"},
		{"missing flag", []string{"--address", "127.0.0.1:7770"}, `required flag(s) "http" not set`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "node")
			_, err := runCLI(t, append([]string{"node", "setup", "--dir", dir}, tc.args...)...)
			require.ErrorContains(t, err, tc.want)
			_, statErr := os.Stat(filepath.Join(dir, "node.key"))
			require.True(t, os.IsNotExist(statErr), "no key is made for a refused setup")
		})
	}
}

// `node run` with a configuration it must refuse exits 1 with the reason, before it
// listens anywhere. It runs as the binary: `node run` registers onet names
// process-wide.
func TestNodeRunRefusesBadConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	mustRunBin(t, "node", "setup", "--address", freePort(t), "--http", "127.0.0.1:0", "--dir", dir)
	good, err := os.ReadFile(filepath.Join(dir, "node.toml"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		key   string // set in node.toml, if not empty
		value string
		flags []string
		want  string
	}{
		{"unknown key", "lnger", `"1s"`, nil, `unknown key "lnger"`},
		{"log format", "log_format", `"xml"`, nil, `log_format "xml": want text or json`},
		{"negative duration", "round_timeout", `"-1s"`, nil, "negative duration -1s"},
		{"not a duration", "linger", `"soon"`, nil, "linger"},
		{"address without port", "address", `"tcp://127.0.0.1"`, nil, "address"},
		{"log level flag", "", "", []string{"--log-level", "loud"}, `--log-level "loud": want debug, info, warn or error`},
		{"log format flag", "", "", []string{"--log-format", "xml"}, `--log-format "xml": want text or json`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(dir, "node.toml")
			require.NoError(t, os.WriteFile(cfg, good, 0o600))
			if tc.key != "" {
				setConfig(t, cfg, tc.key, tc.value)
			}
			out, errOut, code := runBin(t, append([]string{"node", "run", "--config", cfg}, tc.flags...)...)
			require.Equal(t, 1, code, "stdout %q stderr %q", out, errOut)
			require.Contains(t, errOut, tc.want)
			require.NotContains(t, out, readyPrefix)
			require.Equal(t, 1, strings.Count(strings.TrimSpace(errOut), "\n")+1, "one error line: %q", errOut)
		})
	}
	_, errOut, code := runBin(t, "node", "run", "--config", filepath.Join(dir, "missing.toml"))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "missing.toml: no such file or directory")
}

// A node that serves garbage, or a block that does not follow the one before it,
// makes export fail before it writes anything.
func TestExportRefusesWhatDoesNotCheckOut(t *testing.T) {
	var g skipchain.ID
	g[0] = 1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case api.Timestamp(g):
			http.NotFound(w, r)
		case api.Latest(g):
			w.Header().Set("Content-Type", api.MediaBinary)
			_, _ = w.Write((&api.LatestRecord{Index: 0, ID: g}).Encode())
		default:
			w.Header().Set("Content-Type", api.MediaBinary)
			_, _ = w.Write([]byte("not a block"))
		}
	}))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "site")
	_, err := runCLI(t, "export", "--node", srv.URL, "--output", out, "--genesis", g.String())
	require.ErrorContains(t, err, "export: chain "+g.Short()+": api: served block")
	_, statErr := os.Stat(out)
	require.True(t, os.IsNotExist(statErr), "nothing written")
}

func TestChainCreateRefusesBadInputs(t *testing.T) {
	dir := t.TempDir()
	entry, err := runCLI(t, "node", "setup", "--address", "127.0.0.1:7770", "--http", "127.0.0.1:7771", "--dir", filepath.Join(dir, "n"))
	require.NoError(t, err)
	group := filepath.Join(dir, "group.toml")
	require.NoError(t, os.WriteFile(group, []byte(entry), 0o644))
	s, err := release.GenerateDeveloperKey(testrand.New("chain create policy"))
	require.NoError(t, err)
	p, err := release.NewPolicy([]release.DeveloperKey{s.Public()}, 1)
	require.NoError(t, err)
	policy := filepath.Join(dir, "policy.toml")
	require.NoError(t, os.WriteFile(policy, p.MarshalPolicyFile(), 0o644))
	bad := filepath.Join(dir, "bad.toml")
	require.NoError(t, os.WriteFile(bad, []byte("treshold = 1\n"), 0o644))

	// The node refuses the request: its one-line error comes back.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "api: genesis request: nope", http.StatusBadRequest)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad node URL", []string{"--roster", group, "--policy", policy, "--product", "p", "--node", "ftp://x"}, `--node "ftp://x"`},
		{"missing roster", []string{"--roster", filepath.Join(dir, "none"), "--policy", policy, "--product", "p", "--node", srv.URL}, "roster:"},
		{"bad policy", []string{"--roster", group, "--policy", bad, "--product", "p", "--node", srv.URL}, "unknown fields treshold"},
		{"bad product", []string{"--roster", group, "--policy", policy, "--product", "", "--node", srv.URL}, "chain create: timeline: product: empty"},
		{"node refuses", []string{"--roster", group, "--policy", policy, "--product", "p", "--node", srv.URL}, "400 Bad Request: api: genesis request: nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runCLI(t, append([]string{"chain", "create"}, tc.args...)...)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// A genesis the roster did not cosign: every round's error, refusal and failure goes
// to standard error, and the command fails with the node's reason.
func TestChainCreatePrintsRefusals(t *testing.T) {
	dir := t.TempDir()
	entry, err := runCLI(t, "node", "setup", "--address", "127.0.0.1:7770", "--http", "127.0.0.1:7771", "--dir", filepath.Join(dir, "n"))
	require.NoError(t, err)
	group := filepath.Join(dir, "group.toml")
	require.NoError(t, os.WriteFile(group, []byte(entry), 0o644))
	s, err := release.GenerateDeveloperKey(testrand.New("chain create refusals"))
	require.NoError(t, err)
	p, err := release.NewPolicy([]release.DeveloperKey{s.Public()}, 1)
	require.NoError(t, err)
	policy := filepath.Join(dir, "policy.toml")
	require.NoError(t, os.WriteFile(policy, p.MarshalPolicyFile(), 0o644))

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", api.MediaJSON)
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(w).Encode(&api.ProposalResult{
			Kind: "chainiac/v1/genesis", Error: "the genesis roster did not cosign the genesis: protocol: 1 signed, 3 needed",
			Rounds: []api.RoundReport{{
				What: "genesis", Signers: 1, Members: 4, Needed: 3, Error: "protocol: 1 signed, 3 needed",
				Refusals: []api.Refusal{{Member: 2, Key: "abcd", Reason: "unknown product\nsecond line"}},
				Failures: []api.Failure{{Member: 3, Reason: "no reply in time"}},
			}},
		})
	}))
	defer srv.Close()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs([]string{"chain", "create", "--roster", group, "--policy", policy, "--product", "p", "--node", srv.URL})
	err = root.Execute()
	require.EqualError(t, err, "chain create: refused: the genesis roster did not cosign the genesis: protocol: 1 signed, 3 needed")
	require.Equal(t, exitRejected, exitCode(err))
	require.Empty(t, out.String(), "no genesis ID for a chain that was not created")
	require.Equal(t, `round genesis: failed by 1 of 4 (threshold 3) in 0.00s
  error: protocol: 1 signed, 3 needed
  member 2 (abcd) refused: unknown product second line
  member 3 did not answer: no reply in time
`, errOut.String())
}
