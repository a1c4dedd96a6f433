// Package simulation measures chainiac's protocols on many nodes in one process, and
// (later) compares the design with a transparency log.
//
// RunCosi starts n onet servers on 127.0.0.1 (internal/localnet), gives each a cosi
// key, and runs signing rounds of cosi/protocol from the first server, reporting each
// round's latency. The first rounds pay for opening connections and shipping the tree
// to every node; they are reported as warm-up and left out of the figures.
//
// onet's own localhost simulation platform is not used: it starts a websocket on every
// interface for each server, waits 50 ms or more per server at start-up (about a
// minute for 1000 servers), changes the working directory and exits the process on
// errors. The servers, the tree protocol and the TCP transport are onet's all the
// same.
package simulation
