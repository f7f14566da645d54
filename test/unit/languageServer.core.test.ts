/** Pure modules of the language server: file classification, config scanning, secret detection, catalog. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifyMcpFile, classifyUri, uriPath } from '../../server/core/mcpFiles';
import { isSecretCandidate, scanConfig, stringAtOffset } from '../../server/core/configScan';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { McpWorkspace, diagnosticsDelayFor } from '../../server/documents';
import { MemoryKeeper, hasMemoryReducingGc } from '../../server/memory';
import { serverExecArgv } from '../../server/core/launch';
import { EDITOR_DIAGNOSTICS_PER_FILE, forEditor } from '../../server/features/diagnostics';
import { detectSecrets, isSecretLikeName, looksRandom, mergeFindings, shannonEntropy, slug, suggestKey } from '../../server/core/secrets';
import { BATCH_CHARS, SecretlintScanner } from '../../server/core/secretlintScan';
import { VALID } from './support/formatSamples';
import { TokenCatalog, closest, editDistance, nameIndex } from '../../server/catalog';
import { McpTokensLanguageService } from '../../server/service';

describe('classifyMcpFile', () => {
  const kind = (p: string, o = {}) => classifyMcpFile(p, o)?.kind;
  it('recognises every MCP config file by path', () => {
    assert.equal(kind('/w/.vscode/mcp.json'), 'vscode');
    assert.equal(kind('C:\\w\\.vscode\\mcp.json'), 'vscode');
    assert.equal(kind('/w/.vscode/mcp.tokens.json'), 'token-aware');
    assert.equal(classifyMcpFile('/w/.vscode/mcp.tokens.json')?.scope, 'workspace');
    assert.equal(classifyMcpFile('/home/u/.config/Code/User/globalStorage/mcp-tokens.mcp-token-manager/mcp.tokens.json')?.scope, 'user');
    assert.equal(kind('/home/u/.config/Code/User/mcp.json'), 'vscode-user');
    assert.equal(kind('/home/u/.config/Code/User/profiles/abc/mcp.json'), 'vscode-user');
    assert.equal(kind('/data/User/mcp.json', { userDirectories: ['/data/User'] }), 'vscode-user');
    assert.equal(kind('/data/User/mcp.json'), 'generic');
    assert.equal(kind('/w/.mcp.json'), 'claude-code');
    assert.equal(kind('/w/mcp.json'), 'generic');
    assert.equal(kind('/w/.cursor/mcp.json'), 'cursor');
    assert.equal(kind('/Users/u/Library/Application Support/Claude/claude_desktop_config.json'), 'claude-desktop');
    assert.equal(kind('/w/server_config.json'), 'mcp-cli');
    assert.equal(kind('/w/package.json'), undefined);
    assert.equal(kind('/w/tools/servers.json', { extraGlobs: ['tools/*.json'] }), 'extra');
    assert.equal(kind('/w/tools/servers.json', { extraGlobs: ['/w/tools/**'] }), 'extra');
    assert.equal(kind('/w/tools/servers.json', { extraGlobs: ['other/*.json', '[invalid'] }), undefined);
  });
  it('says what each client does with references', () => {
    const vs = classifyMcpFile('/w/.vscode/mcp.json')!;
    assert.deepEqual([vs.resolvesReferences, vs.readsVsCodeVariables, vs.client, vs.preferredForm], [false, true, 'VS Code', 'angle']);
    const cli = classifyMcpFile('/w/server_config.json')!;
    assert.deepEqual([cli.resolvesReferences, cli.forms, cli.preferredForm, cli.wholeValueOnly], [true, ['brace'], 'brace', true]);
    const ta = classifyMcpFile('/w/.vscode/mcp.tokens.json')!;
    assert.deepEqual([ta.resolvesReferences, ta.forms], [true, ['angle', 'brace']]);
  });
  it('classifies URIs of any scheme', () => {
    assert.equal(uriPath('file:///c%3A/w/.vscode/mcp.json'), '/c:/w/.vscode/mcp.json');
    assert.equal(classifyUri('file:///c%3A/w/.vscode/mcp.json')?.kind, 'vscode');
    assert.equal(classifyUri('vscode-userdata:/home/u/.config/Code/User/mcp.json')?.kind, 'vscode-user');
    assert.equal(classifyUri('untitled:Untitled-1'), undefined);
  });
});

describe('scanConfig', () => {
  it('finds strings with their server, section and key in both shapes', () => {
    const text = `{
  // comment
  "servers": { "gh": { "command": "npx", "args": ["--token", "abc", 3, "x"], "env": { "T": "$<TOKEN:bearer:gh>" }, "headers": { "H": "v" } } },
  "inputs": [{ "id": "x" }],
  "mcpServers": { "c": { "url": "https://x?key=1" } },
}`;
    const r = scanConfig(text);
    assert.equal(r.complete, true);
    const by = (raw: string) => r.strings.find((s) => s.raw === raw)!;
    assert.deepEqual({ ...by('npx') }, { start: text.indexOf('npx'), end: text.indexOf('npx') + 3, raw: 'npx', root: 'servers', server: 'gh', section: 'command', key: undefined, prevArg: undefined, literalLength: undefined });
    assert.equal(by('abc').prevArg, '--token');
    assert.equal(by('x').prevArg, undefined, 'a number in between resets the previous argument');
    assert.equal(by('$<TOKEN:bearer:gh>').key, 'T');
    assert.equal(by('v').section, 'headers');
    assert.equal(by('https://x?key=1').server, 'c');
    assert.equal(by('x').section, 'args');
    assert.deepEqual(r.servers.map((s) => [s.name, s.root, text.slice(s.nameStart, s.nameEnd)]), [['gh', 'servers', 'gh'], ['c', 'mcpServers', 'c']]);
    assert.equal(r.references.length, 1);
    const ref = r.references[0];
    assert.equal(text.slice(ref.start, ref.end), '$<TOKEN:bearer:gh>');
    assert.ok(ref.kind === 'reference' && text.slice(ref.namespaceStart, ref.namespaceStart + 6) === 'bearer');
  });
  it('tolerates unterminated strings and deep nesting', () => {
    const r = scanConfig('{ "servers": { "a": { "env": { "K": "$<TOKEN:x:y');
    assert.equal(r.strings.at(-1)!.raw, '$<TOKEN:x:y');
    assert.equal(r.references[0].kind, 'malformed');
    const deep = scanConfig('['.repeat(200_000) + '"x"');
    assert.equal(deep.complete, true, 'the walk is iterative: no depth limit');
    assert.equal(deep.strings.length, 1);
    // Unmatched closers are ignored, a missing colon or comma is read as if present.
    const sloppy = scanConfig('] } { "servers": { "a" { "env": { "K" "v1" "L": "v2" } } } ]]');
    assert.deepEqual(sloppy.strings.map((x) => [x.raw, x.server, x.section, x.key]), [['v1', 'a', 'env', 'K'], ['v2', 'a', 'env', 'L']]);
    assert.deepEqual(sloppy.servers.map((x) => x.name), ['a']);
    // Escapes: the closing quote after an escaped backslash ends the string.
    const esc = scanConfig('{ "servers": { "a": { "args": ["x\\\\", "$<TOKEN:a:b>"] } } }');
    assert.deepEqual(esc.strings.map((x) => x.raw), ['x\\\\', '$<TOKEN:a:b>']);
    assert.equal(esc.strings[1].prevArg, 'x\\\\');
  });
  it('keeps only the possible hard-coded secrets with { strings: \'candidates\' }, references and servers unchanged', () => {
    const text = JSON.stringify({
      servers: {
        a: {
          command: 'npx-long-command-name',
          args: ['--api-key', 'short', 'abcdefgh12345678'],
          env: { T: '$<TOKEN:bearer:gh>', U: 'Bearer $<TOKEN:bearer:gh>', V: 'x-$<TOKEN:a:b>-literal-part', LEVEL: 'info', SECRET: 'value-of-length' },
          headers: { Authorization: 'Bearer abcdefghijklmnop' },
        },
      },
      inputs: [{ id: 'not-a-server-string-at-all' }],
    });
    const all = scanConfig(text);
    const some = scanConfig(text, { strings: 'candidates' });
    assert.deepEqual(
      some.strings.map((x) => x.raw),
      all.strings.filter(isSecretCandidate).map((x) => x.raw),
    );
    assert.deepEqual(some.strings.map((x) => x.raw), ['--api-key', 'abcdefgh12345678', 'x-$<TOKEN:a:b>-literal-part', 'value-of-length', 'Bearer abcdefghijklmnop']);
    assert.equal(some.strings.find((x) => x.raw === 'abcdefgh12345678')?.prevArg, 'short');
    const plain = (r: typeof all) => r.references.map((x) => ({ ...x, site: { ...x.site } }));
    assert.deepEqual(plain(some), plain(all));
    assert.deepEqual(some.servers, all.servers);
    // Repeated property names are one string (interned), with the same value as before.
    const many = scanConfig(JSON.stringify({ servers: { a: { env: { API_TOKEN: 'x'.repeat(9) } }, b: { env: { API_TOKEN: 'y'.repeat(9) } } } }), { strings: 'candidates' });
    assert.deepEqual(many.strings.map((x) => [x.server, x.key]), [['a', 'API_TOKEN'], ['b', 'API_TOKEN']]);
  });
  it('drops a chunk\'s secret candidates once a diagnostics pass found its secrets, and re-scans only the edited chunk', async () => {
    const service = new McpTokensLanguageService({ secretlint: false });
    const uri = 'file:///w/.vscode/mcp.tokens.json';
    const text = JSON.stringify({ servers: { a: { env: { GITHUB_TOKEN: 'ghp_' + 'a1'.repeat(18) } }, b: { env: { T: '$<TOKEN:x:y>' } } } }, null, 2);
    const doc = TextDocument.create(uri, 'jsonc', 1, text);
    service.workspace.didOpen(doc);
    const a = service.workspace.analyze(doc)!;
    const entry = a.chunks.chunks.find((c) => c.server?.name === 'a')!;
    assert.equal(entry.strings.length, 1, 'the candidate, until the pass');
    const first = await service.diagnostics(doc);
    assert.equal(entry.strings.length, 0, 'dropped after the pass');
    // An edit in server b: a re-scans nothing of a, and its secret is still reported.
    const at = text.indexOf('$<TOKEN:x:y>');
    service.workspace.update(doc, [{ range: { start: doc.positionAt(at), end: doc.positionAt(at) }, text: 'z' }], 2);
    const b = service.workspace.analyze(doc)!;
    assert.equal(b.incremental, true);
    assert.ok(b.chunks.chunks.includes(entry), 'the unchanged chunk is shared');
    const second = await service.diagnostics(doc);
    assert.deepEqual(second.map((d) => d.code), first.map((d) => d.code));
  });
  it('links every reference of every server entry at its document range, before and after an incremental re-scan', () => {
    const service = new McpTokensLanguageService({ secretlint: false });
    const uri = 'file:///w/.vscode/mcp.tokens.json';
    const servers: Record<string, unknown> = {};
    for (let i = 0; i < 4; i++) servers[`s${i}`] = { command: 'x', env: { A: `$<TOKEN:bearer:t${i}>`, B: `pre-$<TOKEN:api-key:k${i}>` } };
    const text = JSON.stringify({ servers }, null, 2);
    let doc = TextDocument.create(uri, 'jsonc', 1, text);
    service.workspace.didOpen(doc);
    const expected = (t: string) => [...t.matchAll(/\$<TOKEN:[^>]+>/g)].map((m) => [m.index, m.index + m[0].length]);
    const actual = (d: TextDocument) => service.documentLinks(d).map((l) => [d.offsetAt(l.range.start), d.offsetAt(l.range.end)]);
    assert.deepEqual(actual(doc), expected(text));
    assert.equal(service.documentLinks(doc).length, 8);
    // Lengthen a reference in s1: the chunks after it move, and their links with them.
    const at = text.indexOf('t1>');
    doc = service.workspace.update(doc, [{ range: { start: doc.positionAt(at), end: doc.positionAt(at) }, text: 'long-' }], 2);
    assert.equal(service.workspace.analyze(doc)!.incremental, true);
    assert.deepEqual(actual(doc), expected(doc.getText()));
  });
  it('keeps one copy of a file: the open document replaces the one read from disk, which is read again on close', async () => {
    const ws = new McpWorkspace();
    const uri = 'file:///w/.vscode/mcp.tokens.json';
    const onDisk = JSON.stringify({ servers: { a: { env: { T: '$<TOKEN:bearer:disk>' } } } });
    let reads = 0;
    const read = async () => {
      reads++;
      return onDisk;
    };
    await ws.setWorkspaceFiles([uri], read);
    assert.equal(reads, 1);
    assert.equal(ws.referencesTo({ namespace: 'bearer', name: 'disk' }).length, 1);
    const doc = TextDocument.create(uri, 'jsonc', 1, JSON.stringify({ servers: { a: { env: { T: '$<TOKEN:bearer:open>' } } } }));
    ws.didOpen(doc);
    assert.equal(ws.referencesTo({ namespace: 'bearer', name: 'disk' }).length, 0, 'the disk copy is gone');
    assert.equal(ws.referencesTo({ namespace: 'bearer', name: 'open' }).length, 1);
    await ws.setWorkspaceFiles([uri], read);
    assert.equal(reads, 1, 'an open file is not read from disk');
    ws.didClose(uri);
    await new Promise((r) => setImmediate(r));
    assert.equal(reads, 2, 'read again once closed');
    assert.equal(ws.referencesTo({ namespace: 'bearer', name: 'disk' }).length, 1);
    assert.equal(ws.referencesTo({ namespace: 'bearer', name: 'open' }).length, 0);
  });
  it('waits after an edit in proportion to the document size, at most the configured delay', () => {
    assert.equal(diagnosticsDelayFor(0, 150), 25);
    assert.equal(diagnosticsDelayFor(160 * 1024, 150), 28);
    assert.equal(diagnosticsDelayFor(2.4 * 1024 * 1024, 150), 63);
    assert.equal(diagnosticsDelayFor(16 * 1024 * 1024, 150), 150);
    assert.equal(diagnosticsDelayFor(1000, 10), 10, 'never more than the setting');
  });
  it('finds the string around an offset from the line alone', () => {
    const text = '{ "a": "x$<TOKEN:", /* "no" */ "b": "y" } // "c"\n"key": 1';
    assert.deepEqual(stringAtOffset(text, text.indexOf('$<')), { start: text.indexOf('x$'), end: text.indexOf('", /*'), isKey: false });
    assert.equal(stringAtOffset(text, text.indexOf('"a"') + 1)?.isKey, true);
    assert.equal(stringAtOffset(text, text.indexOf('no')), undefined, 'inside a block comment');
    assert.equal(stringAtOffset(text, text.indexOf('"c"') + 1), undefined, 'inside a line comment');
    assert.equal(stringAtOffset(text, text.indexOf(': "x') + 1), undefined, 'between strings');
    assert.deepEqual(stringAtOffset(text, text.indexOf('key')), { start: text.indexOf('key'), end: text.indexOf('key') + 3, isKey: true });
  });
});

