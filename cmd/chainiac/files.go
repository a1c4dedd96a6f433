package main

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

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

// emit writes data to out (atomically), or to standard output for "-", and then the
// message for people: on standard output after a file, on standard error after data
// sent to standard output, so that a pipe gets the data alone.
func emit(cmd *cobra.Command, out string, data []byte, format string, args ...any) error {
	if out == "-" {
		if _, err := cmd.OutOrStdout().Write(data); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), format+"\n", args...)
		return nil
	}
	if err := atomicfile.WriteBytes(out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), format+"\n", args...)
	return nil
}
