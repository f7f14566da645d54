// `npm run demo`'s trust page. code-server keeps workspace trust where VS Code for the Web keeps it:
// in the browser, in the application-shared storage of the workbench's origin (IndexedDB
// `vscode-web-state-db-global-shared`, key `content.trust.model.key`, the JSON of VS Code's
// WorkspaceTrustManagementService: `{ uriTrustInfo: [{ uri, trusted }] }`). No server-side file,
// setting or flag trusts one folder (`--disable-workspace-trust` and
// `security.workspace.trust.enabled: false` trust every folder). So the demo serves this page, on
// the workbench's own origin through code-server's path proxy (/proxy/PORT/), and the page adds the
// demo's sample folder, and only it, to this browser's trusted folders, then opens the folder.
// Any other folder stays untrusted: VS Code asks, and Restricted Mode stays on until you trust it.
// test/e2e/demo.e2e.ts checks both. The storage format is VS Code's and may change with code-server:
// the demo pins code-server 4.139.1 (test/e2e/setup.sh), and the test fails if the page stops working.
//
// Usage: node demoTrust.mjs <folder> <port-file> <code-server port>. Listens on 127.0.0.1 (an
// ephemeral port, written to <port-file>) until it is killed with the demo's process group. It answers
// only `GET` with a loopback Host (no DNS rebinding: the page names a local path), and the page writes
// nothing unless it runs on code-server's origin, through its proxy.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [folder, portFile, codeServerPort] = process.argv.slice(2);
if (!folder?.startsWith('/') || !portFile || !/^\d+$/.test(codeServerPort ?? '')) {
  console.error('usage: node demoTrust.mjs <absolute folder> <port-file> <code-server port>');
  process.exit(2);
}

function trustAndOpen(folderPath, port) {
  const KEY = 'content.trust.model.key';
  const DB = 'vscode-web-state-db-global-shared';
  const STORE = 'ItemTable';
  const done = (text) => {
    document.getElementById('status').textContent = text;
  };
  const request = (r) =>
    new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  (async () => {
    // Only on code-server's origin (reached through its path proxy): elsewhere the storage is not the workbench's.
    if (location.port !== port || !location.pathname.startsWith('/proxy/')) {
      done(`Open this page as http://127.0.0.1:${port}/proxy/${location.port}/ (through code-server), not directly.`);
      return;
    }
    const open = indexedDB.open(DB);
    // First visit: the database VS Code would create (one object store, keys out of line).
    open.onupgradeneeded = () => {
      if (!open.result.objectStoreNames.contains(STORE)) open.result.createObjectStore(STORE);
    };
    const db = await request(open);
    const tx = db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    let model = { uriTrustInfo: [] };
    try {
      const stored = await request(store.get(KEY));
      if (typeof stored === 'string') model = JSON.parse(stored);
    } catch {
      // Unreadable: start from an empty list (VS Code does the same).
    }
    if (!Array.isArray(model.uriTrustInfo)) model.uriTrustInfo = [];
    const authority = location.host.toLowerCase();
    const known = model.uriTrustInfo.some(
      (i) => i && i.trusted && i.uri && i.uri.scheme === 'vscode-remote' && String(i.uri.authority).toLowerCase() === authority && i.uri.path === folderPath,
    );
    if (!known) model.uriTrustInfo.push({ uri: { $mid: 1, scheme: 'vscode-remote', authority, path: folderPath }, trusted: true });
    store.put(JSON.stringify(model), KEY);
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
    db.close();
    done(`Trusted ${folderPath} in this browser. Opening it…`);
    location.replace(`${location.origin}/?folder=${encodeURIComponent(folderPath)}`);
  })().catch((e) => done(`Could not record the trust (${e}). Open / and answer VS Code's trust question instead.`));
}

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MCP Token Manager demo</title></head>
<body style="font-family: system-ui, sans-serif; margin: 3em">
<h1>MCP Token Manager demo</h1>
<p id="status">Trusting the demo's sample folder in this browser…</p>
<script>(${trustAndOpen.toString()})(${JSON.stringify(folder).replace(/</g, '\\u003c')}, ${JSON.stringify(codeServerPort)});</script>
</body></html>
`;

const LOOPBACK_HOST = /^(127\.0\.0\.1|0\.0\.0\.0|localhost|\[::1\])(:\d+)?$/i;
const server = createServer((req, res) => {
  if (req.method !== 'GET' || !LOOPBACK_HOST.test(req.headers.host ?? '')) {
    res.writeHead(req.method !== 'GET' ? 405 : 403).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
});
server.listen(0, '127.0.0.1', () => writeFileSync(portFile, String(server.address().port)));
