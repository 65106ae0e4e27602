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
exec "$(dirname "$0")/../gotool.sh" aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
