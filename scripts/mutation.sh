#!/usr/bin/env bash
# Mutation testing of one package at a time with gremlins v0.5.0 (docs/mutation.md).
# Not run by CI or test.sh: a run takes minutes to hours and is a habit, not a gate.
#
#   scripts/mutation.sh [-t COEFF] [-f REGEX] PKG [PKG...]
#
#   PKG       a package directory relative to the module root: release, release/mar
#   -t COEFF  gremlins' timeout coefficient (default 10; with 3, the tests' own
#             variance on a shared machine makes mutants time out)
#   -f REGEX  mutate only the package's files whose base name matches REGEX
#             (extended regex, e.g. 'compare|format|reader'); the others' mutants
#             are skipped and counted in no column
#
# For each package it prints gremlins' per-mutant lines, then one summary line
#   PKG: killed K, lived L, timed out T, not covered N, not viable V, kill rate R%
# and keeps the machine-readable results in $MUTATION_OUT (default
# /tmp/mutation-$USER)/PKG.json and the log in PKG.log.
#
# gremlins v0.5.0 has no flag to exclude files or subpackages: `gremlins unleash
# ./release` also mutates release/mar and release/build, and its coverage run (which
# sets the per-mutant timeout) runs their tests too. So each package is run in a
# scratch copy of the module in which the package's subpackages (and, with -f, its
# other non-test files' mutants) are out of reach: subpackage directories are
# removed (refused if the package or its tests import one of them), and with -f the
# non-matching files' mutants are skipped through gremlins' --diff (see below).
#
# Do not pass --test-cpu: v0.5.0 passes "-cpu N" to go test as one argument, go
# test fails, and every mutant is reported KILLED. GOMAXPROCS=1 is used instead.
set -euo pipefail

coeff=10
files=''
while getopts 't:f:' opt; do
	case $opt in
	t) coeff=$OPTARG ;;
	f) files=$OPTARG ;;
	*)
		sed -n '2,16p' "$0" >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
if [ $# -eq 0 ]; then
	sed -n '2,16p' "$0" >&2
	exit 2
fi

root=$(cd "$(dirname "$0")/.." && pwd)
out=${MUTATION_OUT:-/tmp/mutation-${USER:-$(id -un)}}
mkdir -p "$out"

gremlins=$(command -v gremlins || true)
if [ -z "$gremlins" ] && [ -x "$(go env GOPATH)/bin/gremlins" ]; then
	gremlins=$(go env GOPATH)/bin/gremlins
fi
if [ -z "$gremlins" ]; then
	echo "mutation.sh: installing gremlins v0.5.0" >&2
	go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.5.0
	gremlins=$(go env GOPATH)/bin/gremlins
fi

module=$(cd "$root" && go list -m)
export DEBUG_LVL=0 GOMAXPROCS=1 GOFLAGS=${GOFLAGS:-}

for pkg in "$@"; do
	pkg=${pkg#./}
	pkg=${pkg%/}
	if [ ! -d "$root/$pkg" ]; then
		echo "mutation.sh: no directory $pkg" >&2
		exit 2
	fi
	importpath=$module/$pkg

	# The package's subpackages must not be needed by the package or its tests.
	subs=$(cd "$root" && go list "./$pkg/..." | grep -v "^$importpath\$" || true)
	deps=$(cd "$root" && go list -test -deps "./$pkg" | sed 's/ .*//' | sort -u)
	for s in $subs; do
		if grep -qx "$s" <<<"$deps"; then
			echo "mutation.sh: $pkg (or its tests) imports its subpackage $s; cannot isolate it" >&2
			exit 2
		fi
	done

	scratch=$(mktemp -d "${TMPDIR:-/tmp}/mutation.XXXXXX")
	trap 'rm -rf "$scratch"' EXIT
	(cd "$root" && tar --exclude=./.git -cf - .) | tar -C "$scratch" -xf -
	for s in $subs; do
		rm -rf "${scratch:?}/${s#"$module"/}"
	done

	diffargs=()
	if [ -n "$files" ]; then
		# gremlins skips mutants on lines that `git diff --merge-base REF` does not
		# show as added. A throwaway repository at the package directory whose base
		# commit holds only the non-selected files makes every line of the selected
		# files, and only those, "added" (its paths match gremlins' file names,
		# which are relative to the package directory).
		(
			cd "$scratch/$pkg"
			git init -q
			for f in *.go; do
				case $f in *_test.go) continue ;; esac
				grep -Eq -- "$files" <<<"$f" || git add -- "$f"
			done
			git -c user.name=mutation -c user.email=mutation@localhost commit -q --allow-empty -m base
			git tag base
			git add -A
		) >/dev/null
		diffargs=(--diff base)
	fi

	log=$out/${pkg//\//_}.log
	json=$out/${pkg//\//_}.json
	echo "== $pkg (coefficient $coeff${files:+, files /$files/}) log $log" >&2
	(
		cd "$scratch/$pkg"
		nice -n 10 "$gremlins" unleash --workers 1 --timeout-coefficient "$coeff" \
			"${diffargs[@]}" --output "$json" "$scratch/$pkg"
	) 2>&1 | tee "$log"
	rm -rf "$scratch"
	trap - EXIT

	jq -r --arg pkg "$pkg" '
		[.files[].mutations[].status] as $s
		| ($s | map(select(. == "KILLED")) | length) as $k
		| ($s | map(select(. == "LIVED")) | length) as $l
		| ($s | map(select(. == "TIMED OUT")) | length) as $t
		| ($s | map(select(. == "NOT COVERED")) | length) as $n
		| ($s | map(select(. == "NOT VIABLE")) | length) as $v
		| "\($pkg): killed \($k), lived \($l), timed out \($t), not covered \($n), not viable \($v), kill rate \(if $k + $l > 0 then (1000 * $k / ($k + $l) + 0.5 | floor) / 10 else "n/a" end)%"
	' "$json"
done
