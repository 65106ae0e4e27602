#!/usr/bin/env bash
# Prints the path of an aws-lambda-rie binary (the AWS Lambda Runtime Interface
# Emulator), building the pinned version into <repo>/bin on first use.
# make test-go passes it to the Go tests as RIE_BIN (pkg/localgateway skips its
# packaged-function tests without it); make test-lambda and make local-lambda
# run the gateway with it.
#
# The module has no tagged releases, so the pin is a pseudo-version (the one
# docs in shared/spec/platform.md §0 were verified with). Later runs only check
# the version recorded in the binary.
set -euo pipefail
version=v0.0.0-20261030222936-bef5c4ba774d
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin="$repo/bin/aws-lambda-rie"
have=""
if [ -x "$bin" ]; then
  have=$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" { print $3; exit }')
fi
if [ "$have" != "$version" ]; then
  echo "building aws-lambda-rie $version into $repo/bin (first use only)..." >&2
  mkdir -p "$repo/bin"
  # Outside the main module so our go.mod and go.sum are never touched.
  (cd / && GOBIN="$repo/bin" GOFLAGS=-buildvcs=false go install "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$version") >&2
fi
echo "$bin"
