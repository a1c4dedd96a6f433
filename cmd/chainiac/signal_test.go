package main

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A command interrupted while it writes its output leaves no temporary file: SIGINT
// during `mar create` of incompressible data exits 130 with the directory clean.
func TestInterruptRemovesTemporaryFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary on 64 MB")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	require.NoError(t, os.MkdirAll(src, 0o755))
	data := make([]byte, 64<<20)
	_, _ = rand.Read(data)
	for i := range data {
		// Four bits of entropy a byte: not random-looking, so every block goes through
		// the LZMA encoder (random data is stored, and done before the signal).
		data[i] &= 0x0f
	}
	require.NoError(t, os.WriteFile(filepath.Join(src, "blob"), data, 0o644))
	outDir := filepath.Join(dir, "out")
	require.NoError(t, os.MkdirAll(outDir, 0o755))

	cmd := exec.Command(chainiacBinary(t), "mar", "create", "--channel", "release", "--version", "1.0",
		"-C", src, "-o", filepath.Join(outDir, "big.mar"), "blob")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		entries, err := os.ReadDir(outDir)
		require.NoError(t, err)
		if len(entries) > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("mar create ended before it was interrupted (%v): %s", err, stderr.String())
		default:
		}
		require.True(t, time.Now().Before(deadline), "no temporary output appeared")
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("mar create did not stop on SIGINT")
	}
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, exitInterrupted, ee.ExitCode(), "an interruption is neither a refusal nor an outage: %s", stderr.String())
	entries, err := os.ReadDir(outDir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.Empty(t, names, "left behind: %s", strings.Join(names, ", "))
}
