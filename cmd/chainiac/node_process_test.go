package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/skipchain"
)

// The multi-process tests run the real chainiac binary: `node setup`, `node run` as
// separate processes talking onet and HTTP on 127.0.0.1, `chain create`, `node
// status` and `export`. The binary also serves as the reference builder the nodes'
// recipe runs.

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// chainiacBinary builds this command once per test run (without -race: it is the
// program under test, not the test).
func chainiacBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "chainiac-cli-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "chainiac")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	require.NoError(t, binErr)
	return binPath
}

// removeBinary removes what chainiacBinary built; TestMain calls it after the tests.
func removeBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// runBin runs the binary to completion (bounded) and returns stdout, stderr and its
// exit code.
func runBin(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chainiacBinary(t), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("chainiac %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// mustRunBin runs the binary and requires exit status 0.
func mustRunBin(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runBin(t, args...)
	require.Equal(t, 0, code, "chainiac %s\nstderr: %s", strings.Join(args, " "), errOut)
	return out
}

// syncBuffer is a bytes.Buffer safe for the process's copier and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// readyWriter is a node process's standard output: it sends the HTTP address of the
// first "ready" line on ready.
type readyWriter struct {
	syncBuffer
	ready chan string // buffered, 1
	sent  bool
}

func (w *readyWriter) Write(p []byte) (int, error) {
	n, _ := w.syncBuffer.Write(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sent {
		return n, nil
	}
	for _, line := range strings.SplitAfter(w.buf.String(), "\n") {
		if !strings.HasSuffix(line, "\n") || !strings.HasPrefix(line, readyPrefix) {
			continue
		}
		for _, f := range strings.Fields(line) {
			if addr, ok := strings.CutPrefix(f, "http="); ok {
				w.ready <- addr
				w.sent = true
				return n, nil
			}
		}
	}
	return n, nil
}

// nodeProc is one `chainiac node run` process. Its owner stops it with term or kill;
// t.Cleanup kills it if the test did not.
type nodeProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout *readyWriter
	stderr *syncBuffer
	done   chan struct{} // closed when the process was waited for
	err    error         // Wait's result, once done is closed
}

func startNodeProc(t *testing.T, config string, extra ...string) *nodeProc {
	t.Helper()
	return startProc(t, append([]string{"node", "run", "--config", config}, extra...)...)
}

// startProc starts a long-running chainiac command (node run, update serve) that
// prints a ready line.
func startProc(t *testing.T, args ...string) *nodeProc {
	t.Helper()
	cmd := exec.Command(chainiacBinary(t), args...)
	p := &nodeProc{t: t, cmd: cmd, stdout: &readyWriter{ready: make(chan string, 1)}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	require.NoError(t, cmd.Start())
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() || os.Getenv("CHAINIAC_TEST_LOG") != "" {
			t.Logf("%v stderr:\n%s", args, p.stderr.String())
		}
	})
	return p
}

// waitReady waits (bounded) for the ready line and returns the HTTP address.
func (p *nodeProc) waitReady() string {
	p.t.Helper()
	select {
	case addr := <-p.stdout.ready:
		return addr
	case <-p.done:
		p.t.Fatalf("node exited before it was ready (%v): %s", p.err, p.stderr.String())
	case <-time.After(30 * time.Second):
		p.t.Fatalf("node not ready after 30 s: %s", p.stderr.String())
	}
	return ""
}

// wait waits at most d for the process to exit and returns its exit code.
func (p *nodeProc) wait(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		p.t.Fatalf("node still running after %s", d)
	}
	if p.err == nil {
		return 0
	}
	var ee *exec.ExitError
	require.ErrorAs(p.t, p.err, &ee)
	return ee.ExitCode()
}

func (p *nodeProc) signal(sig syscall.Signal) {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(sig)
	}
}

// kill SIGKILLs the process if it still runs and waits for it.
func (p *nodeProc) kill() {
	p.signal(syscall.SIGKILL)
	<-p.done
}

// freePort returns a port of 127.0.0.1 free right now.
// portsGiven are the ports freePort handed out in this process.
var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

func freePort(t *testing.T) string {
	t.Helper()
	// A port the kernel hands out for :0 is also one it hands out for outgoing
	// connections, so between this check and the node's own bind another process's
	// connection may take it. Ports below the ephemeral range (Linux: 32768–60999)
	// are only ever taken on purpose.
	portsMu.Lock()
	defer portsMu.Unlock()
	for i := 0; i < 1000; i++ {
		port := 20000 + rand.IntN(12000)
		if portsGiven[port] {
			continue // handed out before, maybe not bound yet
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			_ = l.Close()
			portsGiven[port] = true
			return l.Addr().String()
		}
	}
	t.Fatal("no free port below the ephemeral range")
	return ""
}

var testHTTP = &http.Client{Timeout: 30 * time.Second}

// httpGet fetches a URL with the binary media type and returns the body.
func httpGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/octet-stream")
	resp, err := testHTTP.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// setConfig replaces key's line in a node.toml written by node setup.
func setConfig(t *testing.T, path, key, value string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(string(b), "\n")
	found := false
	for i, l := range lines {
		if strings.HasPrefix(l, key+" = ") {
			lines[i], found = key+" = "+value, true
		}
	}
	if !found {
		lines = append(lines, key+" = "+value)
	}
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600))
}

func parseID(t *testing.T, s string) skipchain.ID {
	t.Helper()
	var id skipchain.ID
	require.NoError(t, id.UnmarshalText([]byte(strings.TrimSpace(s))), "%q", s)
	return id
}
