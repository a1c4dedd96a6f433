// Package testrand gives tests and examples reproducible randomness, so that keys and
// signatures in known-answer files and Example outputs are the same on every run.
// Nodes use crypto/rand.
package testrand
