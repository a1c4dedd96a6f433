package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

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

// guardOutput refuses to write out over an existing file other than one of inputs
// (a signed file rewritten in place), unless force: a mistyped -o must not replace a
// private key, a group file or the signatures collected so far. keys are never
// replaced, force or not.
func guardOutput(out string, force bool, keys []string, inputs ...string) error {
	if out == "-" {
		return nil
	}
	st, err := os.Stat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, k := range keys {
		if ks, err := os.Stat(k); err == nil && os.SameFile(st, ks) {
			return usageError{fmt.Errorf("-o %s is the key file: it is never overwritten", out)}
		}
	}
	for _, in := range inputs {
		if is, err := os.Stat(in); err == nil && os.SameFile(st, is) {
			return nil
		}
	}
	if force {
		return nil
	}
	return usageError{fmt.Errorf("%s already exists: give another -o, or --force to replace it", out)}
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
