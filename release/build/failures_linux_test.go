//go:build linux

package build

// Failures the test process cannot provoke in itself: a remove as a user without
// root's permission override, a remove of an immutable file, a write past the file
// size limit. The first and last run this binary as a child (see TestMain), so the
// test process keeps its own user and limits.

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unprivileged is the user the remove test runs as when the tests run as root.
const unprivileged = 65534

func init() {
	childModes["remove-tree"] = func(args []string) int {
		fmt.Printf("uid %d\n", os.Geteuid())
		if err := removeTree(args[0]); err != nil {
			fmt.Println(err)
			return 1
		}
		return 0
	}
	// reference-fsize LIMIT SRC OUT builds the reference tree SRC into OUT with the
	// file size limit LIMIT bytes.
	childModes["reference-fsize"] = func(args []string) int {
		limit, err := strconv.ParseUint(args[0], 10, 64)
		if err == nil {
			var rl syscall.Rlimit
			if err = syscall.Getrlimit(syscall.RLIMIT_FSIZE, &rl); err == nil {
				rl.Cur = limit
				err = syscall.Setrlimit(syscall.RLIMIT_FSIZE, &rl)
			}
		}
		if err == nil {
			_, err = BuildReference(context.Background(), args[1], args[2], referenceParams())
		}
		if err != nil {
			fmt.Println(err)
			return 1
		}
		return 0
	}
}

// A build leaves read-only directories (Go's module cache does); removeTree still
// removes the workspace. Root may remove them anyway, so as root the remove runs in
// a child as an unprivileged user, for whom only the retry after chmod succeeds.
func TestRemoveTreeWithReadOnlyDirectories(t *testing.T) {
	base, err := os.MkdirTemp("", "removetree-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	require.NoError(t, os.Chmod(base, 0o755)) // the child must reach its binary and tree
	owned := filepath.Join(base, "owned")     // the child's, so it may remove tree
	tree := filepath.Join(owned, "tree")
	require.NoError(t, os.MkdirAll(filepath.Join(tree, "ro", "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(tree, "ro", "sub", "f"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(tree, "ro", "g"), []byte("y"), 0o644))
	if os.Geteuid() != 0 {
		require.NoError(t, os.Chmod(filepath.Join(tree, "ro", "sub"), 0o555))
		require.NoError(t, os.Chmod(filepath.Join(tree, "ro"), 0o555))
		require.NoError(t, removeTree(tree))
		assert.NoDirExists(t, tree)
		return
	}
	require.NoError(t, filepath.WalkDir(owned, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, unprivileged, unprivileged)
	}))
	require.NoError(t, os.Chmod(filepath.Join(tree, "ro", "sub"), 0o555))
	require.NoError(t, os.Chmod(filepath.Join(tree, "ro"), 0o555))
	cmd := exec.Command(reachableBinary(t, base), "remove-tree", tree)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: unprivileged, Gid: unprivileged}}
	var stderr strings.Builder // where a coverage run's binary complains of root's directory
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s%s", out, stderr.String())
	assert.Equal(t, fmt.Sprintf("uid %d\n", unprivileged), string(out))
	assert.NoDirExists(t, tree)
}

// reachableBinary links (or copies) the test binary into dir, since go test's own
// build directory is root's alone.
func reachableBinary(t *testing.T, dir string) string {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	bin := filepath.Join(dir, "build.test")
	if os.Link(self, bin) == nil {
		return bin
	}
	in, err := os.Open(self)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.OpenFile(bin, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
	return bin
}

// A workspace that cannot be removed is reported with the build's own error, not
// left behind in silence. The build makes a file immutable (which even root cannot
// remove); where chattr cannot do that (not root, or a file system without the
// attribute) the test is skipped.
func TestRunReportsWorkspaceLeftBehind(t *testing.T) {
	probe := filepath.Join(t.TempDir(), "probe")
	require.NoError(t, os.WriteFile(probe, nil, 0o644))
	if out, err := exec.Command("chattr", "+i", probe).CombinedOutput(); err != nil {
		t.Skipf("cannot make a file immutable here: %v: %s", err, out)
	}
	require.NoError(t, exec.Command("chattr", "-i", probe).Run())

	// The build records where it made the file, so that the cleanup finds it wherever
	// the workspace is (also under a mutant that moves it).
	record := filepath.Join(t.TempDir(), "stuck-at")
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "build.sh"),
		[]byte(": > stuck\necho \"$PWD/stuck\" > "+record+"\nchattr +i stuck\nexit 3\n"), 0o755))
	sum, err := TreeDigest(src, DefaultLimits())
	require.NoError(t, err)
	r, work := newTestRunner(t)
	t.Cleanup(func() { // before the work dir's own cleanup
		if b, err := os.ReadFile(record); err == nil {
			_ = exec.Command("chattr", "-i", strings.TrimSpace(string(b))).Run()
		}
	})
	_, err = r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), src)
	require.ErrorIs(t, err, ErrBuildFailed)
	var be *BuildError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, 3, be.ExitCode)
	assert.ErrorContains(t, err, "build: remove workspace "+work)
	assert.ErrorContains(t, err, "operation not permitted")
}

// A MAR write that fails (here: past the file size limit, which Go's runtime turns
// from a signal into an EFBIG error) fails the reference build, and no output
// appears. With a limit the MARs fit in, the same child builds them.
func TestBuildReferenceReportsFailedWrite(t *testing.T) {
	self, err := os.Executable()
	require.NoError(t, err)
	src := copySource(t, 0o644, time.Unix(1, 0))
	for _, c := range []struct {
		limit uint64
		ok    bool
	}{{1 << 30, true}, {512, false}} {
		out := filepath.Join(t.TempDir(), "out")
		output, err := exec.Command(self, "reference-fsize", strconv.FormatUint(c.limit, 10), src, out).CombinedOutput()
		if c.ok {
			require.NoError(t, err, "%s", output)
			for _, k := range referenceTargets {
				assert.FileExists(t, filepath.Join(out, k.Platform, k.Locale+".mar"))
			}
			continue
		}
		require.Error(t, err, "a write past %d bytes went unnoticed", c.limit)
		assert.True(t, strings.Contains(string(output), "file too large"), "%s", output)
		assert.NoDirExists(t, out)
	}
}
