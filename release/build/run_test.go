package build

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chainiac/chainiac/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunBuildsAndCollects(t *testing.T) {
	for name, pack := range map[string]func(testing.TB, ...tarEntry) []byte{"gzip": tarGz, "xz": tarXz} {
		t.Run(name, func(t *testing.T) {
			archive := pack(t,
				dir("tor-browser-build-14.0.1/"),
				script("tor-browser-build-14.0.1/build.sh", "#!/bin/sh\nset -e\n"+makeMAR+"\n"+
					"mkdir -p out/windows-x86_64 && printf 'win' > out/windows-x86_64/en-US.mar\necho built\n"),
			)
			src, sum := writeSource(t, archive, "source.tar")
			r, work := newTestRunner(t)
			res, err := r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), src)
			require.NoError(t, err)
			assert.Equal(t, "tor-browser-build-14.0.1", filepath.Base(res.BuildDir), "runs in the single top-level dir")
			assert.Equal(t, []release.TargetKey{{Platform: "linux-x86_64", Locale: "ALL"}, {Platform: "windows-x86_64", Locale: "en-US"}}, res.Keys())
			linux := res.MARs[release.TargetKey{Platform: "linux-x86_64", Locale: "ALL"}]
			assert.Equal(t, int64(len("MAR1 rebuilt")), linux.Size)
			assert.Equal(t, release.Hash256(sha256.Sum256([]byte("MAR1 rebuilt"))), linux.SHA256)
			got, err := os.ReadFile(linux.Path)
			require.NoError(t, err)
			assert.Equal(t, "MAR1 rebuilt", string(got))
			assert.Equal(t, "built\n", string(res.Log))
			require.NoError(t, res.Close())
			requireEmptyDir(t, work)
		})
	}
}

// The build sees exactly the controlled environment, whatever the node's own is.
func TestEnvironmentIsExactlyControlled(t *testing.T) {
	t.Setenv("CHAINIAC_SECRET", "must not leak")
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "build.sh"),
		[]byte("env\necho umask=$(umask)\n: > created\nls -l created\n"+makeMAR+"\n"), 0o755))
	sum, err := TreeDigest(src, DefaultLimits())
	require.NoError(t, err)
	r, _ := newTestRunner(t)
	m := manifestFor(sum, release.TargetKey{Platform: "linux-x86_64", Locale: "ALL"}, release.TargetKey{Platform: "macos", Locale: "de"})
	res, err := r.Run(context.Background(), testRecipe("./build.sh"), m, src)
	require.NoError(t, err)
	defer res.Close()

	lines := strings.Split(strings.TrimSpace(string(res.Log)), "\n")
	var env []string
	for _, l := range lines {
		if strings.Contains(l, "=") && !strings.HasPrefix(l, "umask=") {
			env = append(env, l)
		}
	}
	sort.Strings(env)
	ws := filepath.Dir(res.BuildDir)
	want := []string{
		"CHAINIAC_CHANNEL=release",
		"CHAINIAC_PRODUCT=tor-browser",
		"CHAINIAC_TARGETS=linux-x86_64/ALL macos/de",
		"CHAINIAC_VERSION=14.0.1",
		"HOME=" + filepath.Join(ws, "home"),
		"LC_ALL=C",
		"PATH=" + DefaultPath,
		"PWD=" + res.BuildDir,
		"SOURCE_DATE_EPOCH=1730419200",
		"TMPDIR=" + filepath.Join(ws, "tmp"),
		"TZ=UTC",
	}
	assert.Equal(t, want, env)
	assert.Equal(t, want, Environment(m, DefaultPath, res.BuildDir, filepath.Join(ws, "home"), filepath.Join(ws, "tmp")))
	assert.Contains(t, lines, "umask=0022")
	assert.Regexp(t, `^-rw-r--r-- .* created$`, lines[len(lines)-1])
}

func TestTimeLimitKillsProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	src := t.TempDir()
	// A background grandchild that would outlive a kill of the shell alone.
	require.NoError(t, os.WriteFile(filepath.Join(src, "build.sh"),
		[]byte(fmt.Sprintf("sleep 600 &\necho $! > %s\nsleep 600\n", pidFile)), 0o755))
	sum, err := TreeDigest(src, DefaultLimits())
	require.NoError(t, err)
	r, work := newTestRunner(t)
	recipe := testRecipe("./build.sh")
	recipe.TimeLimit = time.Second // ample for the script to start its sleeps
	_, err = r.Run(context.Background(), recipe, manifestFor(sum), src)
	require.ErrorIs(t, err, ErrTimeLimit)
	var be *BuildError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, -1, be.ExitCode)
	assert.Contains(t, err.Error(), "did not exit normally: build: time limit exceeded (1s)")
	requireEmptyDir(t, work)
	requireProcessGone(t, pidFile)
}

