// Command chainiac is the one binary of the project: cothority node, release tooling,
// updater, demo and simulations, as cobra subcommands.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "chainiac:", err)
		os.Exit(1)
	}
}
