#!/usr/bin/env bash
# Database compatibility: better-auth 1.7.24 (Drizzle + @libsql/client) and the
# Go server on the same SQLite file, for both seed layouts.
#   ./run.sh                      build ./cmd/dev into a temp dir and test it
#   SERVER_BIN=/path/bin ./run.sh test an already built binary
#   SERVER_BIN=reference/server.mjs ./run.sh   self-check against better-auth itself
set -euo pipefail
caller_pwd="$PWD"
cd "$(dirname "$0")"

if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi

tmp=""
cleanup() { if [ -n "$tmp" ]; then rm -rf "$tmp"; fi; }
trap cleanup EXIT

if [ -z "${SERVER_BIN:-}" ]; then
  tmp="$(mktemp -d)"
  echo "building ./cmd/dev into $tmp" >&2
  (cd ../.. && go build -o "$tmp/adstudio-dev" ./cmd/dev)
  SERVER_BIN="$tmp/adstudio-dev"
fi
case "$SERVER_BIN" in
  /*) ;;
  *) if [ -e "$caller_pwd/$SERVER_BIN" ]; then SERVER_BIN="$caller_pwd/$SERVER_BIN"; else SERVER_BIN="$PWD/$SERVER_BIN"; fi ;;
esac
export SERVER_BIN

node --test --test-concurrency=1 test/*.test.mjs
