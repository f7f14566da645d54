import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  describeStoredToken,
  mcpCliAccount,
  mcpCliClientRegistrationFile,
  mergeMcpCliOAuth,
  oauthFactsFromStoredToken,
  parseRegistry,
  refreshTokenFromStoredToken,
  registerToken,
  registryTokens,
  toStoredToken,
  unregisterToken,
  valueFromStoredToken,
} from '../../extension/backends/mcpCliLayout';
import { McpCliRegistry, defaultRegistryPath } from '../../extension/backends/mcpCliRegistry';

const tmp = mkdtempSync(join(tmpdir(), 'mcp-cli-layout-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('mcp-cli StoredToken layout', () => {
  it('writes bearer, api_key and oauth tokens in mcp-cli\'s shape', () => {
    assert.deepEqual(toStoredToken({ namespace: 'bearer', name: 'gh' }, 'tok', { type: 'bearer' }), {
      token_type: 'bearer',
      name: 'gh',
      data: { token: 'tok' },
      metadata: { namespace: 'bearer' },
    });
    assert.deepEqual(toStoredToken({ namespace: 'api-key', name: 'oa' }, 'sk-1', { type: 'api-key', provider: 'openai' }), {
      token_type: 'api_key',
      name: 'oa',
      data: { provider: 'openai', key: 'sk-1' },
      metadata: { namespace: 'api-key' },
    });
    const expiring = toStoredToken({ namespace: 'bearer', name: 'e' }, 'v', { type: 'bearer', expiresAt: '2030-01-01T00:00:00.000Z' });
    assert.equal(expiring.data.expires_at, Date.parse('2030-01-01T00:00:00Z') / 1000);
    const oauth = toStoredToken({ namespace: 'oauth', name: 'srv' }, 'at-1', { type: 'oauth' });
    assert.deepEqual(oauth.data, { access_token: 'at-1', token_type: 'Bearer' });
    // Generic secrets are stored like mcp-cli's store_generic (bearer) and keep their own type.
    const generic = toStoredToken({ namespace: 'generic', name: 'g' }, 'gv', { type: 'generic' });
    assert.equal(generic.token_type, 'bearer');
    assert.equal(describeStoredToken(JSON.stringify(generic)).type, 'generic');
  });

  it('reads the value of every mcp-cli token type', () => {
    const s = (o: unknown) => JSON.stringify(o);
    assert.equal(valueFromStoredToken(s({ token_type: 'bearer', name: 'a', data: { token: 'b1' } })), 'b1');
    assert.equal(valueFromStoredToken(s({ token_type: 'api_key', name: 'a', data: { provider: 'x', key: 'k1' }, metadata: null })), 'k1');
    assert.equal(valueFromStoredToken(s({ token_type: 'oauth', name: 'a', data: { access_token: 'at', token_type: 'Bearer' } })), 'at');
    // An OAuth entry resolves to its access token only: the refresh token never leaves the store.
    const full = { access_token: 'at', refresh_token: 'rt-secret-refresh', expires_in: 3600, token_type: 'Bearer', scope: 'a b' };
    assert.equal(valueFromStoredToken(s({ token_type: 'oauth', name: 'a', data: full })), 'at');
    assert.equal(valueFromStoredToken(s({ token_type: 'basic_auth', name: 'a', data: { username: 'u', password: 'p' } })), 'p');
  });

  it('rejects malformed entries without echoing them', () => {
    assert.throws(() => valueFromStoredToken('not json SECRETVALUE'), (e: Error) => !e.message.includes('SECRETVALUE'));
    assert.throws(() => valueFromStoredToken(JSON.stringify({ token_type: 'bearer', name: 'a', data: { nope: 'SECRETVALUE' } })), (e: Error) => /"token"/.test(e.message) && !e.message.includes('SECRETVALUE'));
    assert.throws(() => valueFromStoredToken(JSON.stringify({ token_type: 'weird', name: 'a', data: {} })), /shape/);
  });

  it('sanitizes the account like mcp-cli (letters, digits, - _ : kept)', () => {
    assert.equal(mcpCliAccount({ namespace: 'bearer', name: 'my-token_1' }), 'bearer:my-token_1');
    assert.equal(mcpCliAccount({ namespace: 'team.x', name: 'a.b' }), 'team_x:a_b');
  });
});