// A build that succeeds but leaves a process running in its group does not leave it
// running: the group is killed after a normal exit too.
func TestBackgroundProcessKilledAfterSuccess(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "build.sh"),
		[]byte(fmt.Sprintf("sleep 600 >/dev/null 2>&1 &\necho $! > %s\n%s\n", pidFile, makeMAR)), 0o755))
	sum, err := TreeDigest(src, DefaultLimits())
	require.NoError(t, err)
	r, _ := newTestRunner(t)
	res, err := r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), src)
	require.NoError(t, err)
	require.NoError(t, res.Close())
	requireProcessGone(t, pidFile)
}

func TestCancelStopsBuild(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "build.sh"),
		[]byte(fmt.Sprintf("sleep 600 &\necho $! > %s.tmp && mv %s.tmp %s\nwait\n", pidFile, pidFile, pidFile)), 0o755))
	sum, err := TreeDigest(src, DefaultLimits())
	require.NoError(t, err)
	r, work := newTestRunner(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := r.Run(ctx, testRecipe("./build.sh"), manifestFor(sum), src)
		done <- err
	}()
	// Cancel once the build is demonstrably running (its pid file exists).
	require.Eventually(t, func() bool { _, err := os.Stat(pidFile); return err == nil }, 30*time.Second, 5*time.Millisecond)
	cancel()
	err = <-done
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, errors.Is(err, ErrTimeLimit))
	requireEmptyDir(t, work)
	requireProcessGone(t, pidFile)
}

// A daemon that leaves the process group keeps running (the runner is no sandbox), but
// it cannot hold the run open through the output pipe it inherited.
func TestEscapedProcessDoesNotHangRun(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("setsid(1) not installed")
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "build.sh"),
		[]byte(fmt.Sprintf("setsid sh -c 'echo $$ > %s; exec sleep 600' &\nwhile [ ! -s %s ]; do :; done\n%s\n",
			pidFile, pidFile, makeMAR)), 0o755))
	sum, err := TreeDigest(src, DefaultLimits())
	require.NoError(t, err)
	r, _ := newTestRunner(t)
	r.waitDelay = 50 * time.Millisecond
	t.Cleanup(func() {
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	res, err := r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), src)
	require.NoError(t, err)
	require.NoError(t, res.Close())
}

func requireProcessGone(t *testing.T, pidFile string) {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	// The kill is synchronous, but the zombie is reaped by init asynchronously:
	// a killed process either no longer exists or is a zombie.
	require.Eventually(t, func() bool {
		if syscall.Kill(pid, 0) != nil {
			return true
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		return err != nil || strings.Contains(string(stat), ") Z ")
	}, 10*time.Second, 5*time.Millisecond, "background process %d survived", pid)
}

func TestLogIsCapped(t *testing.T) {
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "build.sh"),
		[]byte("i=0; while [ $i -lt 2000 ]; do echo line $i of noisy output; i=$((i+1)); done\necho LAST >&2\n"+makeMAR+"\n"), 0o755))
	sum, err := TreeDigest(src, DefaultLimits())
	require.NoError(t, err)
	r, _ := newTestRunner(t)
	recipe := testRecipe("./build.sh")
	recipe.MaxLogBytes = 1024
	res, err := r.Run(context.Background(), recipe, manifestFor(sum), src)
	require.NoError(t, err)
	defer res.Close()
	assert.LessOrEqual(t, len(res.Log), 1024)
	assert.True(t, strings.HasSuffix(string(res.Log), "LAST\n"), "keeps the end, stderr included")
	assert.Greater(t, res.LogDropped, int64(40_000))
}

