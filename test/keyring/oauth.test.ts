/**
 * Finding 7 against a real Secret Service (gnome-keyring) with mcp-cli's library standing in for
 * mcp-cli (Debian's python3-keyring): an OAuth StoredToken that mcp-cli wrote (access and refresh
 * token) resolves to the access token only; the extension refreshes it at the local OAuth server
 * (test/oauth/fixtures, 127.0.0.1) and writes the new tokens back in mcp-cli's layout; without a
 * client it is marked "sign-in required". Run by test/keyring/run.sh.
 */
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { after, describe, it } from 'node:test';
import type { OAuthUi } from '../../extension/oauth/manager';
import { OAuthManager } from '../../extension/oauth/manager';
import { fillTemplate, templateOf } from '../../extension/runtime/resolve';
import { startTestOAuthServer, type TestOAuthServer } from '../oauth/fixtures/oauthServer';
import { CLIENT, makeKeyringStore, mcpCliSignedIn, python } from './support';

const servers: TestOAuthServer[] = [];
const managers: OAuthManager[] = [];
after(async () => {
  for (const m of managers) m.dispose();
  for (const s of servers) await s.close();
});

async function oauthServer() {
  const s = await startTestOAuthServer({
    clients: [{ client_id: CLIENT, redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] }],
  });
  servers.push(s);
  return s;
}

function manager(store: ReturnType<typeof makeKeyringStore>['store'], keyring: ReturnType<typeof makeKeyringStore>['keyring'], logs: string[]) {
  const ui: OAuthUi = {
    openBrowser: async () => {
      throw new Error('no browser in this test');
    },
    withProgress: (_t, task) => task(() => undefined, new AbortController().signal),
    confirmSignIn: async () => false,
  };
  const m = new OAuthManager(store, ui, { log: (level, msg) => logs.push(`${level}: ${msg}`), externalGrant: (meta) => keyring.oauthGrant(meta) });
  managers.push(m);
  return m;
}

/** What a launch of a server with `Authorization: Bearer $<TOKEN:oauth:name>` receives. */
async function launchHeader(store: ReturnType<typeof makeKeyringStore>['store'], name: string): Promise<string> {
  const problems: string[] = [];
  const values = new Map<string, string>([[`oauth:${name}`, (await store.getValue({ namespace: 'oauth', name }))!]]);
  // The provider's two steps for one header: the template (variables, inputs), then the token values.
  const field = 'headers.Authorization';
  const template = templateOf(`Bearer $<TOKEN:oauth:${name}>`, field, { userHome: homedir(), pathSeparator: '/', env: {} }, { input: () => undefined }, problems);
  const header = fillTemplate(template, field, (k) => values.get(`${k.namespace}:${k.name}`), problems);
  assert.deepEqual(problems, []);
  return header;
}

describe('mcp-cli OAuth entries in the keyring (python3-keyring as mcp-cli)', () => {
  it('resolves to the access token only; the extension refreshes it and writes back in mcp-cli\'s layout', async () => {
    const s = await oauthServer();
    const access = 'at-from-mcp-cli-7c1d';
    const refresh = 'rt-from-mcp-cli-9f2e';
    s.accessTokens.set(access, { clientId: CLIENT, scopes: ['mcp:read'], resource: s.mcpUrl, expiresAt: Date.now() + 10_000 });
    s.refreshTokens.set(refresh, { clientId: CLIENT, scopes: ['mcp:read'], resource: s.mcpUrl, expiresAt: Number.MAX_SAFE_INTEGER });
    mcpCliSignedIn('pyserver', access, refresh, true);

    const { store, keyring, logs } = makeKeyringStore();
    await store.ready();
    await store.refresh();
    const key = { namespace: 'oauth', name: 'pyserver' };
    assert.equal(store.get(key)?.type, 'oauth');
    assert.equal(await store.getValue(key), access, 'the reference resolves to the access token, not the StoredToken JSON');
    const before = await launchHeader(store, 'pyserver');
    assert.equal(before, `Bearer ${access}`);

    // At server start: it expires within seconds, so the extension refreshes it itself.
    const m = manager(store, keyring, logs);
    assert.equal(await m.ensureFresh(key, { name: 'pyserver', url: s.mcpUrl }), true);
    assert.equal(s.grants.refresh_token, 1);
    const newAccess = await store.getValue(key);
    assert.ok(newAccess && newAccess !== access && s.accessTokens.has(newAccess));
    assert.equal(await launchHeader(store, 'pyserver'), `Bearer ${newAccess}`);

    // Written back where mcp-cli reads it: the same entry, new access token, the rotated refresh token.
    const entry = JSON.parse(python("import keyring; print(keyring.get_password('mcp-cli', 'oauth:pyserver'))"));
    assert.equal(entry.token_type, 'oauth');
    assert.equal(entry.data.access_token, newAccess);
    assert.ok(entry.data.refresh_token !== refresh && s.refreshTokens.has(entry.data.refresh_token), 'the rotated refresh token is stored for mcp-cli');
    assert.ok(!s.refreshTokens.has(refresh));
    assert.ok(entry.data.expires_in > 3000);
    assert.equal(entry.data.scope, 'mcp:read');
    assert.equal(python("import keyring; print(keyring.get_password('mcp-cli', 'oauth-refresh:pyserver'))"), 'None', 'no second keyring entry');

    // The refresh tokens never reached a launch or a log line.
    for (const rt of [refresh, entry.data.refresh_token as string]) {
      assert.ok(!before.includes(rt) && !(await launchHeader(store, 'pyserver')).includes(rt));
      assert.ok(!logs.some((l) => l.includes(rt)), logs.join('\n'));
    }
    assert.ok(!JSON.stringify(store.listAll()).includes(entry.data.refresh_token));
  });

  it('without a known client it cannot be refreshed: marked "sign-in required", and still only the access token resolves', async () => {
    const s = await oauthServer();
    const access = 'at-orphan-3b8a';
    const refresh = 'rt-orphan-6d0c';
    mcpCliSignedIn('orphan', access, refresh, false);
    const { store, keyring, logs } = makeKeyringStore();
    await store.ready();
    await store.refresh();
    const key = { namespace: 'oauth', name: 'orphan' };
    const m = manager(store, keyring, logs);
    assert.equal(await m.refresh(key, { force: true, server: { url: s.mcpUrl } }), 'sign-in-required');
    assert.equal(store.get(key)?.oauth?.signInRequired, true);
    assert.equal(await store.getValue(key), access);
    assert.equal(s.grants.refresh_token, 0);
    assert.ok(!logs.some((l) => l.includes(refresh)));
    // mcp-cli's entry is untouched.
    assert.equal(JSON.parse(python("import keyring; print(keyring.get_password('mcp-cli', 'oauth:orphan'))")).data.refresh_token, refresh);
  });
});
