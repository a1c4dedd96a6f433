// Package onettest holds what every test package that runs onet servers needs: a
// TestMain that registers the localnet harness, keeps onet quiet unless DEBUG_LVL asks
// otherwise and checks for leaked goroutines after the tests.
package onettest
