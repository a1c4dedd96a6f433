package atomicfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/chainiac/chainiac/internal/atomicfile"
)

func ExampleWrite() {
	dir, _ := os.MkdirTemp("", "atomicfile")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "out.txt")
	err := atomicfile.Write(path, 0o644, func(f *os.File) error {
		_, err := f.WriteString("all or nothing\n")
		return err
	})
	b, _ := os.ReadFile(path)
	fmt.Print(err, " ", string(b))
	// Output: <nil> all or nothing
}
