#!/usr/bin/env bash
# Prints the path of a stripe-mock binary (a stateless stand-in for Stripe's
# API built from Stripe's OpenAPI spec), building the pinned version into
# <repo>/bin on first use. make test-go passes it to the Go tests as
# STRIPE_MOCK_BIN; the billing suites skip without it, or fail under
# CI=true. It exits non-zero, printing nothing on stdout, when it cannot
# provide the pinned binary.
#
# The first build downloads and compiles stripe-mock through the Go module
# proxy (seconds: the spec and fixtures are embedded data); later runs only
# check the version recorded in the binary.
exec "$(dirname "$0")/../gotool.sh" stripe-mock github.com/stripe/stripe-mock@v0.203.0
