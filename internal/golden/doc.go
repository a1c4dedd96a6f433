// Package golden holds the two switches of chainiac's known-answer tests: -update
// rewrites golden files in testdata/ from what the code produces now, and -exhaustive
// makes mangling tests try all 255 changes of every byte instead of a sample. Only
// test code imports it.
package golden
