//go:build !unix

package build

import (
	"errors"
	"os/exec"
)

// Builds need /bin/sh, process groups and umask: NewRunner refuses other systems.
func checkPlatform() error { return errors.New("build: the recipe runner needs a unix system") }

func startInOwnGroup(cmd *exec.Cmd) {}

func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}
