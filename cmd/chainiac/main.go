package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/chainiac/chainiac/internal/atomicfile"
)

// exitInterrupted is the status of a command ended by SIGINT or SIGTERM (128 + 2).
const exitInterrupted = 130

// ownSignals is set for commands that stop cleanly on a signal themselves (a node,
// a server, the demo): main then only cancels their context, until a second signal.
var ownSignals atomic.Bool

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	var interrupted atomic.Bool
	var exitOnce sync.Once
	exit := func(code int) { exitOnce.Do(func() { os.Exit(code) }) }
	interrupt := func() {
		atomicfile.RemoveTemporaries()
		fmt.Fprintln(os.Stderr, "chainiac: interrupted")
		exit(exitInterrupted)
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		interrupted.Store(true)
		cancel() // a command that watches its context stops and cleans up
		wait := time.After(time.Second)
		if ownSignals.Load() {
			wait = nil // its own clean shutdown may take longer; a second signal ends it
		}
		select {
		case <-sigs:
		case <-wait:
		}
		// The command did not return: remove what it was writing, and stop.
		interrupt()
	}()
	err := newRootCmd().ExecuteContext(ctx)
	if interrupted.Load() && (err != nil || !ownSignals.Load()) {
		// An error caused by the cancelled context is the interruption, not a refusal
		// or an outage; a node or server that shut down cleanly exits 0.
		interrupt()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chainiac:", err)
		exit(exitCode(err))
	}
}
