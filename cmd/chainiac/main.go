package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/chainiac/chainiac/internal/atomicfile"
)

// exitInterrupted is the status of a command ended by SIGINT or SIGTERM (128 + 2).
const exitInterrupted = 130

// ownSignals is set for commands that stop cleanly on a signal themselves (a node,
// a server, the demo): main then only cancels their context.
var ownSignals bool

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel() // a command that watches its context stops and cleans up
		if ownSignals {
			return
		}
		select {
		case <-sigs:
		case <-time.After(time.Second):
		}
		// The command did not return: remove what it was writing, and stop.
		atomicfile.RemoveTemporaries()
		fmt.Fprintln(os.Stderr, "chainiac: interrupted")
		os.Exit(exitInterrupted)
	}()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "chainiac:", err)
		os.Exit(exitCode(err))
	}
}
