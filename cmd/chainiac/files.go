package main

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/chainiac/chainiac/internal/atomicfile"
)

// writeNew creates path with data, never overwriting: an existing file is an error
// that says so in the user's terms, not the temporary file's.
func writeNew(path string, data []byte, perm fs.FileMode) error {
	err := atomicfile.WriteNew(path, data, perm)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists and is never overwritten: choose another name or remove it", path)
	}
	return err
}
