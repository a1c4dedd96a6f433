// Package sample makes releases of a small sample product, "demo-browser", with the
// reference builder: a source tree generated in code, its archive, the unsigned MARs,
// their RSA-signed copies and a manifest signed by developers. The demo and the
// multi-node tests use it to run real releases through real nodes; a tampered
// release (a signed MAR that its source does not build) is one option away.
//
// Start with Make, and Server to publish what it made.
package sample
