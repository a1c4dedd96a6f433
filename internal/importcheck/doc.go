// Package importcheck enforces the project's import direction in tests: a core package
// lists the packages it must never depend on, directly or not.
package importcheck
