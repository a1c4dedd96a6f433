package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chainiac/chainiac/internal/atomicfile"
)

// The one rule for every file a command writes: "-" is standard output (refused for
// private keys), the file's directory must exist (it is never created, so a mistyped
// path fails instead of scattering files), an existing file is replaced only with
// --force (a key file never), and a file is written whole or not at all.

// writeNew creates path with data, never overwriting: an existing file is an error
// that says so in the user's terms, not the temporary file's.
func writeNew(path string, data []byte, perm fs.FileMode) error {
	if err := checkOutputDir(path); err != nil {
		return err
	}
	err := atomicfile.WriteNew(path, data, perm)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists and is never overwritten: choose another name or remove it", path)
	}
	return writeError(path, err)
}

// guardOutput refuses to write out over an existing file other than one of inputs
// (a signed file rewritten in place), unless force: a mistyped -o must not replace a
// private key, a group file or the signatures collected so far. keys are never
// replaced, force or not. It also refuses an output whose directory does not exist.
func guardOutput(out string, force bool, keys []string, inputs ...string) error {
	if out == "-" {
		return nil
	}
	if out == "" {
		return usageError{errors.New("-o: empty file name")}
	}
	if err := checkOutputDir(out); err != nil {
		return err
	}
	st, err := os.Stat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.IsDir() {
		return usageError{fmt.Errorf("-o %s is a directory: give a file name", out)}
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

// checkOutputDir fails, naming it, when the directory a file is to be written in does
// not exist or is not a directory.
func checkOutputDir(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot write %s: directory %s does not exist: create it first", path, dir)
	case err != nil:
		return fmt.Errorf("cannot write %s: %w", path, err)
	case !st.IsDir():
		return fmt.Errorf("cannot write %s: %s is not a directory", path, dir)
	}
	return nil
}

// writeError says which file could not be written, in place of the temporary
// file's name that atomicfile's errors carry.
func writeError(path string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("cannot write %s: permission denied", path)
	case errors.Is(err, fs.ErrNotExist):
		if derr := checkOutputDir(path); derr != nil {
			return derr
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot write %s: %w", path, pe.Err)
	}
	return fmt.Errorf("cannot write %s: %w", path, err)
}

// writeBytes writes data to path atomically, or to standard output for "-".
func writeBytes(cmd *cobra.Command, path string, data []byte) error {
	if path == "-" {
		_, err := cmd.OutOrStdout().Write(data)
		return err
	}
	return writeError(path, atomicfile.WriteBytes(path, data, 0o644))
}

// writeStream is writeBytes for output made by fill into a file (MARs may be
// large and mar.Write seeks): for "-", into a temporary file then copied out.
func writeStream(cmd *cobra.Command, path string, fill func(*os.File) error) error {
	if path != "-" {
		return writeError(path, atomicfile.Write(path, 0o644, fill))
	}
	tmp, err := os.CreateTemp("", "chainiac-out-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := fill(tmp); err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err = io.Copy(cmd.OutOrStdout(), tmp)
	return err
}

// emit writes data to out (atomically), or to standard output for "-", and then the
// message for people: on standard output after a file, on standard error after data
// sent to standard output, so that a pipe gets the data alone.
func emit(cmd *cobra.Command, out string, data []byte, format string, args ...any) error {
	if err := writeBytes(cmd, out, data); err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if out == "-" {
		w = cmd.ErrOrStderr()
	}
	fmt.Fprintf(w, format+"\n", args...)
	return nil
}

// inputName is how messages name an input file: "-" is standard input.
func inputName(path string) string {
	if path == "-" {
		return "standard input"
	}
	return path
}

// decodeError says that a file is not a valid one of what it should be, in the
// user's terms: the decoders' package prefixes are left out of the message (the
// error still wraps theirs, for errors.Is).
type decodeError struct {
	path, what string
	err        error
}

func (e *decodeError) Error() string {
	detail := e.err.Error()
	for _, prefix := range []string{"wire: ", "release: ", "mar: "} {
		detail = strings.ReplaceAll(detail, prefix, "")
	}
	return fmt.Sprintf("%s is not a valid %s (damaged, truncated or another kind of file): %s", inputName(e.path), e.what, detail)
}

func (e *decodeError) Unwrap() error { return e.err }

// notValid wraps a decoding error of the file at path, nil staying nil.
func notValid(path, what string, err error) error {
	if err == nil {
		return nil
	}
	return &decodeError{path: path, what: what, err: err}
}