describe('secret detection', () => {
  const ids = (raw: string, ctx = {}) => detectSecrets(raw, ctx).map((f) => [f.ruleId, raw.slice(f.start, f.end)]);
  it('matches provider formats', () => {
    const gh = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
    assert.deepEqual(ids(gh), [['github', gh]]);
    // Samples of the format rules (test/unit/support/formatSamples.ts), built from parts at run time.
    const cases: [string, string][] = (['anthropic', 'openai', 'slack', 'aws-access-key', 'google-api-key', 'stripe', 'gitlab', 'huggingface', 'jwt', 'proxmox'] as const).map((id) => [VALID[id][0], id]);
    for (const [raw, id] of cases) assert.deepEqual(ids(raw).map((x) => x[0]), [id], raw.slice(0, 6));
    assert.deepEqual(ids('postgres://user:s3cretpw@db:5432/x', { section: 'args' }), [['url-password', 's3cretpw']]);
  });
  it('uses context: bearer headers, secret-like keys, flags and query parameters', () => {
    assert.deepEqual(ids('Bearer abcdef123456', { section: 'headers', key: 'Authorization' }), [['bearer-header', 'abcdef123456']]);
    assert.deepEqual(ids('Bearer $<TOKEN:bearer:x>', { section: 'headers', key: 'Authorization' }), []);
    assert.deepEqual(ids('Bearer ${input:token}', { section: 'headers', key: 'Authorization' }), []);
    assert.deepEqual(ids('Bearer YOUR_TOKEN_HERE', { section: 'headers', key: 'Authorization' }), []);
    const random = 'q8Zr2LmXv9Tb4Nw7Kc1Yd6Hf';
    assert.deepEqual(ids(random, { section: 'env', key: 'SERVICE_API_KEY' }), [['entropy', random]]);
    assert.deepEqual(ids(random, { section: 'env', key: 'SERVICE_URL' }), []);
    assert.deepEqual(ids('aaaaaaaaaaaaaaaaaaaaaaaa1', { section: 'env', key: 'TOKEN' }), [], 'low entropy');
    assert.deepEqual(ids(`--api-key=${random}`, { section: 'args' }), [['secret-argument', random]]);
    assert.deepEqual(ids(random, { section: 'args', prevArg: '--token' }), [['secret-argument', random]]);
    assert.deepEqual(ids('https://x.io/mcp?api_key=abcdef123456&mode=fast', { section: 'url' }), [['url-query', 'abcdef123456']]);
  });
  it('merges overlapping findings, most specific first', () => {
    const gh = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
    const f = detectSecrets(`Bearer ${gh}`, { section: 'headers', key: 'Authorization' });
    assert.equal(f.length, 1);
    assert.deepEqual([f[0].ruleId, f[0].provider, f[0].type, f[0].start], ['github', 'github', 'bearer', 7]);
    assert.deepEqual(mergeFindings([]), []);
  });
  it('computes entropy and names', () => {
    assert.equal(shannonEntropy(''), 0);
    assert.equal(shannonEntropy('aaaa'), 0);
    assert.equal(shannonEntropy('abcd'), 2);
    assert.equal(looksRandom('/usr/local/bin/some-tool-1'), false);
    assert.ok(isSecretLikeName('GITHUB_TOKEN') && isSecretLikeName('X-Api-Key') && isSecretLikeName('password'));
    assert.ok(!isSecretLikeName('TOKEN_URL') && !isSecretLikeName('KEY_PATH') && !isSecretLikeName('HOME'));
  });
  it('suggests a free key from the provider or server name', () => {
    const taken = new Set(['bearer:github']);
    assert.deepEqual(suggestKey({ provider: 'github', type: 'bearer' }, { server: 'gh' }, (k) => taken.has(`${k.namespace}:${k.name}`)), { namespace: 'bearer', name: 'github-2' });
    assert.deepEqual(suggestKey({ type: 'api-key' }, { server: 'My Server!' }, () => false), { namespace: 'api-key', name: 'my-server' });
    assert.deepEqual(suggestKey({ type: 'basic' }, {}, () => false), { namespace: 'generic', name: 'secret' });
    assert.equal(slug('---'), undefined);
  });
  it('runs secretlint\'s recommended preset over many values at once', async () => {
    const scanner = new SecretlintScanner();
    const slack = 'xoxb-123456789012-1234567890123-abcdefghijABCDEFGHIJabcd';
    const [a, b, c] = await scanner.scan(['plain value', `token ${slack}`, 'x']);
    assert.deepEqual(a, []);
    assert.deepEqual(c, []);
    assert.equal(b.length, 1);
    assert.deepEqual([b[0].ruleId, b[0].provider, `token ${slack}`.slice(b[0].start, b[0].end)], ['secretlint/slack', 'slack', slack]);
    const again = await scanner.scan([`token ${slack}`]);
    assert.equal(again[0], b, 'cached per value');
    assert.equal(scanner.cached([`token ${slack}`, 'x']), true);
    assert.equal(scanner.cached([`other ${slack}`]), false);
  });
  it('lints many values in batches, yielding to the event loop between them, with each hit on its own value', async () => {
    const scanner = new SecretlintScanner();
    const slack = (i: number) => `xoxb-123456789012-1234567890123-abcdefghijABCDEFGH${String(i).padStart(4, '0')}`;
    // About three batches of values, a secret at the start, in the middle and at the very end.
    const values = Array.from({ length: Math.ceil((3 * BATCH_CHARS) / 41) }, (_, i) => `https://service-${String(i).padStart(6, '0')}.example.com/`);
    const at = [0, Math.floor(values.length / 2), values.length - 1];
    for (const i of at) values[i] = `token ${slack(i)}`;
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const found = await scanner.scan(values).finally(() => clearInterval(ticker));
    assert.ok(turns >= 2, `other work ran while it linted (${turns} timer turns)`);
    assert.deepEqual(found.flatMap((f, i) => (f.length ? [i] : [])), at);
    for (const i of at) assert.equal(values[i].slice(found[i][0].start, found[i][0].end), slack(i));
  });
  it('answers every value of a scan even when the cache starts over while it runs (its own batches, or another scan\'s)', async () => {
    const scanner = new SecretlintScanner(10);
    const slack = 'xoxb-123456789012-1234567890123-abcdefghijABCDEFGHIJabcd';
    const values = Array.from({ length: Math.ceil((3 * BATCH_CHARS) / 41) }, (_, i) => `https://service-${String(i).padStart(6, '0')}.example.com/`);
    values[0] = `token ${slack}`; // found in the first batch
    const others = Array.from({ length: 20 }, (_, i) => `https://other-${String(i).padStart(6, '0')}.example.com/`);
    const a = scanner.scan(values);
    // A second scan once the first batch is cached: it starts the cache over (20 new values, limit 10).
    const b = (async () => {
      while (!scanner.cached([values[0]])) await new Promise((r) => setImmediate(r));
      return scanner.scan(others);
    })();
    const [found] = await Promise.all([a, b]);
    assert.deepEqual(found.flatMap((f, i) => (f.length ? [i] : [])), [0]);
    assert.equal(values[0].slice(found[0][0].start, found[0][0].end), slack);
  });
  it('publishes the diagnostics without secretlint first while secretlint reads new values, then all of them', async () => {
    const service = new McpTokensLanguageService();
    service.catalog.update({ tokens: [], expiryWarningDays: 7 });
    const slack = 'xoxb-123456789012-1234567890123-abcdefghijABCDEFGHIJabcd';
    const text = JSON.stringify({ servers: { a: { env: { S: `token ${slack}`, T: '$<TOKEN:bearer:missing>' } } } });
    const doc = TextDocument.create('file:///w/.vscode/mcp.tokens.json', 'jsonc', 1, text);
    service.workspace.didOpen(doc);
    const early: string[][] = [];
    const codes = (ds: { code?: unknown }[]) => ds.map((d) => String(d.code)).sort();
    const all = await service.diagnostics(doc, (ds) => early.push(codes(ds)));
    assert.equal(early.length, 1, 'secretlint had not seen the value');
    assert.ok(early[0].includes('unknown-namespace'), 'the references\' diagnostics come first');
    assert.deepEqual(codes(all), ['hard-coded-secret', 'unknown-namespace']);
    const again = TextDocument.create(doc.uri, 'jsonc', 2, text);
    service.workspace.didOpen(again);
    const second: unknown[] = [];
    await service.diagnostics(again, (ds) => second.push(ds));
    assert.equal(second.length, 0, 'nothing new for secretlint: one answer');
  });
  it('returns the early set itself when secretlint finds nothing more (the server does not publish it twice)', async () => {
    const service = new McpTokensLanguageService();
    service.catalog.update({ tokens: [], expiryWarningDays: 7 });
    const text = JSON.stringify({ servers: { a: { env: { NOTE: 'a plain sentence, not a credential at all 1234', T: '$<TOKEN:bearer:missing>' } } } });
    const doc = TextDocument.create('file:///w/.vscode/mcp.tokens.json', 'jsonc', 1, text);
    service.workspace.didOpen(doc);
    const early: unknown[] = [];
    const all = await service.diagnostics(doc, (ds) => early.push(ds));
    assert.equal(early.length, 1, 'secretlint had not seen the value');
    assert.equal(all, early[0], 'the same array');
    assert.deepEqual(all.map((d) => d.code), ['unknown-namespace']);
  });
  it('returns a new set when secretlint adds findings to the early one', async () => {
    const service = new McpTokensLanguageService();
    service.catalog.update({ tokens: [], expiryWarningDays: 7 });
    // A private key block: secretlint's privatekey rule reports it.
    const key = `-----BEGIN RSA PRIVATE KEY-----\n${'MIIEowIBAAKCAQEA'.repeat(8)}\n-----END RSA PRIVATE KEY-----`;
    const text = JSON.stringify({ servers: { a: { env: { K: key } } } });
    const doc = TextDocument.create('file:///w/.vscode/mcp.tokens.json', 'jsonc', 1, text);
    service.workspace.didOpen(doc);
    const early: { code?: unknown }[][] = [];
    const all = await service.diagnostics(doc, (ds) => early.push(ds));
    assert.equal(early.length, 1);
    if (all === early[0]) assert.fail('secretlint added nothing: pick a value only secretlint reports');
    assert.ok(all.length >= early[0].length);
  });
});

