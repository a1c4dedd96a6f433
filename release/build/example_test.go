package build_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/build"
)

// Rebuild a release whose source is a directory holding a one-line build script.
func Example() {
	src, _ := os.MkdirTemp("", "source-")
	defer os.RemoveAll(src)
	script := `mkdir -p out/linux-x86_64 && printf 'built at %s' "$SOURCE_DATE_EPOCH" > out/linux-x86_64/ALL.mar`
	_ = os.WriteFile(filepath.Join(src, "build.sh"), []byte(script), 0o755)

	digest, err := build.TreeDigest(src, build.DefaultLimits())
	if err != nil {
		panic(err)
	}
	m := &release.Manifest{
		Product: "demo", Version: "1.0", Channel: "release", SourceDateEpoch: 1700000000,
		Recipe: "demo/v1", GitCommit: release.GitCommit{1}, SourceSHA256: digest,
		Targets: []release.Target{{
			Platform: "linux-x86_64", Locale: "ALL",
			UnsignedSHA256: release.Hash256{1}, UnsignedSize: 1, SignedSHA512: release.Hash512{1}, SignedSize: 1,
			URL: "https://dist.example.org/demo-1.0.mar",
		}},
	}
	recipe := build.Recipe{
		Name: "demo/v1", Command: []string{"sh", "build.sh"}, TimeLimit: 30 * time.Second,
		MaxOutputBytes: 1 << 20, MaxLogBytes: 1 << 16, OutputGlob: "out/*/*.mar",
	}
	runner, err := build.NewRunner(build.Config{})
	if err != nil {
		panic(err)
	}
	res, err := runner.Run(context.Background(), recipe, m, src)
	if err != nil {
		panic(err)
	}
	defer res.Close()
	for _, key := range res.Keys() {
		mar, _ := os.ReadFile(res.MARs[key].Path)
		fmt.Printf("%s: %q\n", key, mar)
	}
	// Output:
	// linux-x86_64/ALL: "built at 1700000000"
}
