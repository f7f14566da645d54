import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMcpConfig, type ServerEntry } from '../../server/core/mcpConfig';
import { containsLiteralReference, definitionVersion, finishLaunch, needsOf, planLaunch, ResolveError, scan, unresolvedText, type ResolvedLaunch, type VariableContext } from '../../extension/runtime/resolve';
import { keyId } from '../../server/core/reference';

const ctx: VariableContext = { workspaceFolder: '/home/u/proj', userHome: '/home/u', pathSeparator: '/', env: { HOME: '/home/u', EMPTY: '' } };
const SECRET = 'sk-live-ABCDEF0123456789';
const OTHER = 'other-secret-value';
const tokens: Record<string, string> = { 'bearer:gh': SECRET, 'api-key:x': OTHER };
const values = { token: (k: { namespace: string; name: string }) => tokens[keyId(k)], input: (id: string) => (id === 'region' ? 'eu' : undefined) };

/** A start's two steps as the provider runs them: the plan (variables, inputs), then the token values. */
function resolveEntry(e: ServerEntry, c: VariableContext, v: typeof values): ResolvedLaunch {
  return finishLaunch(planLaunch(e, c, v, c.workspaceFolder ?? c.userHome), (k) => v.token(k));
}

function entry(json: object): ServerEntry {
  const parsed = parseMcpConfig(JSON.stringify({ servers: { s: json } }));
  assert.equal(parsed.servers.length, 1, JSON.stringify(parsed.problems));
  return parsed.servers[0];
}

test('scan splits text, both reference forms and variables', () => {
  assert.deepEqual(
    scan('a $<TOKEN:bearer:gh> ${TOKEN:api-key:x} ${env:HOME}${/}b').map((s) => s.kind),
    ['text', 'token', 'text', 'token', 'text', 'variable', 'variable', 'text'],
  );
  assert.deepEqual(scan('$<token:a:b>')[0].kind, 'malformed');
});

test('resolves tokens and variables in command, args, env and cwd of a stdio server', () => {
  const e = entry({
    command: '${userHome}${pathSeparator}bin/srv',
    args: ['--token', '$<TOKEN:bearer:gh>', '--dir=${workspaceFolder}', '${workspaceFolderBasename}', '--region=${input:region}'],
    env: { GH: 'Bearer ${TOKEN:bearer:gh}', X: '$<TOKEN:api-key:x>', H: '${env:HOME}', U: '${env:UNSET_VAR_XYZ}', KEEP: 'plain', DROP: null },
    cwd: '${workspaceFolder}/sub',
  });
  assert.deepEqual(needsOf(e), { tokens: [{ namespace: 'bearer', name: 'gh' }, { namespace: 'api-key', name: 'x' }], inputs: ['region'] });
  const launch = resolveEntry(e, ctx, values);
  assert.deepEqual(launch, {
    kind: 'stdio',
    command: '/home/u/bin/srv',
    args: ['--token', SECRET, '--dir=/home/u/proj', 'proj', '--region=eu'],
    env: { GH: `Bearer ${SECRET}`, X: OTHER, H: '/home/u', U: '', KEEP: 'plain', DROP: null },
    cwd: '/home/u/proj/sub',
  });
});

test('resolves url and headers of an HTTP server', () => {
  const e = entry({ type: 'http', url: 'https://h.example/${env:HOME}/mcp', headers: { Authorization: 'Bearer $<TOKEN:bearer:gh>' } });
  assert.deepEqual(resolveEntry(e, ctx, values), { kind: 'http', url: 'https://h.example//home/u/mcp', headers: { Authorization: `Bearer ${SECRET}` } });
});