describe('mcp-cli token registry', () => {
  const now = new Date('2026-11-23T12:00:00Z');

  it('registers and unregisters entries as mcp-cli does', () => {
    let r = registerToken({}, { namespace: 'api-key', name: 'oa' }, { type: 'api-key', provider: 'openai' }, now);
    assert.deepEqual(r['api-key:oa'], { name: 'oa', type: 'api_key', namespace: 'api-key', registered_at: now.getTime() / 1000, metadata: { provider: 'openai' } });
    const later = new Date(now.getTime() + 60_000);
    r = registerToken(r, { namespace: 'api-key', name: 'oa' }, { type: 'api-key', provider: 'openai', expiresAt: '2030-01-01T00:00:00Z' }, later);
    assert.equal((r['api-key:oa'] as { registered_at: number }).registered_at, now.getTime() / 1000, 'registered_at is kept');
    assert.equal((r['api-key:oa'] as { metadata: { expires_at: number } }).metadata.expires_at, Date.parse('2030-01-01T00:00:00Z') / 1000);
    assert.deepEqual(unregisterToken(r, { namespace: 'api-key', name: 'oa' }), {});
  });

  it('lists registry entries as discovered tokens, skipping invalid ones', () => {
    const text = JSON.stringify({
      'bearer:py': { name: 'py', type: 'bearer', namespace: 'bearer', registered_at: 1700000000.5, metadata: { expires_at: 1900000000 } },
      'provider:anthropic': { name: 'anthropic', type: 'api_key', namespace: 'provider', registered_at: 1700000000, metadata: { provider: 'anthropic' } },
      'bad key': { name: 'bad key', type: 'bearer', namespace: 'x' },
      'x:y': 'not an object',
    });
    const list = registryTokens(parseRegistry(text));
    assert.deepEqual(
      list.map((t) => [t.namespace, t.name, t.type, t.provider]),
      [
        ['bearer', 'py', 'bearer', undefined],
        ['provider', 'anthropic', 'api-key', 'anthropic'],
      ],
    );
    assert.equal(list[0].expiresAt, new Date(1900000000 * 1000).toISOString());
    assert.equal(list[0].createdAt, new Date(1700000000500).toISOString());
    assert.deepEqual(parseRegistry('{broken'), {});
    assert.deepEqual(parseRegistry('[1,2]'), {});
  });

  it('keeps the registry file in step, mode 0600, preserving entries written by mcp-cli', async () => {
    const path = defaultRegistryPath(tmp);
    assert.equal(path, join(tmp, '.chuk_oauth', 'token_registry.json'));
    mkdirSync(join(tmp, '.chuk_oauth'), { recursive: true });
    writeFileSync(path, JSON.stringify({ 'oauth:server': { name: 'server', type: 'oauth', namespace: 'oauth', registered_at: 1, metadata: {}, extra: true } }));
    const reg = new McpCliRegistry(path, () => now);
    await reg.register({ namespace: 'bearer', name: 'vs' }, { type: 'bearer' });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const json = JSON.parse(readFileSync(path, 'utf8'));
    assert.deepEqual(Object.keys(json).sort(), ['bearer:vs', 'oauth:server']);
    assert.equal(json['oauth:server'].extra, true);
    assert.deepEqual((await reg.list()).map((t) => `${t.namespace}:${t.name}`).sort(), ['bearer:vs', 'oauth:server']);
    await reg.unregister({ namespace: 'bearer', name: 'vs' });
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(path, 'utf8'))), ['oauth:server']);
    const missing = new McpCliRegistry(join(tmp, 'nope', 'token_registry.json'));
    assert.deepEqual(await missing.list(), []);
  });
});

describe('mcp-cli OAuth entries (finding 7)', () => {
  const key = { namespace: 'oauth', name: 'srv' };
  const entry = JSON.stringify({
    token_type: 'oauth',
    name: 'srv',
    data: { access_token: 'at-old', refresh_token: 'rt-old', token_type: 'Bearer', expires_in: 3600, issued_at: 1000, scope: 'mcp:read', extra: 'kept' },
    metadata: { namespace: 'oauth', oauth_client_id: 'cli-app', oauth_server_url: 'https://mcp.example.com/mcp' },
  });

  it('the reference value is the access token; the refresh token is read separately', () => {
    assert.equal(valueFromStoredToken(entry), 'at-old');
    assert.equal(refreshTokenFromStoredToken(entry), 'rt-old');
    assert.equal(refreshTokenFromStoredToken(JSON.stringify({ token_type: 'bearer', name: 'x', data: { token: 't', refresh_token: 'r' } })), undefined);
    assert.deepEqual(oauthFactsFromStoredToken(entry), { issuer: undefined, clientId: 'cli-app', serverUrl: 'https://mcp.example.com/mcp', resource: undefined, scopes: ['mcp:read'] });
  });

  it('merging a refresh writes mcp-cli\'s fields back and keeps the others', () => {
    const now = 2_000_000;
    const merged = JSON.parse(
      mergeMcpCliOAuth(entry, key, { accessToken: 'at-new', meta: { expiresAt: new Date(now + 600_000).toISOString(), oauth: { issuer: 'https://auth.example.com/' } } }, now)!,
    );
    assert.equal(merged.token_type, 'oauth');
    assert.equal(merged.data.access_token, 'at-new');
    assert.equal(merged.data.refresh_token, 'rt-old');
    assert.equal(merged.data.extra, 'kept');
    assert.equal(merged.data.issued_at, now / 1000);
    assert.equal(merged.data.expires_in, 600);
    assert.equal(merged.metadata.oauth_issuer, 'https://auth.example.com/');
    assert.equal(merged.metadata.oauth_client_id, 'cli-app');
    const rotated = JSON.parse(mergeMcpCliOAuth(JSON.stringify(merged), key, { refreshToken: 'rt-new' })!);
    assert.equal(rotated.data.refresh_token, 'rt-new');
    assert.equal(rotated.data.access_token, 'at-new');
    assert.equal(JSON.parse(mergeMcpCliOAuth(JSON.stringify(rotated), key, { refreshToken: null })!).data.refresh_token, undefined);
    assert.equal(mergeMcpCliOAuth(JSON.stringify({ token_type: 'bearer', name: 'x', data: { token: 't' } }), key, { refreshToken: 'r' }), undefined);
    assert.equal(mcpCliClientRegistrationFile('my server.v2'), 'my_server_v2_client.json');
  });
});
