#!/usr/bin/env bash
# Prints the path of the tursodb binary, installing the pinned npm package on
# first use. make test-go passes it to the Go tests as TURSODB_BIN; the remote
# libSQL suite (internal/devtools/devapp) skips without it, or fails under CI=true. It exits
# non-zero, printing nothing on stdout, when it cannot provide the binary.
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error >&2
# npm installs only this platform's package of the CLI (linux or darwin).
bin=$(find node_modules/@tursodatabase -path '*/cli-*' -name tursodb -type f 2>/dev/null | head -n 1) || bin=""
[ -n "$bin" ] && [ -x "$bin" ] || { echo "tursodb binary not found in tests/remote/node_modules (remove it to reinstall)" >&2; exit 1; }
echo "$PWD/$bin"
