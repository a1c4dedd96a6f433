package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/internal/sample"
)

// The release guide is run as written: every command line of its ```sh blocks
// becomes one testscript line (guideScript), so the test cannot drift from the
// document. The only changes are the example hosts (guideHosts); the test plays the
// node operators (their group entries, in transcriptSetup), the developers' checkout
// of the release (a git repository made in guideSetup) and the web server the guide
// says to upload to (guideActions).

// guideHosts are the guide's example hosts and what the test puts in their place.
var guideHosts = strings.NewReplacer(
	"http://node1.example.org:7771", "$NODE1",
	"http://node2.example.org:7771", "$NODE2",
	"http://node3.example.org:7771", "$NODE3",
	"http://node4.example.org:7771", "$NODE4",
	"http://node5.example.org:7771", "$NODE5",
	"https://dist.example.org", "$DIST",
)

// guideTools are the programs the guide may run besides chainiac: standard tools of
// the machine, run for real.
var guideTools = map[string]bool{"chainiac": true, "cat": true, "echo": true, "git": true, "mkdir": true}

// guideAction is what a person does between two blocks that is no command of the
// guide: the test does it after the block that contains after, and the guide must
// say so (prose, whitespace folded).
type guideAction struct {
	after, prose string
	lines        []string
}

var guideActions = []guideAction{{
	after: "chainiac release manifest",
	prose: "upload the signed MARs and the source archive there (any web server)",
	lines: []string{"upload demo-browser/2.0 signed demo-browser-2.0.tar.gz"},
}}

// shellOnly are the characters of shell syntax that the translation would not keep:
// a guide line with one of them cannot run as written.
const shellOnly = "\"'`|;&<*?~\\"

var (
	captureLine = regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=\$\((.*)\)$`)
	exitsNote   = regexp.MustCompile(`^exits ([0-9]+)\b`)
	envRef      = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)
)

// guideScript turns the markdown's ```sh blocks into a testscript. It refuses what it
// cannot run as written, so the guide stays a transcript.
func guideScript(md string, actions []guideAction) (string, error) {
	known := map[string]bool{"DIST": true}
	for i := 1; i <= 5; i++ {
		known[fmt.Sprintf("NODE%d", i)] = true
	}
	var out strings.Builder
	used := make([]bool, len(actions))
	parts := strings.Split(md, "```")
	blocks := 0
	for i := 1; i < len(parts); i += 2 {
		info, body, _ := strings.Cut(parts[i], "\n")
		if strings.TrimSpace(info) != "sh" {
			continue
		}
		blocks++
		for _, line := range logicalLines(body) {
			cmd, note := splitComment(line)
			if cmd == "" {
				continue
			}
			fmt.Fprintf(&out, "# guide: %s\n", line)
			lines, err := translateLine(cmd, note, known)
			if err != nil {
				return "", fmt.Errorf("guide line %q: %w", line, err)
			}
			for _, l := range lines {
				out.WriteString(l + "\n")
			}
		}
		for j, a := range actions {
			if strings.Contains(body, a.after) {
				if used[j] {
					return "", fmt.Errorf("two blocks contain %q", a.after)
				}
				used[j] = true
				fmt.Fprintf(&out, "# the test: %s\n", a.prose)
				for _, l := range a.lines {
					out.WriteString(l + "\n")
				}
			}
		}
	}
	folded := strings.Join(strings.Fields(md), " ")
	for j, a := range actions {
		if !used[j] {
			return "", fmt.Errorf("no block contains %q", a.after)
		}
		if !strings.Contains(folded, a.prose) {
			return "", fmt.Errorf("the guide no longer says %q", a.prose)
		}
	}
	if blocks == 0 {
		return "", fmt.Errorf("no sh block")
	}
	return out.String(), nil
}

// logicalLines joins continuation lines (ending in a backslash).
func logicalLines(block string) []string {
	var out []string
	var cur strings.Builder
	for _, l := range strings.Split(block, "\n") {
		if s, ok := strings.CutSuffix(strings.TrimRight(l, " \t"), "\\"); ok {
			cur.WriteString(s)
			continue
		}
		cur.WriteString(l)
		out = append(out, strings.Join(strings.Fields(cur.String()), " "))
		cur.Reset()
	}
	return out
}

// splitComment splits a shell comment (a # that starts a word) off a line.
func splitComment(line string) (cmd, comment string) {
	if strings.HasPrefix(line, "#") {
		return "", strings.TrimSpace(line[1:])
	}
	if i := strings.Index(line, " #"); i >= 0 {
		return strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+2:])
	}
	return strings.TrimSpace(line), ""
}

