#!/usr/bin/env bash
# Prints the path of a versitygw binary (a real S3-compatible server), building
# the pinned version into <repo>/bin on first use. make test-go passes it to the
# Go tests as VERSITYGW_BIN; the S3 suites (internal/objectstore, internal/devtools/devapp) skip without
# it, or fail under CI=true. It exits non-zero, printing nothing on stdout, when
# it cannot provide the pinned binary.
#
# The first build downloads and compiles versitygw through the Go module proxy
# (a minute or two); later runs only check the version recorded in the binary.
set -euo pipefail
version=v1.8.0
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin="$repo/bin/versitygw"
have=""
if [ -x "$bin" ]; then
  # Unreadable (or no go to read it): rebuild, which says what is wrong.
  have=$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" { print $3; exit }') || have=""
fi
if [ "$have" != "$version" ]; then
  echo "building versitygw $version into $repo/bin (first use only)..." >&2
  mkdir -p "$repo/bin"
  # Outside the main module so our go.mod and go.sum are never touched.
  (cd / && GOBIN="$repo/bin" GOFLAGS=-buildvcs=false go install "github.com/versity/versitygw/cmd/versitygw@$version") >&2
  have=$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" { print $3; exit }') || have=""
  [ "$have" = "$version" ] || { echo "versitygw $version is not in $repo/bin after go install (found: ${have:-none})" >&2; exit 1; }
fi
echo "$bin"
