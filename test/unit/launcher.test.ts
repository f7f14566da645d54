/** The launcher's pure parts: references in a launch, headers, settings, audit entries, URLs, the list table. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditPath, launcherEntries, launchTitle } from '../../extension/launcher/audit';
import { fill, fillEnv, launchFields, parseHeader, redact, scanFields } from '../../extension/launcher/launchRefs';
import { checkServerUrl } from '../../extension/launcher/proxy';
import { settingsFrom, userDirCandidates } from '../../extension/launcher/settings';
import { formatList, trimValue } from '../../extension/launcher/tokens';
import { AUDIT_FILE, auditEventSchema } from '../../extension/platform/audit';

describe('launcher: references in the environment and the arguments', () => {
  it('finds both forms, once per key, in env values and arguments (not in variable names)', () => {
    const fields = launchFields({ A: 'x $<TOKEN:team:a> y', B: '${TOKEN:team:b}', $C: 'plain', D: undefined }, ['npx', '--key=$<TOKEN:team:a>', '${TOKEN:other:c}']);
    const scan = scanFields(fields);
    assert.deepEqual(scan.keys, [
      { namespace: 'team', name: 'a' },
      { namespace: 'team', name: 'b' },
      { namespace: 'other', name: 'c' },
    ]);
    assert.deepEqual(scan.malformed, []);
  });

  it('reports a malformed reference with the field it is in', () => {
    const scan = scanFields(launchFields({ KEY: '$<TOKEN:onlyone>' }, ['srv', '${token:a:b}']));
    assert.equal(scan.keys.length, 0);
    assert.equal(scan.malformed.length, 2);
    assert.match(scan.malformed[0], /^environment variable KEY: The reference needs a namespace and a name/);
    assert.match(scan.malformed[1], /^argument 1: The keyword must be written "TOKEN"/);
  });

  it('fills values where the references stood and leaves everything else as it is', () => {
    const values = new Map([
      ['team:a', 'VALUE-A'],
      ['team:b', 'VALUE-B'],
    ]);
    assert.equal(fill('Bearer $<TOKEN:team:a>/${TOKEN:team:b}', values), 'Bearer VALUE-A/VALUE-B');
    assert.deepEqual(fillEnv({ X: '$<TOKEN:team:a>', Y: 'cost $5', Z: undefined }, values), { X: 'VALUE-A', Y: 'cost $5' });
    assert.throws(() => fill('$<TOKEN:team:missing>', values), /No value for \$<TOKEN:team:missing>/);
  });

  it('redacts every value (longest first) and leaves short strings alone', () => {
    assert.equal(redact('failed with sk-123456 and sk-1234567890 (abc)', ['sk-123456', 'sk-1234567890', 'abc']), 'failed with *** and *** (abc)');
  });
});

describe('launcher: --header', () => {
  it('parses "Name: value" and refuses what is not a header', () => {
    assert.deepEqual(parseHeader('Authorization: Bearer $<TOKEN:oauth:gh>'), { name: 'Authorization', value: 'Bearer $<TOKEN:oauth:gh>' });
    assert.deepEqual(parseHeader('X-Key:v:w'), { name: 'X-Key', value: 'v:w' });
    assert.throws(() => parseHeader('no colon'), /Name: value/);
    assert.throws(() => parseHeader('Bad Name: x'), /not a valid HTTP header name/);
    assert.throws(() => parseHeader('X: a\r\nInjected: b'), /line break/);
  });

  it('connects over https, or plain http only to loopback', () => {
    assert.equal(checkServerUrl('https://mcp.example.com/mcp').host, 'mcp.example.com');
    assert.equal(checkServerUrl('http://127.0.0.1:8080/mcp').port, '8080');
    assert.equal(checkServerUrl('http://localhost/mcp').hostname, 'localhost');
    assert.throws(() => checkServerUrl('http://mcp.example.com/mcp'), /plain http only to localhost/);
    assert.throws(() => checkServerUrl('ftp://x/'), /not allowed/);
    assert.throws(() => checkServerUrl('not a url'), /is not a URL/);
  });
});

describe('launcher: VS Code settings', () => {
  it('reads the mcpTokens.* settings it needs, with the extension defaults', () => {
    const s = settingsFrom({
      'mcpTokens.backend.default': 'vault',
      'mcpTokens.backend.namespaces': { team: 'vault', me: 'keyring', bad: 'nowhere' },
      'mcpTokens.vault.address': ' https://vault.example:8200 ',
      'mcpTokens.vault.mount': '/kv/',
      'mcpTokens.vault.layout': 'mcpCli',
      'mcpTokens.vault.timeoutMs': 5,
      'mcpTokens.keyring.service': 'other',
      'mcpTokens.keyring.mcpCliRegistry': false,
    });
    assert.equal(s.defaultBackend, 'vault');
    assert.deepEqual(s.namespaceBackends, { team: 'vault', me: 'keyring' });
    assert.equal(s.vault.address, 'https://vault.example:8200');
    assert.equal(s.vault.mount, 'kv');
    assert.equal(s.vault.layout, 'mcpCli');
    assert.equal(s.vault.timeoutMs, 500);
    assert.equal(s.keyringService, 'other');
    assert.equal(s.keyringSyncRegistry, false);
    const d = settingsFrom(undefined);
    assert.equal(d.defaultBackend, 'secretStorage');
    assert.equal(d.keyringService, 'mcp-cli');
    assert.deepEqual(d.vault, {}, "unset Vault settings are left to the backend's defaults");
    assert.equal(d.keyringSyncRegistry, true);
  });

  it('looks for the user folder where each platform keeps it', () => {
    assert.equal(userDirCandidates({}, '/home/u', 'linux')[0], '/home/u/.config/Code/User');
    assert.ok(userDirCandidates({}, '/home/u', 'linux').includes('/home/u/.local/share/code-server/User'));
    assert.equal(userDirCandidates({}, '/Users/u', 'darwin')[0], '/Users/u/Library/Application Support/Code/User');
    assert.equal(userDirCandidates({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'C:\\Users\\u', 'win32')[0], 'C:\\Users\\u\\AppData\\Roaming\\Code\\User');
    assert.deepEqual(userDirCandidates({ MCP_TOKENS_VSCODE_USER_DIR: '/x' }, '/home/u', 'linux'), ['/x']);
  });
});

describe('launcher: audit entries', () => {
  const launch = { command: 'npx', args: ['-y', 'server', '--key', '$<TOKEN:team:a>'], cwd: '/work', client: 'Claude', kind: 'run' as const };

  it('records what the launcher resolved itself, in the audit log format, never a value', () => {
    const entries = launcherEntries(
      [
        { namespace: 'team', name: 'a' },
        { namespace: 'vs', name: 'b' },
        { namespace: 'team', name: 'gone' },
      ],
      { sources: new Map([['team:a', 'keyring' as const]]), asked: new Set(['vs:b']), outcomes: new Map([['team:gone', 'missing' as const]]) },
      launch,
      new Date('2026-12-01T10:00:00Z'),
    );
    assert.equal(entries.length, 2, 'the channel one is recorded by the extension');
    for (const e of entries) assert.ok(auditEventSchema.safeParse(e).success, JSON.stringify(e));
    assert.deepEqual(
      entries.map((e) => [e.kind, e.tokens, e.outcome, e.reason, e.actor.launcher]),
      [
        ['launcher', ['team:a'], 'ok', '$<TOKEN:team:a> from keyring', 'Claude'],
        ['launcher', ['team:gone'], 'failed', '$<TOKEN:team:gone>: missing', 'Claude'],
      ],
    );
    assert.equal(entries[0].actor.server, 'mcp-tokens run: npx -y server --key $<TOKEN:team:a>');
    assert.equal(entries[0].actor.file, '/work');
    assert.equal(launchTitle({ ...launch, args: ['a b'] }), 'mcp-tokens run: npx "a b"');
  });

  it('writes beside the extension: its global storage folder in the VS Code user folder', () => {
    assert.equal(auditPath({}, '/home/u/.config/Code/User', '/home/u', AUDIT_FILE), '/home/u/.config/Code/User/globalStorage/mcp-tokens.mcp-token-manager/audit.jsonl');
    assert.equal(auditPath({}, undefined, '/home/u', AUDIT_FILE), '/home/u/.mcp-tokens/audit.jsonl');
    assert.equal(auditPath({ MCP_TOKENS_AUDIT_FILE: '/tmp/a.jsonl' }, '/x', '/home/u', AUDIT_FILE), '/tmp/a.jsonl');
  });
});

describe('launcher: list and set', () => {
  it('prints metadata only, aligned', () => {
    const text = formatList([
      { namespace: 'team', name: 'api', type: 'api-key', backend: 'keyring' },
      { namespace: 'ops', name: 'vault-token', backend: 'vault', expiresAt: '2027-01-01T00:00:00.000Z' },
    ]);
    assert.equal(text.split('\n')[0].replace(/\s+/g, ' '), 'REFERENCE TYPE BACKEND EXPIRES');
    assert.match(text, /\$<TOKEN:team:api> +api-key +keyring +-/);
    assert.match(text, /\$<TOKEN:ops:vault-token> +generic +vault +2027-01-01/);
    assert.match(formatList([]), /No token in the OS keyring or Vault/);
  });

  it('drops one trailing line break of a value read from stdin or a file', () => {
    assert.equal(trimValue('abc\n'), 'abc');
    assert.equal(trimValue('abc\r\n'), 'abc');
    assert.equal(trimValue('abc\n\n'), 'abc\n');
    assert.equal(trimValue('a b'), 'a b');
  });
});
