// Package localnet runs a set of onet servers in one process over real TCP, bound to
// 127.0.0.1 only. Tests and simulations use it instead of onet's LocalTest and
// localhost platform, which start a websocket listener on every interface for each
// server and poll for start-up with 50 ms sleeps (a minute for a thousand servers).
//
// Call Register once, before starting any Net, then Start.
package localnet