func TestOutputLimits(t *testing.T) {
	cases := []struct {
		name  string
		build string
		limit int64
		want  string
	}{
		{"over output limit", makeMAR, 5, "exceed the output limit of 5 bytes"},
		{"nothing produced", "true", 1 << 20, `no file matches "out/*/*.mar"`},
		{"empty mar", "mkdir -p out/linux && : > out/linux/ALL.mar", 1 << 20, "is 0 bytes"},
		{"bad locale", "mkdir -p 'out/linux' && echo x > 'out/linux/en US.mar'", 1 << 20, "locale"},
		{"symlinked mar", "mkdir -p out/linux && ln -s /etc/hostname out/linux/ALL.mar", 1 << 20, "not a regular file"},
		{"symlinked platform dir", "mkdir -p out real && echo x > real/ALL.mar && ln -s ../real out/linux", 1 << 20, "under the symlink"},
		{"directory named mar", "mkdir -p out/linux/ALL.mar", 1 << 20, "not a regular file"},
		// At the per-file and count limits the outputs pass those checks and reach the
		// total limit (a sparse file: nothing reads it).
		{"mar of MaxMARSize bytes", fmt.Sprintf("mkdir -p out/linux && truncate -s %d out/linux/ALL.mar", release.MaxMARSize),
			1 << 20, "exceed the output limit of 1048576 bytes"},
		{"MaxTargets mars", fmt.Sprintf("mkdir -p out/linux && for i in $(seq %d); do echo x > out/linux/l$i.mar; done", release.MaxTargets),
			2*release.MaxTargets - 1, fmt.Sprintf("exceed the output limit of %d bytes", 2*release.MaxTargets-1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(src, "build.sh"), []byte(c.build+"\n"), 0o755))
			sum, err := TreeDigest(src, DefaultLimits())
			require.NoError(t, err)
			r, work := newTestRunner(t)
			recipe := testRecipe("./build.sh")
			recipe.MaxOutputBytes = c.limit
			_, err = r.Run(context.Background(), recipe, manifestFor(sum), src)
			require.ErrorIs(t, err, ErrOutput)
			assert.Contains(t, err.Error(), c.want)
			requireEmptyDir(t, work)
		})
	}

	// The total limit is inclusive: makeMAR's 12 bytes fit a limit of 12.
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "build.sh"), []byte(makeMAR+"\n"), 0o755))
	sum, err := TreeDigest(src, DefaultLimits())
	require.NoError(t, err)
	r, _ := newTestRunner(t)
	recipe := testRecipe("./build.sh")
	recipe.MaxOutputBytes = int64(len("MAR1 rebuilt"))
	res, err := r.Run(context.Background(), recipe, manifestFor(sum), src)
	require.NoError(t, err)
	assert.Len(t, res.MARs, 1)
	require.NoError(t, res.Close())
}

func TestDuplicateTargetRefused(t *testing.T) {
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "build.sh"),
		[]byte("mkdir -p a/linux b/linux && echo x > a/linux/ALL.mar && echo y > b/linux/ALL.mar\n"), 0o755))
	sum, err := TreeDigest(src, DefaultLimits())
	require.NoError(t, err)
	r, _ := newTestRunner(t)
	recipe := testRecipe("./build.sh")
	recipe.OutputGlob = "*/*/*.mar"
	_, err = r.Run(context.Background(), recipe, manifestFor(sum), src)
	require.ErrorIs(t, err, ErrOutput)
	assert.Contains(t, err.Error(), "are both target linux/ALL")
}

func TestBuildFailureKeepsLogAsEvidence(t *testing.T) {
	src := t.TempDir()
	// Leaves a read-only directory behind, as Go's module cache does.
	require.NoError(t, os.WriteFile(filepath.Join(src, "build.sh"),
		[]byte("mkdir -p ro/sub && echo x > ro/sub/f && chmod 555 ro/sub ro\necho compiler error >&2\nexit 3\n"), 0o755))
	sum, err := TreeDigest(src, DefaultLimits())
	require.NoError(t, err)
	r, work := newTestRunner(t)
	_, err = r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), src)
	require.ErrorIs(t, err, ErrBuildFailed)
	var be *BuildError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, 3, be.ExitCode)
	assert.Equal(t, "compiler error\n", string(be.Log))
	assert.EqualError(t, err, `build: recipe "test/v1": exit status 3: build: build command failed`)
	requireEmptyDir(t, work)
}

