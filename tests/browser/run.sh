#!/usr/bin/env bash
# Browser cookie-session tests (headless Chromium, default cookie settings):
# sessions across reloads, and a generation whose <img src=assetUrl> must load.
# Usage: tests/browser/run.sh            builds ./cmd/dev into a temp dir
#        SERVER_BIN=/path/to/adstudio-dev tests/browser/run.sh
# Optional: SCREENSHOT_DIR=/some/dir (screenshots; default a fresh temp dir),
#           KEEP_TMP=1 (keep per-test temp dirs: db, certs, Chromium profile),
#           DEBUG_EXCHANGES=1 (print every proxied request/response, also on success).
set -euo pipefail
cd "$(dirname "$0")"

CHROMIUM_BIN="${CHROMIUM_BIN:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM_BIN" ]; then
  echo "tests/browser: $CHROMIUM_BIN not found. Install it first: apt-get update && apt-get install -y chromium" >&2
  exit 1
fi
command -v openssl >/dev/null || { echo "tests/browser: openssl is required" >&2; exit 1; }
command -v node >/dev/null || { echo "tests/browser: node is required" >&2; exit 1; }

if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi

tmp=""
cleanup() { if [ -n "$tmp" ]; then rm -rf "$tmp"; fi; }
trap cleanup EXIT
if [ -z "${SERVER_BIN:-}" ]; then
  tmp="$(mktemp -d)"
  echo "tests/browser: building ./cmd/dev ..."
  (cd ../.. && go build -o "$tmp/adstudio-dev" ./cmd/dev)
  SERVER_BIN="$tmp/adstudio-dev"
fi
if [ ! -x "$SERVER_BIN" ]; then
  echo "tests/browser: SERVER_BIN=$SERVER_BIN is not an executable file" >&2
  exit 1
fi
export SERVER_BIN="$(cd "$(dirname "$SERVER_BIN")" && pwd)/$(basename "$SERVER_BIN")"
export CHROMIUM_BIN
export SCREENSHOT_DIR="${SCREENSHOT_DIR:-$(mktemp -d -t adstudio-browser-shots-XXXXXX)}"

status=0
node --test --test-reporter=spec --test-timeout=90000 cookie-sessions.test.mjs || status=$?
echo "tests/browser: screenshots in $SCREENSHOT_DIR"
exit "$status"