test('a missing token, an unknown variable or a missing input fails naming them and never a value', () => {
  const e = entry({ command: 'x', args: ['$<TOKEN:bearer:gh>', '$<TOKEN:bearer:absent>', '${config:foo}', '${input:nope}', '${command:evil}'], env: { A: '${workspaceFolder}' } });
  // A missing token is found when the values are filled in (step 2), after consent.
  const known = entry({ command: 'x', args: ['$<TOKEN:bearer:gh>', '$<TOKEN:bearer:absent>'] });
  assert.throws(
    () => resolveEntry(known, ctx, values),
    (err: unknown) => err instanceof ResolveError && /args\[1\]: the token \$<TOKEN:bearer:absent> is not stored/.test(err.message) && !err.message.includes(SECRET),
  );
  assert.throws(
    () => resolveEntry(e, { ...ctx, workspaceFolder: undefined }, values),
    (err: unknown) => {
      assert.ok(err instanceof ResolveError);
      assert.match(err.message, /\$\{config:foo\} is not supported/);
      assert.match(err.message, /\$\{command:evil\} is not supported/);
      assert.match(err.message, /input "nope"/);
      assert.match(err.message, /env.A: \$\{workspaceFolder\} cannot be resolved: no workspace folder/);
      assert.ok(!err.message.includes(SECRET));
      return true;
    },
  );
});

test('a value is not scanned again: a value holding ${env:...} or a reference stays literal / is refused', () => {
  const e = entry({ command: 'x', args: ['$<TOKEN:api-key:x>'] });
  const launch = resolveEntry(e, ctx, { ...values, token: () => 'literal-${env:HOME}' });
  assert.deepEqual(launch.kind === 'stdio' && launch.args, ['literal-${env:HOME}']);
  assert.throws(() => resolveEntry(e, ctx, { ...values, token: () => '$<TOKEN:bearer:gh>' }), /still contains a token reference/);
});

test('malformed references are errors, never passed through', () => {
  const e = entry({ command: 'x', args: ['$<TOKEN:bearer>', '${TOKEN:a:b:c}'] });
  assert.throws(() => resolveEntry(e, ctx, values), (err: unknown) => err instanceof ResolveError && err.problems.length === 2);
});

test('unresolvedText replaces references by a marker that is not a reference', () => {
  const text = unresolvedText('Bearer $<TOKEN:bearer:gh> and ${TOKEN:a:b} ${env:HOME}');
  assert.equal(text, 'Bearer <token bearer:gh> and <token a:b> ${env:HOME}');
  assert.equal(containsLiteralReference(text), false);
  assert.equal(containsLiteralReference('x$<token:a:b>'), true);
});

test('definitionVersion follows the entry as written, not its position or any value', () => {
  const a = parseMcpConfig('{"servers": {"s": {"command": "x", "args": ["$<TOKEN:bearer:gh>"]}}}').servers[0];
  const moved = parseMcpConfig('{\n\n  "servers": {  "s": {"command": "x", "args": ["$<TOKEN:bearer:gh>"]}}}').servers[0];
  const edited = parseMcpConfig('{"servers": {"s": {"command": "x", "args": ["$<TOKEN:bearer:other>"]}}}').servers[0];
  assert.match(definitionVersion(a), /^[0-9a-f]{16}$/);
  assert.equal(definitionVersion(a), definitionVersion(moved));
  assert.notEqual(definitionVersion(a), definitionVersion(edited));
});

test('a launch that references an internal entry (refresh token, client registration, Recently Deleted) is refused', () => {
  for (const ref of ['$<TOKEN:oauth-refresh:github>', '${TOKEN:oauth-client:auth.example.com-0123456789ab}', '$<TOKEN:trash:20261123T120000000Z-1a2b3c4d>']) {
    const e = entry({ command: 'npx', args: ['server'], env: { T: ref } });
    assert.throws(
      () => planLaunch(e, ctx, { input: () => undefined }, '/home/u'),
      (err: unknown) => err instanceof ResolveError && /env\.T: .* names an internal entry of MCP Tokens/.test(err.message),
      ref,
    );
  }
  // A user-visible namespace is planned as usual.
  assert.equal(planLaunch(entry({ command: 'npx', env: { T: '$<TOKEN:bearer:gh>' } }), ctx, { input: () => undefined }, '/home/u').kind, 'stdio');
});
