#!/usr/bin/env bash
# Synthesises the stack offline into infra/cdk.out, with infra's pinned
# Node 22 first on PATH (docs/platform.md §4). Extra arguments go to `cdk synth`,
# e.g. ./synth.sh -c databaseUrl=libsql://… -c trustedOrigins=https://app.example.com
# Needs the Lambda packages: run `make build` in the repository root first.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x node_modules/.bin/cdk ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
export PATH="$PWD/node_modules/.bin:$PATH"
export CDK_DISABLE_CLI_TELEMETRY=true
exec cdk synth --quiet --no-notices "$@"
