package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chainiac/chainiac/release"
)

// umaskWrapper sets the umask in the child only (the process-wide umask is shared by
// every goroutine of the node), then execs the recipe's argv unchanged.
const umaskWrapper = `umask 022; exec "$@"`

// defaultWaitDelay bounds how long a run waits for the build's output pipe after the
// build exited or was killed.
const defaultWaitDelay = 5 * time.Second

// Run rebuilds the release m with recipe from source (a local path, file:// URL or
// http(s) URL of a .tar.gz/.tar.xz archive, or a local directory). It checks the
// source's SHA-256 against m.SourceSHA256 before extracting or running anything,
// runs the recipe in a fresh workspace with the controlled environment (see
// Environment), and collects the MAR files by target.
//
// On success the caller owns the Result and must Close it to remove the workspace.
// On error nothing is left behind. Cancelling ctx kills the build.
func (r *Runner) Run(ctx context.Context, recipe Recipe, m *release.Manifest, source string) (*Result, error) {
	if err := recipe.Validate(); err != nil {
		return nil, err
	}
	if recipe.Name != m.Recipe {
		return nil, fmt.Errorf("build: manifest names recipe %q, not %q", m.Recipe, recipe.Name)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	ws, err := newWorkspace(r.workDir)
	if err != nil {
		return nil, err
	}
	res, err := r.run(ctx, ws, recipe, m, source)
	if err != nil {
		if rmErr := removeTree(ws.dir); rmErr != nil {
			err = errors.Join(err, rmErr)
		}
		return nil, err
	}
	return res, nil
}

func (r *Runner) run(ctx context.Context, ws *workspace, recipe Recipe, m *release.Manifest, source string) (*Result, error) {
	log := r.log.With("recipe", recipe.Name, "product", m.Product, "version", m.Version)
	log.Info("fetching source", "source", source)
	buildDir, err := r.fetchSource(ctx, ws, source, m.SourceSHA256)
	if err != nil {
		return nil, err
	}
	if err := os.Remove(ws.archive); err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("build: %w", err)
	}
	// Opened before the build runs: the build may rename or replace the workspace
	// path, never this handle.
	root, err := os.OpenRoot(ws.dir)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	defer root.Close()
	buildRel, err := filepath.Rel(ws.dir, buildDir)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	log.Info("building", "dir", buildDir)
	logTail, dropped, err := r.execute(ctx, ws, buildDir, recipe, m)
	if err != nil {
		return nil, err
	}
	mars, err := collectOutputs(root, ws.dir, filepath.ToSlash(buildRel), recipe)
	if err != nil {
		return nil, err
	}
	log.Info("build done", "mars", len(mars))
	return &Result{Dir: ws.dir, BuildDir: buildDir, MARs: mars, Log: logTail, LogDropped: dropped}, nil
}

// Environment is the complete environment of a build: nothing of the node's own
// environment is inherited.
func Environment(m *release.Manifest, path, buildDir, home, tmp string) []string {
	targets := make([]string, 0, len(m.Targets))
	for _, t := range m.Targets {
		targets = append(targets, t.Key().String())
	}
	return []string{
		"CHAINIAC_CHANNEL=" + m.Channel,
		"CHAINIAC_PRODUCT=" + m.Product,
		"CHAINIAC_TARGETS=" + strings.Join(targets, " "),
		"CHAINIAC_VERSION=" + m.Version,
		"HOME=" + home,
		"LC_ALL=C",
		"PATH=" + path,
		"PWD=" + buildDir,
		"SOURCE_DATE_EPOCH=" + strconv.FormatUint(m.SourceDateEpoch, 10),
		"TMPDIR=" + tmp,
		"TZ=UTC",
	}
}

// execute runs the recipe and returns the tail of its output. The output pipe is read
// by one goroutine that execute starts and always waits for.
func (r *Runner) execute(ctx context.Context, ws *workspace, buildDir string, recipe Recipe, m *release.Manifest) ([]byte, int64, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, recipe.TimeLimit, ErrTimeLimit)
	defer cancel()

	argv := append([]string{"-c", umaskWrapper, "chainiac-build"}, recipe.Command...)
	cmd := exec.CommandContext(ctx, "/bin/sh", argv...)
	cmd.Dir = buildDir
	cmd.Env = Environment(m, r.path, buildDir, ws.home, ws.tmp)
	cmd.Stdin = nil // reads from the null device
	startInOwnGroup(cmd)
	cmd.WaitDelay = r.waitDelay

	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, 0, fmt.Errorf("build: %w", err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	out := newTailBuffer(recipe.MaxLogBytes)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(out, pr) // ends when every holder of the write end is gone
	}()

	runErr := cmd.Start()
	pw.Close() // the child holds its own copy
	if runErr == nil {
		runErr = cmd.Wait()
		// Background processes the build left behind die with their group; that also
		// closes their copies of the pipe, so the copier finishes.
		if err := killGroup(cmd); err != nil {
			runErr = errors.Join(runErr, fmt.Errorf("build: kill process group: %w", err))
		}
	}
	// A process that left the group (setsid) may still hold the pipe: give it
	// waitDelay, then close the read end, which ends the copy.
	select {
	case <-copied:
	case <-time.After(r.waitDelay):
		pr.Close()
		<-copied
	}
	pr.Close()
	logTail, dropped := out.snapshot()

	if runErr == nil {
		return logTail, dropped, nil
	}
	be := &BuildError{Recipe: recipe.Name, ExitCode: -1, Log: logTail, LogDropped: dropped}
	var exitErr *exec.ExitError
	switch {
	case errors.Is(context.Cause(ctx), ErrTimeLimit):
		be.Cause = fmt.Errorf("%w (%s)", ErrTimeLimit, recipe.TimeLimit)
	case ctx.Err() != nil:
		be.Cause = context.Cause(ctx)
	case errors.As(runErr, &exitErr) && exitErr.ExitCode() >= 0:
		be.ExitCode = exitErr.ExitCode()
		be.Cause = ErrBuildFailed
	default:
		be.Cause = fmt.Errorf("%w: %v", ErrBuildFailed, runErr)
	}
	return nil, 0, be
}
