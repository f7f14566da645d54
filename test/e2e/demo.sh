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
# Its server, a small local MCP server from the test fixtures, is seeded into the demo's *user* servers
# file (what "MCP Tokens: Open User Servers File" opens), so it can start right away, whatever VS Code
# decides about the folder's trust. code-server keeps workspace trust in the browser (per origin), where
# no script can grant it, and --disable-workspace-trust would trust every folder: so the sample folder
# opens as VS Code decides (it asks once; Restricted Mode stays on for it and any other folder until you
# trust it), and only servers in .vscode/mcp.tokens.json wait for that trust.
USER_SERVERS="$DEMO/user-data/User/globalStorage/mcp-tokens.mcp-token-manager/mcp.tokens.json"
if [ ! -f "$USER_SERVERS" ]; then
  mkdir -p "$(dirname "$USER_SERVERS")"
  cat > "$USER_SERVERS" <<'JSON'
{
  // Servers that use tokens live here (user level) or in .vscode/mcp.tokens.json (per folder, trusted
  // folders only): VS Code does not read these files itself; MCP Token Manager serves their servers and
  // puts the token values in at each start (after asking you once).
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
stop() { kill -TERM -- "-$CS_PID" 2>/dev/null || true; wait "$CS_PID" 2>/dev/null || true; }
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

for _ in $(seq 1 120); do
  if curl -fsS -o /dev/null "${URL}healthz" 2>/dev/null; then break; fi
  kill -0 "$CS_PID" 2>/dev/null || { log "code-server exited:"; tail -20 "$DEMO/code-server.log" >&2; exit 1; }
  sleep 0.25
done
curl -fsS -o /dev/null "${URL}healthz" || { log "code-server did not start"; exit 1; }

cat <<EOF

  MCP Token Manager demo is running:  $URL

  Open it in a browser on this machine. Try: MCP Tokens in the activity bar → Set Token… (bearer:github),
  hover \$<TOKEN:bearer:github> in .vscode/mcp.json and read its warning, then start "demo-echo"
  from the Servers view: it is served from your user servers file with the value put in at launch.
  Help → Get Started → "Get Started with MCP Token Manager" walks through the rest.
  Press Ctrl-C to stop.

EOF
wait "$CS_PID"
