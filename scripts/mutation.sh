#!/usr/bin/env bash
# Mutation testing of one package at a time with gremlins (not run by CI: a package
# takes minutes to hours). Usage, from the module root:
#
#   scripts/mutation.sh cosi skipchain release/mar
#   scripts/mutation.sh -f '^(xzreader|xzstream)\.go$' release/mar
#
# -f REGEX mutates only the package's files whose names match. gremlins has no file
# filter, but it can mutate only the lines changed since a commit: the package's
# directory in the copy is made a git repository whose first commit lacks those files
# (gremlins names files relative to the package, and runs git where it is started).
#
# For each package it copies the module (as committed) into a temporary directory
# without the package's subpackages, since gremlins walks a path recursively and has
# no exclude option, and runs gremlins there with one worker. Two traps it avoids:
# the test cache (without -count=1 the coverage run comes from the cache and every
# mutant "times out"), and gremlins v0.5.0's --test-cpu, which makes every mutant
# count as killed. docs/mutation.md holds the figures and the equivalent survivors.
set -euo pipefail
cd "$(dirname "$0")/.."
files=""
if [ "${1:-}" = "-f" ]; then
	files=$2
	shift 2
fi
[ $# -gt 0 ] || { echo "usage: $0 [-f FILE_REGEX] PACKAGE..." >&2; exit 2; }
command -v gremlins >/dev/null 2>&1 || go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.5.0
gremlins=$(command -v gremlins || echo "$(go env GOPATH)/bin/gremlins")
for pkg in "$@"; do
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	git archive HEAD | tar -x -C "$work"
	# Keep only the packages the package and its tests build on; the rest of the module
	# (its subpackages, and whatever imports them) would be walked or fail to build.
	mod=$(go list -m)
	keep=$(go list -deps -test "./$pkg" | grep "^$mod" | sed "s#^$mod/\{0,1\}##; s#\.test\$##; s# .*##" | sort -u)
	for dir in $(cd "$work" && find . -name '*.go' -printf '%h\n' | sed 's#^\./##; s#^\.$##' | sort -u); do
		if ! grep -qx -- "$dir" <<<"$keep"; then rm -f "$work/$dir"/*.go; fi
	done
	diff=()
	run_in=$work target=./$pkg
	if [ -n "$files" ]; then
		selected=$(cd "$work/$pkg" && ls *.go | grep -v '_test\.go$' | grep -E -- "$files" || true)
		[ -n "$selected" ] || { echo "no file of $pkg matches $files" >&2; exit 2; }
		(cd "$work/$pkg" && git init -q && git add -A && for f in $selected; do git rm -q --cached "$f"; done &&
			git -c user.name=mutation -c user.email=mutation@localhost commit -qm base &&
			git add -A && git -c user.name=mutation -c user.email=mutation@localhost commit -qm selected)
		diff=(--diff HEAD~1)
		run_in=$work/$pkg target=$work/$pkg
		echo "== $pkg ($(echo $selected | tr '\n' ' '))"
	else
		echo "== $pkg"
	fi
	(cd "$run_in" && GOMAXPROCS=1 GOFLAGS=-count=1 DEBUG_LVL=0 nice "$gremlins" unleash \
		--workers 1 --timeout-coefficient 6 "${diff[@]}" "$target" 2>&1 | grep -E "LIVED|TIMED OUT|NOT COVERED|Killed:|Timed out|efficacy|coverage")
	rm -rf "$work"
	trap - EXIT
done