describe('TokenCatalog', () => {
  const meta = (namespace: string, name: string) => ({ namespace, name, type: 'bearer' as const, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', backend: 'secretStorage' as const });
  it('indexes metadata and suggests near misses', () => {
    const c = new TokenCatalog();
    assert.equal(c.received, false);
    c.update({ tokens: [meta('bearer', 'github'), meta('bearer', 'gitlab'), meta('api-key', 'github')], expiryWarningDays: 3 });
    assert.equal(c.received, true);
    assert.deepEqual(c.namespaces(), [['api-key', 1], ['bearer', 2]]);
    assert.equal(c.suggestNamespace('baerer'), 'bearer');
    assert.equal(c.suggestNamespace('zzzzzzzz'), undefined);
    assert.deepEqual(c.suggestKeys({ namespace: 'bearer', name: 'githb' }), [{ namespace: 'bearer', name: 'github' }]);
    assert.deepEqual(c.suggestKeys({ namespace: 'oauth', name: 'github' }), [{ namespace: 'api-key', name: 'github' }, { namespace: 'bearer', name: 'github' }]);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    // Code-unit order (no ICU collation in the server): upper case before lower case.
    c.update({ tokens: [meta('b', 'beta'), meta('b', 'Alpha'), meta('a', 'x'), meta('B', 'y')], expiryWarningDays: 3 });
    assert.deepEqual(c.namespaces().map(([ns]) => ns), ['B', 'a', 'b']);
    assert.deepEqual(c.tokensIn('b').map((t) => t.name), ['Alpha', 'beta']);
    assert.equal(closest('abc', []), undefined);
  });
  it('"did you mean" with an index gives what a full search gives: the first of the closest names', () => {
    const names = ['token-1', 'Token-10', 'token-100', 'token-10', 'tokn-1000', 'token-1001', 'other', 'TOKEN-2000'];
    const index = nameIndex(names);
    for (const word of ['token-1000', 'token-10', 'TOKEN-100', 'token-2000', 'tkn-1', 'zzzzzzzzzzzz', 'token-9', 'oter']) {
      assert.equal(closest(word, names, index), closest(word, names), word);
    }
    assert.equal(closest('token-10', names, index), 'Token-10', 'distance 0 ignoring case: the first such name');
    assert.equal(closest('token-1000', names, index), 'token-100', 'the first name at distance 1');
  });
});

describe('MemoryKeeper', () => {
  /** Runs `body` with `globalThis.gc` replaced by a recorder of its calls' options. */
  async function withRecordedGc(body: (calls: unknown[]) => Promise<void>): Promise<void> {
    const g = globalThis as { gc?: (options?: unknown) => void };
    const original = g.gc;
    const calls: unknown[] = [];
    g.gc = (options?: unknown) => {
      calls.push(options);
    };
    try {
      await body(calls);
    } finally {
      g.gc = original;
    }
  }
  it('does nothing without --expose-gc or for small documents', () => {
    if (typeof (globalThis as { gc?: unknown }).gc === 'function') return; // only meaningful without the flag
    const keeper = new MemoryKeeper(() => false);
    keeper.afterPass(10 * 1024 * 1024);
    keeper.afterChange(10 * 1024 * 1024);
    keeper.dispose();
  });
  it('collects once right after the first diagnostics of a large document, not of a small one', async () => {
    await withRecordedGc(async (calls) => {
      const keeper = new MemoryKeeper(() => true);
      keeper.afterEarlyPublish(1000);
      assert.deepEqual(calls, [], 'small document: nothing');
      keeper.afterEarlyPublish(600 * 1024);
      assert.deepEqual(calls, [undefined], 'one plain collection, at once');
      keeper.dispose();
    });
  });
  it('starts the server with Maglev as the top tier only where V8 runs Maglev (V8 13 and later, x64 and arm64)', () => {
    const plain = ['--max-semi-space-size=1', '--expose-gc'];
    assert.deepEqual(serverExecArgv('11.3.244.8-node.33', 'x64'), plain);
    assert.deepEqual(serverExecArgv('12.4.254.21-node.33', 'x64'), plain, 'Node.js 22 builds Maglev off');
    assert.deepEqual(serverExecArgv('13.6.233.17-node.53', 'x64'), ['--max-semi-space-size=1', '--max-opt=2', '--expose-gc']);
    assert.deepEqual(serverExecArgv('14.0.1', 'arm64'), serverExecArgv('13.6.233.17-node.53', 'x64'));
    assert.deepEqual(serverExecArgv('13.6.233.17-node.53', 'arm'), plain, 'no Maglev on 32-bit ARM');
  });
  it('knows which V8 versions have the memory-reducing collection', () => {
    assert.equal(hasMemoryReducingGc('11.3.244.8-node.33'), false);
    assert.equal(hasMemoryReducingGc('12.4.254.21-node.33'), true);
    assert.equal(hasMemoryReducingGc('13.6.233.17-node.53'), true);
    assert.equal(hasMemoryReducingGc('garbage'), false);
  });
  it('collects after a quiet second following a pass over a large document, and when the heap grew while it changes', async () => {
    await withRecordedGc(async (calls) => {
      let busy = false;
      const keeper = new MemoryKeeper(() => busy);
      keeper.afterPass(1000); // small: nothing
      keeper.afterPass(600 * 1024);
      await new Promise((r) => setTimeout(r, 1100));
      // Once idle: one memory-reducing collection where V8 has it, else two plain ones.
      const idle = hasMemoryReducingGc() ? [{ type: 'major', execution: 'sync', flavor: 'last-resort' }] : [undefined, undefined];
      assert.deepEqual(calls, idle, 'the idle collection');
      busy = true;
      keeper.afterPass(600 * 1024);
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal(calls.length, idle.length, 'not while a pass is pending');
      const hold: number[][] = [];
      for (let i = 0; calls.length === idle.length && i < 200; i++) {
        hold.push(new Array(128 * 1024).fill(i + 0.5)); // grow the heap by about 1 MB a step
        keeper.afterChange(600 * 1024);
      }
      assert.deepEqual(calls.slice(idle.length), [undefined], 'one plain collection once the heap grew by 24 MB');
      keeper.dispose();
    });
  });
  it('collects after metadata pushes of a large store: when the heap grew, and once they stop', async () => {
    await withRecordedGc(async (calls) => {
      const keeper = new MemoryKeeper(() => false);
      keeper.afterCatalog(10); // a small store: nothing
      await new Promise((r) => setTimeout(r, 1100));
      assert.deepEqual(calls, [], 'nothing for a small store');
      const hold: number[][] = [];
      for (let i = 0; calls.length === 0 && i < 200; i++) {
        hold.push(new Array(128 * 1024).fill(i + 0.5));
        keeper.afterCatalog(1000);
      }
      assert.deepEqual(calls, [undefined], 'one plain collection once the heap grew by 24 MB');
      await new Promise((r) => setTimeout(r, 1100));
      const idle = hasMemoryReducingGc() ? [{ type: 'major', execution: 'sync', flavor: 'last-resort' }] : [undefined, undefined];
      assert.deepEqual(calls.slice(1), idle, 'the idle collection once the pushes stopped');
      keeper.dispose();
    });
  });
});

describe('forEditor (what the server publishes)', () => {
  it('the workspace remembers the line of an open document\'s last edit until it closes', () => {
    const service = new McpTokensLanguageService();
    const uri = 'file:///w/.vscode/mcp.tokens.json';
    let doc = TextDocument.create(uri, 'jsonc', 1, '{\n  "servers": {\n  }\n}\n');
    service.workspace.didOpen(doc);
    assert.equal(service.workspace.lastEditLine(uri), undefined, 'not edited yet');
    const at = (line: number) => ({ start: { line, character: 0 }, end: { line, character: 0 } });
    doc = service.workspace.update(doc, [{ range: at(1), text: ' ' }, { range: at(2), text: ' ' }], 2);
    assert.equal(service.workspace.lastEditLine(uri), 2, 'the last change of the batch');
    doc = service.workspace.update(doc, [{ text: doc.getText() }], 3);
    assert.equal(service.workspace.lastEditLine(uri), 2, 'a full-text change has no line');
    service.workspace.didClose(uri);
    assert.equal(service.workspace.lastEditLine(uri), undefined);
  });
  const at = (line: number, severity?: 1 | 2 | 3 | 4) => ({ range: { start: { line, character: 0 }, end: { line, character: 1 } }, severity, message: `m${line}`, source: 'MCP Tokens' });
  it('publishes every diagnostic while VS Code can show them all', () => {
    const ds = Array.from({ length: EDITOR_DIAGNOSTICS_PER_FILE }, (_, i) => at(i, 2));
    assert.equal(forEditor(ds), ds);
  });
  it('beyond VS Code\'s limit: the ones it would show (by severity, then nearest the last edit) in document order, and a summary with the count', () => {
    // 3,000 warnings (lines 1-3000), then 5 errors and 2 hints at the end of the file.
    const ds = [...Array.from({ length: 3000 }, (_, i) => at(3000 - i, 2)), at(5000, 1), at(5001, 1), at(5002, 1), at(5003, 1), at(5004, 1), at(6000, 4), at(6001, 4)];
    const top = forEditor(ds);
    assert.equal(top.length, EDITOR_DIAGNOSTICS_PER_FILE);
    const summary = top[0];
    assert.equal(summary.code, 'more-diagnostics');
    assert.equal(summary.severity, 3);
    assert.deepEqual(summary.range.start, { line: 0, character: 0 });
    assert.equal(summary.message, '3,007 MCP Tokens problems in this file: the first 999 by severity are shown (VS Code shows at most 1,000 per file).');
    const lines = top.slice(1).map((d) => d.range.start.line);
    assert.deepEqual(lines, [...lines].sort((a, b) => a - b), 'in document order');
    assert.deepEqual(lines.slice(-5), [5000, 5001, 5002, 5003, 5004], 'every error');
    assert.deepEqual(lines.slice(0, 3), [1, 2, 3], 'not edited: the warnings from the top');
    assert.equal(lines.length - 5, EDITOR_DIAGNOSTICS_PER_FILE - 6);
    assert.ok(!top.some((d) => d.severity === 4), 'hints do not fit');

    // Edited at line 2000: the warnings around it are the ones shown (the errors still first).
    const edited = forEditor(ds, 2000);
    const around = edited.slice(1).filter((d) => d.severity === 2).map((d) => d.range.start.line);
    assert.equal(around.length, EDITOR_DIAGNOSTICS_PER_FILE - 6);
    assert.ok(around.includes(2000) && Math.min(...around) >= 1500 && Math.max(...around) <= 2500, `${Math.min(...around)}–${Math.max(...around)}`);
    assert.equal(edited.filter((d) => d.severity === 1).length, 5);
    assert.match(String(edited[0].message), /the 999 nearest the last edit, by severity, are shown/);
  });
});
