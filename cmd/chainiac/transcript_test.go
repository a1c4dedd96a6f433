package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// The transcripts: testscript files that run the chainiac binary as a user would
// (testdata/script/*.txtar), the release guide run as written (guide_test.go) and
// README's commands (readme_test.go). Every one of them shares one cothority of five
// real `chainiac node run` processes; each script makes its own chain (its own
// product), so scripts run in parallel without seeing each other's blocks.
//
// What a script finds in its work directory and environment (transcriptSetup):
//
//	$NODE1 … $NODE5   the HTTP URLs of the five nodes
//	node1.toml …      their group entries, as `chainiac node setup` printed them
//	$DEAD             the URL of a port nothing listens on
//	$DIST             a static HTTP server of the script's own, filled by `upload`
//	release-key.pem   the release team's MAR signing key (release-key.pub.pem its public key)
//
// and the commands it has besides testscript's own:
//
//	exec chainiac …           this package's binary (testscript.Main in TestMain)
//	exits N PROGRAM ARGS…     run PROGRAM, which must exit with status N
//	capture NAME              set $NAME to the last command's standard output (one line)
//	upload DEST SRC…          put files (or a directory's contents) at $DIST/DEST/ ("any web server")
func TestTranscripts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs five node processes")
	}
	c := newProcCluster(t, 5)
	t.Run("all", func(t *testing.T) {
		t.Run("scripts", func(t *testing.T) {
			t.Parallel()
			testscript.Run(t, c.scriptParams(t, testscript.Params{Dir: "testdata/script"}))
		})
		t.Run("release-guide", func(t *testing.T) {
			t.Parallel()
			runGuide(t, c)
		})
		t.Run("readme", func(t *testing.T) {
			t.Parallel()
			runReadme(t, c)
		})
	})
}

// distDirKey is the Env value holding the directory a script's $DIST serves.
type distDirKey struct{}

// scriptParams completes p with the shared set-up and commands. extra, if not nil,
// runs after the shared set-up.
func (c *procCluster) scriptParams(t *testing.T, p testscript.Params, extra ...func(*testscript.Env) error) testscript.Params {
	p.RequireExplicitExec = true
	p.RequireUniqueNames = true
	p.Cmds = map[string]func(*testscript.TestScript, bool, []string){
		"exits":   cmdExits,
		"capture": cmdCapture,
		"upload":  cmdUpload,
	}
	p.Setup = func(env *testscript.Env) error {
		if err := c.transcriptSetup(t, env); err != nil {
			return err
		}
		for _, f := range extra {
			if err := f(env); err != nil {
				return err
			}
		}
		return nil
	}
	return p
}

// transcriptSetup gives a script the cothority, the group entries, the release key
// and its own download server.
func (c *procCluster) transcriptSetup(t *testing.T, env *testscript.Env) error {
	for i, entry := range c.entries {
		env.Setenv(fmt.Sprintf("NODE%d", i+1), c.url(i))
		if err := os.WriteFile(filepath.Join(env.WorkDir, fmt.Sprintf("node%d.toml", i+1)), []byte(entry), 0o644); err != nil {
			return err
		}
	}
	env.Setenv("DEAD", "http://"+freePort(t))
	// chainiac is this race-instrumented test binary, whose race runtime would sleep
	// a second at every exit to let other goroutines report.
	env.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	for from, to := range map[string]string{
		"../../release/build/testdata/mar-signing-key.pem":     "release-key.pem",
		"../../release/build/testdata/mar-signing-key.pub.pem": "release-key.pub.pem",
	} {
		b, err := os.ReadFile(from)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(env.WorkDir, to), b, 0o600); err != nil {
			return err
		}
	}
	dist, err := os.MkdirTemp("", "chainiac-dist-")
	if err != nil {
		return err
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dist)))
	env.Defer(func() {
		srv.Close()
		os.RemoveAll(dist)
	})
	env.Setenv("DIST", srv.URL)
	env.Values[distDirKey{}] = dist
	return nil
}

// cmdExits runs a program and requires its exit status: `exits 3 chainiac release
// verify …`. testscript's `! exec` only knows that a program failed, and the exit
// codes are part of the interface (exit.go).
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil || want <= 0 {
		ts.Fatalf("exits: %q is no exit status above 0 (use exec for 0)", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	var ee *exec.ExitError
	switch {
	case err == nil:
		ts.Fatalf("%s exited 0, want %d", args[1], want)
	case !errors.As(err, &ee):
		ts.Fatalf("%s: %v", args[1], err)
	case ee.ExitCode() != want:
		ts.Fatalf("%s: exit status %d, want %d", args[1], ee.ExitCode(), want)
	}
}

// cmdCapture sets an environment variable to the last command's standard output,
// which must be one line: the transcript form of `NAME=$(command)`.
func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: capture NAME")
	}
	out := strings.TrimSuffix(ts.ReadFile("stdout"), "\n")
	if out == "" || strings.Contains(out, "\n") {
		ts.Fatalf("capture %s: want one line of standard output, got %q", args[0], out)
	}
	ts.Setenv(args[0], out)
}

// cmdUpload copies files to the script's download server: each SRC file to
// DEST/<its name>, each SRC directory's contents into DEST.
func cmdUpload(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: upload DEST SRC...")
	}
	root, _ := ts.Value(distDirKey{}).(string)
	dest := filepath.Join(root, filepath.FromSlash(args[0]))
	if root == "" || !strings.HasPrefix(dest, root+string(filepath.Separator)) {
		ts.Fatalf("upload: %q is not below the server's root", args[0])
	}
	for _, src := range args[1:] {
		src = ts.MkAbs(src)
		st, err := os.Stat(src)
		ts.Check(err)
		if !st.IsDir() {
			ts.Check(copyFile(src, filepath.Join(dest, filepath.Base(src))))
			continue
		}
		ts.Check(filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(src, p)
			if err != nil {
				return err
			}
			return copyFile(p, filepath.Join(dest, rel))
		}))
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}
