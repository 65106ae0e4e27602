#!/usr/bin/env bash
# Prints the path of the tursodb binary, installing the pinned npm package on
# first use. make test-go passes it to the Go tests as TURSODB_BIN.
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error >&2
bin=$(find node_modules/@tursodatabase -path '*cli-linux-*' -name tursodb -type f | head -n 1)
[ -n "$bin" ] || { echo "tursodb binary not found in node_modules" >&2; exit 1; }
echo "$PWD/$bin"
