#!/bin/bash
# Reproduces the mar create vs system xz figures of docs/performance.md.
# usage: mar-create-vs-xz.sh NEW-CHAINIAC OLD-CHAINIAC WORKDIR
set -e
new=$1 old=$2 w=$3
mkdir -p $w/rand20 $w/rand200 $w/bin
[ -f $w/rand20/blob ] || head -c 20000000 /dev/urandom > $w/rand20/blob
[ -f $w/rand200/blob ] || head -c 200000000 /dev/urandom > $w/rand200/blob
cp "$(go env GOROOT)/pkg/tool/linux_amd64/compile" $w/bin/
t() { /usr/bin/time -f "$1: %e s wall, %U s user" "${@:2}"; }
for case in rand20 rand200 bin "$(go env GOROOT)/src/net"; do
  d=$case; [ -d "$w/$case" ] && d=$w/$case
  echo "== $case ($(du -sb $d | cut -f1) bytes, $(find $d -type f | wc -l) files)"
  t "xz -6, each file" sh -c "find $d -type f -exec xz -6 -k -c {} + > $w/xz.out"
  echo "xz bytes: $(find $d -type f -exec sh -c 'xz -6 -c "$0" | wc -c' {} \; | paste -sd+ | bc)"
  # the old writer takes minutes on 200 MB of random bytes: skipped there
  [ $case = rand200 ] || t "old chainiac" $old mar create --channel c --version 1 -C $d -o $w/old.mar .
  t "new chainiac" $new mar create -q --channel c --version 1 -C $d -o $w/new.mar .
  ls -l $w/new.mar | awk '{print "new mar bytes: " $5}'
  [ $case = rand200 ] || ls -l $w/old.mar | awk '{print "old mar bytes: " $5}'
done
