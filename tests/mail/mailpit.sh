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
exec "$(dirname "$0")/../gotool.sh" mailpit github.com/axllent/mailpit@v1.33.1
