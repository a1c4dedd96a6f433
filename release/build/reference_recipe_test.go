package build

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/chainiac/chainiac/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// referenceArchive packs the reference tree as a release's source archive, under one
// top-level directory as `git archive --prefix` makes it.
func referenceArchive(t *testing.T) (string, release.Hash256) {
	entries := []tarEntry{dir("demo-browser-1.0/")}
	err := filepath.WalkDir(referenceSource, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == referenceSource {
			return err
		}
		rel, err := filepath.Rel(referenceSource, p)
		if err != nil {
			return err
		}
		name := "demo-browser-1.0/" + filepath.ToSlash(rel)
		if d.IsDir() {
			entries = append(entries, dir(name+"/"))
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode()&0o111 != 0 {
			entries = append(entries, script(name, string(b)))
		} else {
			entries = append(entries, file(name, string(b)))
		}
		return nil
	})
	require.NoError(t, err)
	return writeSource(t, tarGz(t, entries...), "demo-browser-1.0.tar.gz")
}

// testBinaryRecipe is ReferenceRecipe run by this test binary, which TestMain turns
// into `chainiac build reference`.
func testBinaryRecipe(t *testing.T) Recipe {
	exe, err := os.Executable()
	require.NoError(t, err)
	return ReferenceRecipe(exe)
}

// The whole path a node takes: fetch the source archive named by the manifest,
// rebuild it with the reference recipe, and check the result against the manifest and
// the signed MARs the release team built on its own machine.
func TestReferenceRecipeRebuildsTheRelease(t *testing.T) {
	src, sum := referenceArchive(t)
	f := newReleaseFixture(t)
	f.manifest.SourceSHA256 = sum
	r, work := newTestRunner(t)
	res, err := r.Run(context.Background(), testBinaryRecipe(t), f.manifest, src)
	require.NoError(t, err)
	assert.Equal(t, referenceTargets, res.Keys())
	for _, tg := range f.manifest.Targets {
		got := res.MARs[tg.Key()]
		assert.Equal(t, tg.UnsignedSHA256, got.SHA256, tg.Key().String())
		assert.Equal(t, int64(tg.UnsignedSize), got.Size, tg.Key().String())
	}
	require.NoError(t, CheckRebuild(f.manifest, res.Paths(), f.signed))
	require.NoError(t, res.Close())
	requireEmptyDir(t, work)
}

// A manifest whose MARs were not built from its source and parameters is refused:
// here the release team's MARs say 1.0 but the manifest proposes 1.1.
func TestReferenceRecipeRefusesOtherMARs(t *testing.T) {
	src, sum := referenceArchive(t)
	f := newReleaseFixture(t)
	f.manifest.SourceSHA256 = sum
	f.manifest.Version = "1.1"
	r, _ := newTestRunner(t)
	res, err := r.Run(context.Background(), testBinaryRecipe(t), f.manifest, src)
	require.NoError(t, err)
	defer res.Close()
	err = CheckRebuild(f.manifest, res.Paths(), f.signed)
	var re *RebuildError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, CheckUnsignedSHA256, re.Check)
	assert.Equal(t, linuxDE, re.Target)
}

// A source that cannot build the manifest's product fails the build, with the
// builder's reason in the log.
func TestReferenceRecipeBuildFailure(t *testing.T) {
	src, sum := referenceArchive(t)
	f := newReleaseFixture(t)
	f.manifest.SourceSHA256 = sum
	f.manifest.Product = "other-browser"
	r, work := newTestRunner(t)
	_, err := r.Run(context.Background(), testBinaryRecipe(t), f.manifest, src)
	require.ErrorIs(t, err, ErrBuildFailed)
	var be *BuildError
	require.ErrorAs(t, err, &be)
	assert.Contains(t, string(be.Log), `the source builds "demo-browser", not "other-browser"`)
	requireEmptyDir(t, work)
}

func TestReferenceRecipeIsValid(t *testing.T) {
	r := ReferenceRecipe("/usr/local/bin/chainiac")
	require.NoError(t, r.Validate())
	assert.Equal(t, []string{"/usr/local/bin/chainiac", "build", "reference"}, r.Command)
	assert.Equal(t, ReferenceRecipeName, r.Name)
}
