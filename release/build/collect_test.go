package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A build that swaps the directory outputs are collected from (its own build
// directory, the workspace's src/, or the workspace itself) for a symlink cannot make
// the node take a file outside the workspace for a rebuilt MAR.
func TestOutputsAreCollectedInsideTheWorkspace(t *testing.T) {
	outside := t.TempDir() // holds out/... and src/out/...: a MAR wherever the node looks
	for _, dir := range []string{"out", "src/out"} {
		require.NoError(t, os.MkdirAll(filepath.Join(outside, dir, "linux-x86_64"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(outside, dir, "linux-x86_64", "ALL.mar"), []byte("outside"), 0o644))
	}
	for name, swap := range map[string]string{
		"build dir":       `cd .. && mv src src.real && ln -s %q src`,
		"workspace":       `ws=$(dirname "$PWD") && cd / && mv "$ws" "$ws.real" && ln -s %q "$ws"`,
		"under the build": `mkdir -p out && rmdir out && ln -s %q/out out`,
	} {
		t.Run(name, func(t *testing.T) {
			src := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(src, "build.sh"),
				[]byte(fmt.Sprintf(swap, outside)+"\n"), 0o755))
			sum, err := TreeDigest(src, DefaultLimits())
			require.NoError(t, err)
			r, _ := newTestRunner(t)
			res, err := r.Run(context.Background(), testRecipe("./build.sh"), manifestFor(sum), src)
			if err == nil {
				defer res.Close()
				for _, m := range res.MARs {
					t.Errorf("collected %s", m.Path)
				}
			}
			require.ErrorIs(t, err, ErrOutput)
		})
	}
}
