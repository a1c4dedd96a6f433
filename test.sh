#!/usr/bin/env bash
# The project's test command (README.md, .ci/run): formatting, vet, then every test of
# every package under the race detector. On a fresh machine that has only Go, it first
# installs what the tests need from Debian's packages (see below).
set -euo pipefail
cd "$(dirname "$0")"

# What the tests need beyond Go, from Debian's packages: a C compiler for the race
# detector, Prometheus (promtool and a real server scrape the nodes' /metrics), and
# Chromium (the monitor's site is checked in a headless browser; with CI set, a
# missing chromium fails that test instead of skipping it).
need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
	if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
		echo "test.sh: installing ${need[*]}" >&2
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	else
		echo "test.sh: the tests need ${need[*]} (Debian packages); install them" >&2
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
