#!/usr/bin/env bash
# Keyring tests against a real Secret Service: Debian's gnome-keyring under dbus-run-session, with a
# fresh HOME (so the keyring files and mcp-cli's ~/.chuk_oauth registry live in a temporary folder),
# unlocked with a throw-away password. Interop is checked with Debian's python3-keyring
# (/usr/bin/python3, the library mcp-cli uses). Packages come only from test/e2e/setup.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

if [ "$(uname -s)" != "Linux" ]; then
  echo "[keyring] skipped: these tests need Linux (gnome-keyring under dbus-run-session)." >&2
  exit 0
fi

missing=0
command -v dbus-run-session >/dev/null || missing=1
command -v gnome-keyring-daemon >/dev/null || missing=1
/usr/bin/python3 -c 'import keyring, secretstorage' 2>/dev/null || missing=1
if [ "$missing" = 1 ]; then
  echo "[keyring] installing gnome-keyring, dbus and python3-keyring through test/e2e/setup.sh" >&2
  bash test/e2e/setup.sh
fi

NODE="$(command -v node)"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/mcp-keyring-test.XXXXXX")"
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT
export MCP_TOKENS_KEYRING_PASSWORD="test-keyring-password"

status=0
echo "[keyring] noService.test.ts without a D-Bus session (no Secret Service)"
mkdir -p "$TMP/no-service/data"
env -u DBUS_SESSION_BUS_ADDRESS HOME="$TMP/no-service" XDG_DATA_HOME="$TMP/no-service/data" \
  "$NODE" --import tsx --test --test-reporter=spec test/keyring/noService.test.ts || status=1

for suite in keyring locked oauth discovery launcher; do
  echo "[keyring] $suite.test.ts under dbus-run-session with gnome-keyring"
  home="$TMP/$suite"
  mkdir -p "$home/data" "$home/run"
  chmod 700 "$home/run"
  HOME="$home" XDG_DATA_HOME="$home/data" XDG_RUNTIME_DIR="$home/run" dbus-run-session -- bash -c '
    set -euo pipefail
    echo -n "$MCP_TOKENS_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    rc=0
    "$0" --import tsx --test --test-reporter=spec --test-concurrency=1 "$1" || rc=$?
    # Stop the keyring daemon this session started (found by its bus name, not by process name).
    pid=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets 2>/dev/null | awk "/uint32/ {print \$2}") || true
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
    exit $rc
  ' "$NODE" "test/keyring/$suite.test.ts" 2> >(grep -v -e 'dbus-daemon\[' -e 'Failed to set fd limit' -e 'cannot open display' -e '^$' >&2) || status=1
done
exit $status
