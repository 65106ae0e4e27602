#!/usr/bin/env bash
# Prints the path of a versitygw binary (a real S3-compatible server), building
# the pinned version into <repo>/bin on first use. make test-go passes it to the
# Go tests as VERSITYGW_BIN; the S3 suites (internal/objectstore, internal/devtools/devapp) skip without
# it, or fail under CI=true. It exits non-zero, printing nothing on stdout, when
# it cannot provide the pinned binary.
#
# The first build downloads and compiles versitygw through the Go module proxy
# (a minute or two); later runs only check the version recorded in the binary.
exec "$(dirname "$0")/../gotool.sh" versitygw github.com/versity/versitygw/cmd/versitygw@v1.8.0
