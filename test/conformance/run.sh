#!/usr/bin/env bash
# Runs the official MCP conformance suite's client auth scenarios (@modelcontextprotocol/conformance
# `client --suite auth`) against this project's OAuth command-line client (extension/oauth/cli.ts),
# and prints the suite's own results. The suite needs Node >= 22: it runs on the Node 24 that
# test/e2e/setup.sh installs in ~/.cache/mcp-tokens-e2e (with the conformance package); the client
# under test runs on the project's Node. Exits non-zero when a scenario fails.
#   SUITE=auth (default) | draft | backcompat | all ...   SCENARIO=auth/scope-step-up (one scenario)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${MCP_TOKENS_CACHE:-$HOME/.cache/mcp-tokens-e2e}"
CONFORMANCE_VERSION="0.2.0-alpha.12"
CONFORMANCE="$CACHE/conformance-$CONFORMANCE_VERSION/node_modules/.bin/conformance"
if [ ! -f "$CACHE/env.sh" ] || [ ! -x "$CONFORMANCE" ]; then
  bash "$ROOT/test/e2e/setup.sh"
fi
# shellcheck disable=SC1091
source "$CACHE/env.sh"
NODE_PROJECT="$(command -v node)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/mcp-tokens-conformance.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# Bundle the client on its own (dist/ belongs to the extension build).
"$ROOT/node_modules/.bin/esbuild" "$ROOT/extension/oauth/cli.ts" --bundle --platform=node \
  --target=node20 --format=cjs --log-level=warning --outfile="$WORK/mcp-tokens-oauth-cli.js"

OUT="$ROOT/test-results/conformance"
mkdir -p "$OUT"
CLIENT="$NODE_PROJECT $WORK/mcp-tokens-oauth-cli.js --call test-tool --client-metadata-url https://conformance-test.local/client-metadata.json"
if [ -n "${SCENARIO:-}" ]; then
  SELECT=(--scenario "$SCENARIO")
else
  SELECT=(--suite "${SUITE:-auth}")
fi
cd "$WORK"
PATH="$MCP_TOKENS_NODE24_BIN:$PATH" "$CONFORMANCE" client --command "$CLIENT" "${SELECT[@]}" -o "$OUT" 2>&1 |
  sed -n '/=== SUITE SUMMARY ===/,$p;/^Test Results:/,$p;/OVERALL/p'
exit "${PIPESTATUS[0]}"
