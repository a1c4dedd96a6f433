//go:build linux

package skipchain_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/chainiac/chainiac/skipchain"
	"github.com/stretchr/testify/require"
)

const damagedDirEnv = "CHAINIAC_TEST_DAMAGED_BOLT_DIR"

// TestBoltOpenDamagedPagesChild is run by openAllInChild in a child
// process, under a 2 GiB address-space limit, to open every damaged file of a
// directory in turn. It names each file before opening it, so that the parent can
// tell which one killed it.
func TestBoltOpenDamagedPagesChild(t *testing.T) {
	dir := os.Getenv(damagedDirEnv)
	if dir == "" {
		t.Skip("only run as a child of TestBoltOpenDamagedPages")
	}
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: 2 << 30, Max: 2 << 30}))
	names, err := filepath.Glob(filepath.Join(dir, "*.db"))
	require.NoError(t, err)
	sort.Strings(names)
	for _, path := range names {
		fmt.Println("open", filepath.Base(path))
		s, err := skipchain.OpenBoltStore(path)
		if err != nil {
			continue
		}
		_, _ = skipchain.BuildProof(s, 0, true)
		require.NoError(t, s.Close())
	}
	fmt.Println("done")
}

// Damage to bbolt's own page structures (types, element counts and offsets, page
// numbers, overflow counts) must give an error from OpenBoltStore, or a store that
// reads, never a crash: bbolt trusts its pages, and checks them in a goroutine of
// its own where no recover reaches.
func TestBoltOpenDamagedPages(t *testing.T) {
	good, err := os.ReadFile(boltChain(t, 20))
	require.NoError(t, err)
	pageSize := os.Getpagesize()
	dir := t.TempDir()
	fields := []struct {
		name string
		off  int
		val  []byte
	}{
		{"flags", 8, []byte{0xff, 0x00}},
		{"count", 10, []byte{0xff, 0xff}},
		{"overflow", 12, []byte{0xff, 0xff, 0xff, 0x00}},
		{"first element pos", 16, binary.LittleEndian.AppendUint32(nil, 0x7fffffff)},
		{"first key size", 16 + 8, binary.LittleEndian.AppendUint32(nil, 0x7fffffff)},
		{"first branch page", 16 + 8, binary.LittleEndian.AppendUint64(nil, 1<<40)},
		{"first branch page zero", 16 + 8, make([]byte, 8)},
		{"first value size", 16 + 12, binary.LittleEndian.AppendUint32(nil, 0x7fffffff)},
	}
	for page := 2; page < len(good)/pageSize; page++ {
		for i, field := range fields {
			bad := append([]byte(nil), good...)
			copy(bad[page*pageSize+field.off:], field.val)
			name := fmt.Sprintf("page%03d-%d-%s.db", page, i, strings.ReplaceAll(field.name, " ", "-"))
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), bad, 0o600))
		}
	}
	openAllInChild(t, dir)
}

// openAllInChild opens every *.db file of dir in a child process
// (TestBoltOpenDamagedPagesChild) and fails the test, naming the file, if one of them
// kills it.
func openAllInChild(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestBoltOpenDamagedPagesChild$", "-test.v")
	cmd.Env = append(os.Environ(), damagedDirEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		last := ""
		for _, line := range strings.Split(string(out), "\n") {
			if name, ok := strings.CutPrefix(line, "open "); ok {
				last = name
			}
		}
		crash, _, _ := strings.Cut(string(out[strings.LastIndex(string(out), "open "+last):]), "\n\n")
		t.Fatalf("opening %s killed the process:\n%s", last, crash)
	}
	require.Contains(t, string(out), "done")
}
