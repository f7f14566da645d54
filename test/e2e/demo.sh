#!/usr/bin/env bash
# `npm run demo`: MCP Token Manager in a real VS Code (code-server) on http://127.0.0.1:PORT/,
# from a fresh clone: installs the dependencies if needed, the e2e tools (test/e2e/setup.sh), builds
# and installs the .vsix, opens a copy of test/fixtures/demo-workspace (in ~/.cache/mcp-tokens-e2e/demo),
# and runs until Ctrl-C.
# State (settings, installed extension, code-server's half of the secret-storage key) persists in
# ~/.cache/mcp-tokens-e2e/demo; the tokens themselves live in your browser's storage for that origin.
# Environment: MCP_TOKENS_DEMO_PORT (default 8080; the next free port is used if it is taken),
# MCP_TOKENS_DEMO_DIR (the state directory, default ~/.cache/mcp-tokens-e2e/demo).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO="$(pwd)"
CACHE="${MCP_TOKENS_CACHE:-$HOME/.cache/mcp-tokens-e2e}"
DEMO="${MCP_TOKENS_DEMO_DIR:-$CACHE/demo}"
log() { printf '[demo] %s\n' "$*" >&2; }

if [ ! -d node_modules ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
fi
bash test/e2e/setup.sh
# shellcheck disable=SC1091
source "$CACHE/env.sh"
mkdir -p "$DEMO/user-data/User" "$DEMO/extensions" "$DEMO/home"
log "npm run package"
npm run --silent package >"$DEMO/package.log" 2>&1 || { cat "$DEMO/package.log" >&2; exit 1; }
VSIX="$REPO/dist/mcp-token-manager.vsix"

if [ ! -f "$DEMO/user-data/User/settings.json" ]; then
  cat > "$DEMO/user-data/User/settings.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false
}
JSON
fi

NODE="$MCP_TOKENS_NODE24_BIN/node"
export PATH="$MCP_TOKENS_NODE24_BIN:$PATH"
cs() { HOME="$DEMO/home" XDG_CONFIG_HOME="$DEMO/home/.config" XDG_DATA_HOME="$DEMO/home/.local/share" \
  "$NODE" "$MCP_TOKENS_CODE_SERVER" --user-data-dir "$DEMO/user-data" --extensions-dir "$DEMO/extensions" "$@"; }

log "installing $(basename "$VSIX") ($(du -h "$VSIX" | cut -f1))"
cs --force --install-extension "$VSIX" >"$DEMO/install.log" 2>&1 || { cat "$DEMO/install.log" >&2; exit 1; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT="${MCP_TOKENS_DEMO_PORT:-8080}"
for _ in $(seq 1 50); do port_free "$PORT" && break; PORT=$((PORT + 1)); done
port_free "$PORT" || { log "no free port found"; exit 1; }

# The demo works on its own copy of the sample workspace (kept between runs, so your changes stay).
WORKSPACE="$DEMO/demo-workspace"
[ -d "$WORKSPACE" ] || cp -R "$REPO/test/fixtures/demo-workspace" "$WORKSPACE"
# The path VS Code will show (no "..", "//" or symlinks): the trust page trusts exactly this folder.
WORKSPACE="$(cd "$WORKSPACE" && pwd -P)"
# Its server, a small local MCP server from the test fixtures, is seeded into the copy's
# .vscode/mcp.tokens.json, so it can start as soon as its token is set: the demo trusts this folder
# (the trust page below) and only this folder.
SERVERS="$WORKSPACE/.vscode/mcp.tokens.json"
if [ ! -f "$SERVERS" ]; then
  mkdir -p "$(dirname "$SERVERS")"
  cat > "$SERVERS" <<'JSON'
{
  // Servers that use tokens live here (per folder, trusted folders only) or in the user-level
  // mcp.tokens.json ("MCP Tokens: Open User Servers File"): VS Code does not read these files itself;
  // MCP Token Manager serves their servers and puts the token values in at each start (after asking
  // you once).
  "servers": {
    "demo-echo": {
      "type": "stdio",
      "command": "node",
      "args": ["${env:MCP_TOKENS_DEMO_FIXTURES}/stdio-server.mjs"],
      "env": { "FIXTURE_TOKEN": "$<TOKEN:bearer:github>" }
    }
  }
}
JSON
fi
export MCP_TOKENS_DEMO_FIXTURES="$REPO/test/fixtures/mcp-servers"

URL="http://127.0.0.1:$PORT/"
log "starting code-server on $URL (log: $DEMO/code-server.log)"
# Own process group, so Ctrl-C / exit stops code-server and everything it started.
set -m
cs --auth none --bind-addr "127.0.0.1:$PORT" --disable-telemetry --disable-update-check \
  --disable-getting-started-override "$WORKSPACE" >"$DEMO/code-server.log" 2>&1 &
CS_PID=$!
set +m
TRUST_PID=
stop() {
  [ -z "$TRUST_PID" ] || kill -TERM -- "-$TRUST_PID" 2>/dev/null || true
  kill -TERM -- "-$CS_PID" 2>/dev/null || true
  wait "$CS_PID" 2>/dev/null || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

for _ in $(seq 1 120); do
  if curl -fsS -o /dev/null "${URL}healthz" 2>/dev/null; then break; fi
  kill -0 "$CS_PID" 2>/dev/null || { log "code-server exited:"; tail -20 "$DEMO/code-server.log" >&2; exit 1; }
  sleep 0.25
done
curl -fsS -o /dev/null "${URL}healthz" || { log "code-server did not start"; exit 1; }

# The trust page (test/e2e/demoTrust.mjs): code-server keeps workspace trust in the browser, per origin,
# so a page on code-server's own origin (its path proxy, /proxy/PORT/) adds the sample folder, and only
# it, to the browser's trusted folders and opens it. Its own process group, stopped with the demo.
rm -f "$DEMO/trust-port"
set -m
"$NODE" "$REPO/test/e2e/demoTrust.mjs" "$WORKSPACE" "$DEMO/trust-port" "$PORT" >"$DEMO/trust.log" 2>&1 &
TRUST_PID=$!
set +m
for _ in $(seq 1 40); do [ -s "$DEMO/trust-port" ] && break; sleep 0.25; done
[ -s "$DEMO/trust-port" ] || { log "the trust page did not start:"; cat "$DEMO/trust.log" >&2; exit 1; }
OPEN_URL="${URL}proxy/$(cat "$DEMO/trust-port")/"

cat <<EOF

  MCP Token Manager demo is running:  $OPEN_URL

  Open it in a browser on this machine (close other tabs of $URL first: an open workbench keeps its
  own copy of the trusted folders): it trusts the sample folder (only it) in that browser and opens
  it ($URL opens code-server without that step; any other folder asks about trust as usual).
  Try: MCP Tokens in the activity bar → Set Token… (bearer:github), hover \$<TOKEN:bearer:github> in
  .vscode/mcp.json and read its warning, then start "demo-echo" from the Servers view: it is served
  from .vscode/mcp.tokens.json with the value put in at launch.
  Help → Get Started → "Get Started with MCP Token Manager" walks through the rest.
  Press Ctrl-C to stop.

EOF
wait "$CS_PID"
