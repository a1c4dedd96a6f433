// Command chainiac is the one binary of the project: cothority node, release tooling,
// updater, demo and simulations, as cobra subcommands.
package main