func TestSourceMismatchRefusedBeforeAnything(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	archive := tarGz(t, script("build.sh", "touch "+marker+"\n"+makeMAR+"\n"))
	src, sum := writeSource(t, archive, "src.tar.gz")
	wrong := sum
	wrong[0] ^= 1
	r, work := newTestRunner(t)
	_, err := r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(wrong), src)
	require.ErrorIs(t, err, ErrSourceMismatch)
	var sm *SourceMismatchError
	require.ErrorAs(t, err, &sm)
	assert.Equal(t, sum, sm.Got)
	assert.Equal(t, wrong, sm.Want)
	assert.NoFileExists(t, marker)
	requireEmptyDir(t, work)

	// The same holds for a directory source.
	dirSrc := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dirSrc, "build.sh"), []byte("touch "+marker+"\n"), 0o755))
	_, err = r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(wrong), dirSrc)
	require.ErrorIs(t, err, ErrSourceMismatch)
	assert.NoFileExists(t, marker)
	requireEmptyDir(t, work)
}

func TestRunRefusesBadInputs(t *testing.T) {
	r, work := newTestRunner(t)
	_, err := r.Run(context.Background(), testRecipe("true"), manifestFor(release.Hash256{1}), filepath.Dir(work))
	assert.ErrorContains(t, err, "contains the work dir")
	// Also when the source, or the work dir, is named through a symlink.
	links, err := os.MkdirTemp("", "links-") // not under the source directory
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(links) })
	require.NoError(t, os.Symlink(filepath.Dir(work), filepath.Join(links, "src")))
	_, err = r.Run(context.Background(), testRecipe("true"), manifestFor(release.Hash256{1}), filepath.Join(links, "src"))
	assert.ErrorContains(t, err, "contains the work dir", "source through a symlink")
	require.NoError(t, os.Symlink(work, filepath.Join(links, "work")))
	viaLink, err := NewRunner(Config{WorkDir: filepath.Join(links, "work")})
	require.NoError(t, err)
	_, err = viaLink.Run(context.Background(), testRecipe("true"), manifestFor(release.Hash256{1}), filepath.Dir(work))
	assert.ErrorContains(t, err, "contains the work dir", "work dir through a symlink")
	m := manifestFor(release.Hash256{1})
	other := testRecipe("true")
	other.Name = "other/v1"
	_, err = r.Run(context.Background(), other, m, "/nonexistent")
	assert.ErrorContains(t, err, `manifest names recipe "test/v1", not "other/v1"`)
	bad := *m
	bad.Targets = nil
	_, err = r.Run(context.Background(), testRecipe("true"), &bad, "/nonexistent")
	assert.ErrorIs(t, err, release.ErrInvalidManifest)
	_, err = r.Run(context.Background(), testRecipe("true"), m, "/nonexistent/source.tar.gz")
	assert.ErrorContains(t, err, "no such file")
	_, err = r.Run(context.Background(), testRecipe("true"), m, "file://host/x")
	assert.ErrorContains(t, err, "want file:///absolute/path")
	requireEmptyDir(t, work)
}

func TestRecipeValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(r *Recipe)
		want   string
	}{
		{"no name", func(r *Recipe) { r.Name = "" }, "recipe name"},
		{"no command", func(r *Recipe) { r.Command = nil }, "empty command"},
		{"empty argv0", func(r *Recipe) { r.Command = []string{""} }, "empty command"},
		{"no time limit", func(r *Recipe) { r.TimeLimit = 0 }, "time limit"},
		{"no output limit", func(r *Recipe) { r.MaxOutputBytes = 0 }, "limits must be positive"},
		{"no log limit", func(r *Recipe) { r.MaxLogBytes = -1 }, "limits must be positive"},
		{"absolute glob", func(r *Recipe) { r.OutputGlob = "/tmp/*.mar" }, "absolute"},
		{"escaping glob", func(r *Recipe) { r.OutputGlob = "../*/*.mar" }, "leaves"},
		{"not mar", func(r *Recipe) { r.OutputGlob = "out/*/*" }, "must end in .mar"},
		{"bad pattern", func(r *Recipe) { r.OutputGlob = "out/[/*.mar" }, "syntax error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := testRecipe("true")
			c.mutate(&r)
			assert.ErrorContains(t, r.Validate(), c.want)
		})
	}
	require.NoError(t, testRecipe("true").Validate())
}

func TestNewRunnerValidates(t *testing.T) {
	_, err := NewRunner(Config{WorkDir: "/nonexistent"})
	assert.ErrorContains(t, err, "not a directory")
	_, err = NewRunner(Config{WorkDir: t.TempDir(), Path: "/usr/bin:bin"})
	assert.ErrorContains(t, err, `PATH entry "bin" is not absolute`)
	_, err = NewRunner(Config{WorkDir: t.TempDir(), Limits: Limits{MaxFiles: -1}})
	assert.ErrorContains(t, err, "negative limit")
}
