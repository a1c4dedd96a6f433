package skipchain_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainiac/chainiac/skipchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	crashEnvPath = "CHAINIAC_TEST_CRASH_PATH"
	crashEnvStep = "CHAINIAC_TEST_CRASH_STEP"
	crashExit    = 3
)

const scriptGenesisOnly = "roster R1 1; genesis"

// TestBoltCreateCrashHelper is the child process of TestBoltCreateCrash: it creates a
// store and exits at once, without any cleanup, after the step it is told.
func TestBoltCreateCrashHelper(t *testing.T) {
	path, step := os.Getenv(crashEnvPath), os.Getenv(crashEnvStep)
	if path == "" {
		t.Skip("child process of TestBoltCreateCrash")
	}
	c := buildChain(t, scriptGenesisOnly)
	_, err := skipchain.CreateBoltStoreSteps(path, c.Genesis(), func(s string) {
		if s == step {
			os.Exit(crashExit)
		}
	})
	t.Fatalf("create returned (%v) without reaching step %q", err, step)
}

// A process killed at any step of CreateBoltStore leaves either nothing at the path,
// so a new create succeeds, or a complete store, which opens and is never overwritten.
func TestBoltCreateCrash(t *testing.T) {
	c := buildChain(t, scriptGenesisOnly)
	for _, tc := range []struct {
		step     string
		complete bool // the store is at its path when the process dies
	}{
		{"opened", false},
		{"written", false},
		{"closed", false},
		{"linked", true},
	} {
		t.Run(tc.step, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "chain.db")
			cmd := exec.Command(os.Args[0], "-test.run=^TestBoltCreateCrashHelper$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashEnvPath+"="+path, crashEnvStep+"="+tc.step)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, string(out))
			require.Equal(t, crashExit, exit.ExitCode(), string(out))

			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			var leftovers []string
			for _, e := range entries {
				if e.Name() != "chain.db" {
					leftovers = append(leftovers, e.Name())
				}
			}
			require.Len(t, leftovers, 1, "the temporary file the crash left")
			assert.True(t, strings.HasPrefix(leftovers[0], ".chain.db.tmp-"), leftovers[0])

			if tc.complete {
				s, err := skipchain.OpenBoltStore(path)
				require.NoError(t, err)
				g, err := s.Genesis()
				require.NoError(t, err)
				assert.Equal(t, c.Genesis().ID(), g.ID())
				require.NoError(t, s.Close())
				_, err = skipchain.CreateBoltStore(path, c.Genesis())
				require.ErrorIs(t, err, fs.ErrExist)
				return
			}
			_, err = os.Stat(path)
			require.ErrorIs(t, err, fs.ErrNotExist, "nothing at the path before the link")
			s, err := skipchain.CreateBoltStore(path, c.Genesis())
			require.NoError(t, err, "a leftover temporary file blocks nothing")
			require.NoError(t, s.Close())
			s, err = skipchain.OpenBoltStore(path)
			require.NoError(t, err)
			require.NoError(t, s.Close())
		})
	}
}

// An existing file at the path is never overwritten, whatever it holds, and the
// temporary file is gone after a refused create.
func TestBoltCreateNeverOverwrites(t *testing.T) {
	c := buildChain(t, scriptLinear)
	other := buildChain(t, scriptGenesisOnly)
	path := boltChain(t, 5)
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	_, err = skipchain.CreateBoltStore(path, other.Genesis())
	require.ErrorIs(t, err, fs.ErrExist)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after)

	s, err := skipchain.OpenBoltStore(path)
	require.NoError(t, err)
	head, err := s.Head()
	require.NoError(t, err)
	assert.Equal(t, c.Blocks[5].ID(), head.ID())
	require.NoError(t, s.Close())

	junk := filepath.Join(t.TempDir(), "junk.db")
	require.NoError(t, os.WriteFile(junk, []byte("not a store"), 0o600))
	_, err = skipchain.CreateBoltStore(junk, other.Genesis())
	require.ErrorIs(t, err, fs.ErrExist)
	got, err := os.ReadFile(junk)
	require.NoError(t, err)
	assert.Equal(t, "not a store", string(got))
	entries, err := os.ReadDir(filepath.Dir(junk))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

// The file appearing between the existence check and the link (another process
// creating the same store) is refused by the link itself.
func TestBoltCreateRaceLosesToLink(t *testing.T) {
	c := buildChain(t, scriptGenesisOnly)
	dir := t.TempDir()
	path := filepath.Join(dir, "chain.db")
	_, err := skipchain.CreateBoltStoreSteps(path, c.Genesis(), func(step string) {
		if step == "closed" {
			require.NoError(t, os.WriteFile(path, []byte("the other process's store"), 0o600))
		}
	})
	require.ErrorIs(t, err, fs.ErrExist)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "the other process's store", string(got))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the temporary file is removed")
}
