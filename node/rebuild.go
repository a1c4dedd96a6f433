package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/chainiac/chainiac/internal/atomicfile"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/build"
)

// rebuilder runs the witness's own rebuild of a release: fetch the source, run the
// recipe the manifest names, fetch every signed MAR, and CheckRebuild.
type rebuilder struct {
	runner  *build.Runner
	recipes map[string]build.Recipe
	client  *http.Client
	slots   chan struct{} // one token per rebuild allowed at once
	logDir  string
	workDir string
	fetchTO time.Duration
}

func newRebuilder(cfg *Config, dataDir string, client *http.Client) (*rebuilder, error) {
	workDir := cfg.path(cfg.BuildDir)
	if workDir == "" {
		workDir = filepath.Join(dataDir, "builds")
	}
	logDir := filepath.Join(dataDir, "build-logs")
	for _, d := range []string{workDir, logDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("node: %w", err)
		}
	}
	runner, err := build.NewRunner(build.Config{WorkDir: workDir, HTTPClient: client})
	if err != nil {
		return nil, err
	}
	r := &rebuilder{
		runner: runner, recipes: map[string]build.Recipe{}, client: client,
		slots: make(chan struct{}, cfg.Rebuilds), logDir: logDir, workDir: workDir,
		fetchTO: build.DefaultLimits().FetchTimeout,
	}
	if cfg.Reference {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("node: reference recipe: %w", err)
		}
		rec := build.ReferenceRecipe(exe)
		rec.Name = ReferenceRecipeName
		r.recipes[rec.Name] = rec
	}
	for _, rc := range cfg.Recipes {
		r.recipes[rc.Name] = rc.recipe()
	}
	return r, nil
}

// checkSource refuses sources a proposer must not choose: only http(s) URLs are
// fetched, never a path or file:// URL on the node's own disk.
func checkSource(source string) error {
	u, err := url.Parse(source)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("source %q: want an http or https URL", source)
	}
	return nil
}

// rebuild returns nil if the release rebuilds to exactly the manifest's MARs and
// every signed MAR is its unsigned MAR plus signatures, or the reason it does not.
// The build log is kept under the manifest's hash for the operator.
func (r *rebuilder) rebuild(ctx context.Context, m *release.Manifest, source string) error {
	if err := checkSource(source); err != nil {
		return err
	}
	recipe, ok := r.recipes[m.Recipe]
	if !ok {
		return fmt.Errorf("recipe %q is not configured on this node", m.Recipe)
	}
	select {
	case r.slots <- struct{}{}:
		defer func() { <-r.slots }()
	case <-ctx.Done():
		return fmt.Errorf("waiting for a rebuild slot: %w", ctx.Err())
	}
	res, err := r.runner.Run(ctx, recipe, m, source)
	var be *build.BuildError
	if errors.As(err, &be) {
		r.keepLog(m, be.Log)
	}
	if err != nil {
		return err
	}
	defer res.Close()
	r.keepLog(m, res.Log)
	signed, err := build.FetchSignedMARs(ctx, r.client, m, filepath.Join(res.Dir, "signed"), r.fetchTO)
	if err != nil {
		return err
	}
	return build.CheckRebuild(m, res.Paths(), signed)
}

func (r *rebuilder) keepLog(m *release.Manifest, log []byte) {
	name := filepath.Join(r.logDir, m.Hash().String()+".log")
	_ = atomicfile.WriteBytes(name, log, 0o600)
}
