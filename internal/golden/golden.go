package golden

import (
	"flag"
	"os"
	"testing"
)

var (
	update     = flag.Bool("update", false, "rewrite golden files in testdata/")
	exhaustive = flag.Bool("exhaustive", false, "mangling tests try all 255 changes of every byte")
)

// File checks got against the golden file at path and returns the file's bytes. Under
// -update it first rewrites the file with got.
func File(t testing.TB, path string, got []byte) []byte {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("golden: %v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden: %v (run the test with -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("golden: %s differs from what the code produces now; if the change is intended, rerun with -update and review the diff\nwant:\n%s\ngot:\n%s", path, want, got)
	}
	return want
}

// Exhaustive reports whether mangling tests should try every byte value.
func Exhaustive() bool { return *exhaustive }

// Changes lists the values XORed into a byte by mangling tests: each single-bit flip
// and the complement, or with -exhaustive every non-zero value.
func Changes() []byte {
	if *exhaustive {
		out := make([]byte, 255)
		for i := range out {
			out[i] = byte(i + 1)
		}
		return out
	}
	return []byte{0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff}
}
