#!/usr/bin/env bash
# Browser tests (headless Chromium, default cookie settings). dev-defaults.test.mjs:
# make dev with no configuration keeps its session. In both deployment shapes:
# cookie-sessions.test.mjs (sessions across reloads; a generation whose
# <img src=assetUrl> must load; signed asset links: the same <img> elsewhere,
# "Open image in a new tab" without a cookie, the thumbnail; a direct upload
# PUT from the page to the bucket, then image-from-reference; a run past
# WORKFLOW_SYNC_BUDGET_MS that answers 202 and is polled until it succeeds),
# social-signin.test.mjs ("Sign in with GitHub" through cmd/oauthfake's
# consent page on a third site), password-reset.test.mjs (a reset link
# read from the outbox mail, on the API's site, opened in a new tab: it lands
# on the SPA's /reset?token=, whose POST /reset-password ends every session;
# the old password fails, the new one signs in) and billing.test.mjs (buying
# the starter pack through make dev's built-in checkout, /_stripe/ on the
# API's origin: Cancel back to the SPA buys nothing; Pay grants the pack,
# then lands on the SPA's successUrl with the session id; skipped behind the
# local gateway, which has no built-in checkout). Fails if any fails.
# Usage: tests/browser/run.sh            builds ./cmd/dev and ./cmd/oauthfake into a temp dir
#        SERVER_BIN=/path/to/adstudio-dev OAUTHFAKE_BIN=/path/to/oauthfake tests/browser/run.sh
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
if [ -z "${SERVER_BIN:-}" ] || [ -z "${OAUTHFAKE_BIN:-}" ]; then
  tmp="$(mktemp -d)"
fi
if [ -z "${SERVER_BIN:-}" ]; then
  echo "tests/browser: building ./cmd/dev ..."
  (cd ../.. && go build -o "$tmp/adstudio-dev" ./cmd/dev)
  SERVER_BIN="$tmp/adstudio-dev"
fi
if [ -z "${OAUTHFAKE_BIN:-}" ]; then
  echo "tests/browser: building ./cmd/oauthfake ..."
  (cd ../.. && go build -o "$tmp/oauthfake" ./cmd/oauthfake)
  OAUTHFAKE_BIN="$tmp/oauthfake"
fi
for var in SERVER_BIN OAUTHFAKE_BIN; do
  if [ ! -x "${!var}" ]; then
    echo "tests/browser: $var=${!var} is not an executable file" >&2
    exit 1
  fi
done
export SERVER_BIN="$(cd "$(dirname "$SERVER_BIN")" && pwd)/$(basename "$SERVER_BIN")"
export OAUTHFAKE_BIN="$(cd "$(dirname "$OAUTHFAKE_BIN")" && pwd)/$(basename "$OAUTHFAKE_BIN")"
export CHROMIUM_BIN
export SCREENSHOT_DIR="${SCREENSHOT_DIR:-$(mktemp -d -t adstudio-browser-shots-XXXXXX)}"

# One file after the other (each starts its own servers and Chromium per test).
status=0
failed=()
for f in dev-defaults.test.mjs cookie-sessions.test.mjs social-signin.test.mjs password-reset.test.mjs billing.test.mjs; do
  echo "tests/browser: $f"
  if ! node --test --test-reporter=spec --test-timeout=90000 "$f"; then
    status=1
    failed+=("$f")
  fi
done
echo "tests/browser: screenshots in $SCREENSHOT_DIR"
if [ "$status" -ne 0 ]; then
  echo "tests/browser: FAILED: ${failed[*]}" >&2
fi
exit "$status"
