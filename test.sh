#!/usr/bin/env bash
# The project's test command (README.md, .ci/run): formatting, vet, then every test of
# every package under the race detector. On a fresh machine that has only Go, it first
# installs what the race detector needs (a C compiler) from Debian's packages.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v gcc >/dev/null 2>&1; then
	if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
		echo "test.sh: installing gcc for the race detector" >&2
		apt-get update -qq && apt-get install -y -qq gcc libc6-dev >/dev/null
	else
		echo "test.sh: go test -race needs a C compiler (cgo); install gcc" >&2
		exit 1
	fi
fi
export CGO_ENABLED=1
export DEBUG_LVL="${DEBUG_LVL:-0}"

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
go test -race -count=1 -timeout 15m ./...
