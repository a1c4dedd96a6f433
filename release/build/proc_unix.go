//go:build unix

package build

import (
	"os/exec"
	"syscall"
)

// startInOwnGroup makes the build the leader of a new process group, so that the
// whole tree it starts can be killed at once.
func startInOwnGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd) }
}

// killGroup SIGKILLs the build's process group. A group already gone is not an error.
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if err == syscall.ESRCH {
		return nil
	}
	return err
}

func checkPlatform() error { return nil }
