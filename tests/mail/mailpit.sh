#!/usr/bin/env bash
# Prints the path of a Mailpit binary (a real SMTP server that keeps what it
# receives and shows it through an HTTP API), building the pinned version into
# <repo>/bin on first use. make test-go passes it to the Go tests as
# MAILPIT_BIN; the SMTP suites (internal/mail) skip without it, or fail under
# CI=true. It exits non-zero, printing nothing on stdout, when it cannot
# provide the pinned binary.
#
# The first build downloads and compiles Mailpit through the Go module proxy
# (a few minutes: it embeds a web UI and a pure-Go SQLite); later runs only
# check the version recorded in the binary.
set -euo pipefail
version=v1.33.1
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin="$repo/bin/mailpit"
have=""
if [ -x "$bin" ]; then
  # Unreadable (or no go to read it): rebuild, which says what is wrong.
  have=$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" { print $3; exit }') || have=""
fi
if [ "$have" != "$version" ]; then
  echo "building mailpit $version into $repo/bin (first use only)..." >&2
  mkdir -p "$repo/bin"
  # Outside the main module so our go.mod and go.sum are never touched.
  (cd / && GOBIN="$repo/bin" GOFLAGS=-buildvcs=false go install "github.com/axllent/mailpit@$version") >&2
  have=$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" { print $3; exit }') || have=""
  [ "$have" = "$version" ] || { echo "mailpit $version is not in $repo/bin after go install (found: ${have:-none})" >&2; exit 1; }
fi
echo "$bin"