// translateLine is one guide command as testscript lines: `NAME=$(cmd)` runs cmd
// and captures its output, `cmd > file` copies its output to file, a `# exits N`
// note expects exit status N.
func translateLine(cmd, note string, known map[string]bool) ([]string, error) {
	capture := ""
	if m := captureLine.FindStringSubmatch(cmd); m != nil {
		capture, cmd = m[1], m[2]
	}
	if strings.ContainsAny(cmd, shellOnly) || strings.Contains(cmd, "$(") {
		return nil, fmt.Errorf("shell syntax a transcript cannot run")
	}
	cmd = guideHosts.Replace(cmd)
	for _, m := range envRef.FindAllStringSubmatch(cmd, -1) {
		if !known[m[1]] {
			return nil, fmt.Errorf("$%s is set by no earlier line", m[1])
		}
	}
	words := strings.Fields(cmd)
	redirect := ""
	if n := len(words); n >= 3 && words[n-2] == ">" {
		redirect, words = words[n-1], words[:n-2]
	}
	if strings.Contains(strings.Join(words, " "), ">") {
		return nil, fmt.Errorf("a redirection other than a final > FILE")
	}
	if !guideTools[words[0]] {
		return nil, fmt.Errorf("%s is not a program the transcript runs (%v)", words[0], guideTools)
	}
	run := "exec " + strings.Join(words, " ")
	if m := exitsNote.FindStringSubmatch(note); m != nil {
		if capture != "" || redirect != "" {
			return nil, fmt.Errorf("a failing command's output is not used")
		}
		run = "exits " + m[1] + " " + strings.Join(words, " ")
	}
	lines := []string{run}
	if capture != "" {
		lines = append(lines, "capture "+capture)
		known[capture] = true
	}
	if redirect != "" {
		lines = append(lines, "cp stdout "+redirect)
	}
	return lines, nil
}

// runGuide runs docs/release-guide.md against the shared cothority.
func runGuide(t *testing.T, c *procCluster) {
	md, err := os.ReadFile("../../docs/release-guide.md")
	require.NoError(t, err)
	script, err := guideScript(string(md), guideActions)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "release-guide.txtar"), []byte(script), 0o644))
	testscript.Run(t, c.scriptParams(t, testscript.Params{Dir: dir}, guideSetup))
}

// guideSetup makes the developers' checkout the guide releases: the sample
// product's 2.0 source, committed in a git repository.
func guideSetup(env *testscript.Env) error {
	src := filepath.Join(env.WorkDir, "demo-browser-2.0")
	if err := sample.WriteSource(src, "2.0", ""); err != nil {
		return err
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"commit", "-q", "-m", "demo-browser 2.0"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=Alice", "GIT_AUTHOR_EMAIL=alice@example.org",
			"GIT_COMMITTER_NAME=Alice", "GIT_COMMITTER_EMAIL=alice@example.org")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// The translation keeps what it can run and refuses the rest.
func TestGuideScriptTranslation(t *testing.T) {
	md := "text\n```sh\n# a comment\nchainiac release keygen -o a.key   # prints the key\n" +
		"cat n1.toml n2.toml > group.toml\nID=$(chainiac chain create --node http://node1.example.org:7771 \\\n    --roster group.toml)\n" +
		"chainiac release propose --node http://node2.example.org:7771 --genesis $ID x.bin   # exits 3\n```\n" +
		"upload it (any web server)\n"
	got, err := guideScript(md, []guideAction{{after: "release propose", prose: "upload it (any web server)", lines: []string{"upload a b"}}})
	require.NoError(t, err)
	require.Equal(t, `# guide: chainiac release keygen -o a.key # prints the key
exec chainiac release keygen -o a.key
# guide: cat n1.toml n2.toml > group.toml
exec cat n1.toml n2.toml
cp stdout group.toml
# guide: ID=$(chainiac chain create --node http://node1.example.org:7771 --roster group.toml)
exec chainiac chain create --node $NODE1 --roster group.toml
capture ID
# guide: chainiac release propose --node http://node2.example.org:7771 --genesis $ID x.bin # exits 3
exits 3 chainiac release propose --node $NODE2 --genesis $ID x.bin
# the test: upload it (any web server)
upload a b
`, got)

	for _, bad := range []string{
		"chainiac release manifest --git-commit $(git rev-parse HEAD)",
		"sha256sum a.tar.gz | cut -c1-64",
		"chainiac release show \"my file.bin\"",
		"chainiac release verify --policy p.toml $UNSET",
		"tar -czf a.tar.gz a",
		"chainiac release show a.bin > b.txt 2>&1",
		"cd dir && chainiac release show a.bin",
	} {
		_, err := guideScript("```sh\n"+bad+"\n```\n", nil)
		require.Error(t, err, bad)
	}
	_, err = guideScript("```sh\nchainiac release show a.bin\n```\n", []guideAction{{after: "release manifest", prose: "x"}})
	require.ErrorContains(t, err, "no block contains")
}
