#!/usr/bin/env bash
# Prints the path of an aws-lambda-rie binary (the AWS Lambda Runtime Interface
# Emulator), building the pinned version into <repo>/bin on first use.
# make test-go passes it to the Go tests as RIE_BIN (internal/devtools/localgateway skips its
# packaged-function tests without it, or fails them under CI=true); make
# test-lambda and make local-lambda run the gateway with it. It exits non-zero,
# printing nothing on stdout, when it cannot provide the pinned binary.
#
# The module has no tagged releases, so the pin is a pseudo-version. Later runs
# only check the version recorded in the binary.
set -euo pipefail
version=v0.0.0-20261030222936-bef5c4ba774d
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin="$repo/bin/aws-lambda-rie"
have=""
if [ -x "$bin" ]; then
  # Unreadable (or no go to read it): rebuild, which says what is wrong.
  have=$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" { print $3; exit }') || have=""
fi
if [ "$have" != "$version" ]; then
  echo "building aws-lambda-rie $version into $repo/bin (first use only)..." >&2
  mkdir -p "$repo/bin"
  # Outside the main module so our go.mod and go.sum are never touched.
  (cd / && GOBIN="$repo/bin" GOFLAGS=-buildvcs=false go install "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$version") >&2
  have=$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" { print $3; exit }') || have=""
  [ "$have" = "$version" ] || { echo "aws-lambda-rie $version is not in $repo/bin after go install (found: ${have:-none})" >&2; exit 1; }
fi
echo "$bin"
