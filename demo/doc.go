// Package demo runs the whole system in one process on 127.0.0.1: a cothority of real
// nodes (onet over TCP, each with its own key and store), a genesis, releases of the
// sample product rebuilt by every node, a roster rotation, a tampered release that
// every node refuses, a static export served as a CDN would, and the updater
// verifying and downloading the newest MAR with only the genesis ID. `chainiac demo`
// is its command; Run returns a Summary that the tests assert on.
package demo
