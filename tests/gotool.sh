#!/usr/bin/env bash
# Usage: tests/gotool.sh <binary> <package>@<version>
#
# Prints the path of <repo>/bin/<binary>, a tool built from Go source at a
# pinned version, go installing <package>@<version> there first when the
# binary is missing or records another version. The scripts beside the
# suites (tests/mail/mailpit.sh, …) hold the pins and exec this, so the
# Makefile and the docs keep naming them. Only the path goes to stdout, so
# callers can write BIN=$(tests/…/tool.sh); when it cannot provide the pinned
# binary it exits non-zero with nothing on stdout. <binary> is the name go
# install gives the package: the last element of its path.
set -euo pipefail
[ $# -eq 2 ] && [[ $2 == *@* ]] || { echo "usage: $0 <binary> <package>@<version>" >&2; exit 2; }
name=$1
pkg=${2%@*}
version=${2##*@}
repo=$(cd "$(dirname "$0")/.." && pwd)
bin="$repo/bin/$name"
have=""
if [ -x "$bin" ]; then
  # Unreadable (or no go to read it): rebuild, which says what is wrong.
  have=$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" { print $3; exit }') || have=""
fi
if [ "$have" != "$version" ]; then
  echo "building $name $version into $repo/bin (first use only)..." >&2
  mkdir -p "$repo/bin"
  # Outside the main module so our go.mod and go.sum are never touched.
  (cd / && GOBIN="$repo/bin" GOFLAGS=-buildvcs=false go install "$pkg@$version") >&2
  have=$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" { print $3; exit }') || have=""
  [ "$have" = "$version" ] || { echo "$name $version is not in $repo/bin after go install (found: ${have:-none})" >&2; exit 1; }
fi
echo "$bin"
