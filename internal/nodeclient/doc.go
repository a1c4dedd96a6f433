// Package nodeclient is the release team's side of a node's HTTP API: proposals and
// genesis requests posted, status and chain resources read, every answer bounded in
// size and every node error cut to one line. The CLI and the demo use it; updaters
// use package client, which trusts nothing a node says.
package nodeclient
