package build

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chainiac/chainiac/release"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"
)

type tarEntry struct {
	name     string
	body     string
	mode     int64
	typeflag byte
	linkname string
}

func file(name, body string) tarEntry { return tarEntry{name: name, body: body, mode: 0o644} }
func script(name, body string) tarEntry {
	return tarEntry{name: name, body: body, mode: 0o755}
}
func dir(name string) tarEntry       { return tarEntry{name: name, typeflag: tar.TypeDir, mode: 0o755} }
func global(comment string) tarEntry { return tarEntry{typeflag: tar.TypeXGlobalHeader, body: comment} }
func symlink(name, target string) tarEntry {
	return tarEntry{name: name, typeflag: tar.TypeSymlink, linkname: target, mode: 0o777}
}

func tarBytes(t testing.TB, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(1730419200, 0)
	for _, e := range entries {
		flag := e.typeflag
		if flag == 0 {
			flag = tar.TypeReg
		}
		if flag == tar.TypeXGlobalHeader { // as git archive writes the commit ID
			require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: flag, PAXRecords: map[string]string{"comment": e.body}}))
			continue
		}
		hdr := &tar.Header{Name: e.name, Mode: e.mode, Typeflag: flag, Linkname: e.linkname, ModTime: mtime,
			Format: tar.FormatPAX}
		if flag == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		require.NoError(t, tw.WriteHeader(hdr))
		if flag == tar.TypeReg {
			_, err := tw.Write([]byte(e.body))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

func tarGz(t testing.TB, entries ...tarEntry) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(tarBytes(t, entries))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func tarXz(t testing.TB, entries ...tarEntry) []byte {
	var buf bytes.Buffer
	xw, err := xz.NewWriter(&buf)
	require.NoError(t, err)
	_, err = xw.Write(tarBytes(t, entries))
	require.NoError(t, err)
	require.NoError(t, xw.Close())
	return buf.Bytes()
}

// writeSource stores an archive in a fresh directory and returns its path and digest.
func writeSource(t testing.TB, archive []byte, name string) (string, release.Hash256) {
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, archive, 0o644))
	return p, sha256.Sum256(archive)
}

// manifestFor is a valid manifest naming the "test/v1" recipe and the source digest.
func manifestFor(source release.Hash256, keys ...release.TargetKey) *release.Manifest {
	if len(keys) == 0 {
		keys = []release.TargetKey{{Platform: "linux-x86_64", Locale: "ALL"}}
	}
	m := &release.Manifest{
		Product: "tor-browser", Version: "14.0.1", Channel: "release",
		SourceDateEpoch: 1730419200, Recipe: "test/v1",
		GitCommit: release.GitCommit{1}, SourceSHA256: source,
	}
	for _, k := range keys {
		m.Targets = append(m.Targets, release.Target{
			Platform: k.Platform, Locale: k.Locale,
			UnsignedSHA256: release.Hash256{1}, UnsignedSize: 1,
			SignedSHA512: release.Hash512{1}, SignedSize: 2,
			URL: "https://dist.example.org/" + k.Platform + ".mar",
		})
	}
	return m
}

func testRecipe(command ...string) Recipe {
	return Recipe{
		Name: "test/v1", Command: command, TimeLimit: time.Minute,
		MaxOutputBytes: 1 << 20, MaxLogBytes: 64 << 10, OutputGlob: "out/*/*.mar",
	}
}

// newTestRunner uses a private work dir, so tests can check that nothing is left.
func newTestRunner(t testing.TB) (*Runner, string) {
	work := t.TempDir()
	r, err := NewRunner(Config{WorkDir: work})
	require.NoError(t, err)
	return r, work
}

func requireEmptyDir(t testing.TB, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "workspace left behind in %s", dir)
}

// makeMAR is a build step that writes a fake MAR for one target.
const makeMAR = `mkdir -p out/linux-x86_64 && printf 'MAR1 rebuilt' > out/linux-x86_64/ALL.mar`
