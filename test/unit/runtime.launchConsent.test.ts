/**
 * Consent covers the launch as it will really run (security findings 3 and 4): the fingerprint is
 * computed on the resolved launch (variables and inputs filled in, each token reference kept as its
 * reference text), so every change to what decides where a value goes asks again, while a token's
 * value never changes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMcpConfig, type ServerEntry } from '../../server/core/mcpConfig';
import { ConsentStore, describeLaunch, fingerprint, identityOf, type StateLike } from '../../extension/runtime/consent';
import { effectiveCwd, finishLaunch, planLaunch, ResolveError, type InputSource, type VariableContext } from '../../extension/runtime/resolve';
import { parseEnvFile } from '../../extension/runtime/envFile';
import { keyId } from '../../server/core/reference';

const REAL = '/w/.vscode/mcp.tokens.json';
const ctx: VariableContext = { workspaceFolder: '/w', userHome: '/home/u', pathSeparator: '/', env: { HOME: '/home/u' } };
const SECRET = 'sk-live-TOKENVALUE-0123456789';
const PASSWORD = 'hunter2-password-input-value';

function entry(json: object, name = 's', inputs: object[] = []): ServerEntry {
  const parsed = parseMcpConfig(JSON.stringify({ servers: { [name]: json }, inputs }));
  assert.equal(parsed.servers.length, 1, JSON.stringify(parsed.problems));
  return parsed.servers[0];
}

interface Facts {
  file?: string;
  inputs?: Record<string, string>;
  secret?: string[];
  baseDir?: string;
  envFileContent?: string;
  ctx?: VariableContext;
}

const inputSource = (f: Facts): InputSource => ({ input: (id) => f.inputs?.[id], isSecretInput: (id) => (f.secret ?? []).includes(id) });

function identity(e: ServerEntry, f: Facts = {}) {
  const plan = planLaunch(e, f.ctx ?? ctx, inputSource(f), f.baseDir ?? '/w');
  return identityOf({ file: f.file ?? REAL, server: e.name }, plan, f.envFileContent);
}
const fp = (e: ServerEntry, f: Facts = {}) => fingerprint(identity(e, f));

const STDIO = { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'], env: { GITHUB_PERSONAL_ACCESS_TOKEN: '$<TOKEN:bearer:gh>' } };
const HTTP = { type: 'http', url: 'https://good.example.com/mcp', headers: { Authorization: 'Bearer $<TOKEN:bearer:gh>' } };

test('an env key added next to an allowed command (NODE_OPTIONS) asks again', () => {
  const base = fp(entry(STDIO));
  assert.match(base, /^[0-9a-f]{64}$/);
  assert.notEqual(fp(entry({ ...STDIO, env: { ...STDIO.env, NODE_OPTIONS: '--require ./steal.js' } })), base);
});

test('an env value changed, or removed (null), asks again', () => {
  const e = (v: string | null) => entry({ ...STDIO, env: { ...STDIO.env, LOG: v } });
  assert.notEqual(fp(e('info')), fp(e('debug')));
  assert.notEqual(fp(e('info')), fp(e(null)));
  // ${env:NAME} is compared once resolved.
  const fromEnv = entry({ ...STDIO, env: { ...STDIO.env, P: '${env:PRELOAD}' } });
  assert.notEqual(fp(fromEnv, { ctx: { ...ctx, env: { PRELOAD: 'a' } } }), fp(fromEnv, { ctx: { ...ctx, env: { PRELOAD: './steal.js' } } }));
});

test('cwd changed asks again; the effective cwd counts (absent = the base folder)', () => {
  const base = fp(entry(STDIO));
  assert.notEqual(fp(entry({ ...STDIO, cwd: 'evil' })), base);
  assert.notEqual(fp(entry({ ...STDIO, cwd: '/tmp' })), base);
  assert.equal(fp(entry({ ...STDIO, cwd: '/w' })), base, 'an explicit cwd equal to the default is the same launch');
  assert.equal(fp(entry({ ...STDIO, cwd: '${workspaceFolder}' })), base);
  assert.notEqual(fp(entry(STDIO), { baseDir: '/home/u' }), base, 'the folder a server runs in is part of it');
});

test('envFile: its path and its content count', () => {
  const withFile = entry({ ...STDIO, envFile: '.env' });
  const base = fp(entry(STDIO));
  assert.notEqual(fp(withFile, { envFileContent: 'A=1\n' }), base);
  assert.notEqual(fp(withFile, { envFileContent: 'A=1\n' }), fp(withFile, { envFileContent: 'A=1\nNODE_OPTIONS=--require ./steal.js\n' }));
  assert.notEqual(fp(withFile, { envFileContent: 'A=1\n' }), fp(entry({ ...STDIO, envFile: 'other.env' }), { envFileContent: 'A=1\n' }));
  const id = identity(withFile, { envFileContent: 'A=1\nNODE_OPTIONS=x\n' });
  assert.equal(id.launch.kind === 'stdio' && id.launch.envFile?.path, '/w/.env');
  assert.match(id.target, /\/w\/\.env/);
  assert.match(id.target, /NODE_OPTIONS/, 'the keys it sets are shown');
  assert.doesNotMatch(id.target, /=x/, 'its values are not');
});

test('an input default in the URL authority (https://${input:region}@good.example.com/mcp) asks again', () => {
  const inputs = [{ type: 'promptString', id: 'region', description: 'Region', default: 'evil.example/#' }];
  const e = entry({ ...HTTP, url: 'https://${input:region}@good.example.com/mcp' }, 's', inputs);
  const good = fp(e, { inputs: { region: 'eu' } });
  const evil = identity(e, { inputs: { region: 'evil.example/#' } });
  assert.notEqual(fingerprint(evil), good);
  assert.match(evil.target, /https:\/\/evil\.example\/#@good\.example\.com\/mcp/, 'the full resolved URL is shown');
  assert.match(evil.target, /host evil\.example\b/, 'with the host it really connects to');
});

test('URL path, query, header name and type changes ask again', () => {
  const base = fp(entry(HTTP));
  assert.notEqual(fp(entry({ ...HTTP, url: 'https://good.example.com/other' })), base);
  assert.notEqual(fp(entry({ ...HTTP, url: 'https://good.example.com/mcp?to=evil' })), base);
  assert.notEqual(fp(entry({ ...HTTP, headers: { ...HTTP.headers, 'X-Forward-To': 'evil.example' } })), base);
  assert.notEqual(fp(entry({ ...HTTP, headers: { 'X-Api-Key': 'Bearer $<TOKEN:bearer:gh>' } })), base);
  // stdio <-> http with the same name and file.
  assert.notEqual(fp(entry({ command: 'https://good.example.com/mcp' })), base);
  const id = identity(entry({ ...HTTP, headers: { ...HTTP.headers, 'X-Forward-To': 'evil.example' } }));
  assert.match(id.target, /Authorization, X-Forward-To/);
  assert.doesNotMatch(id.target, /evil\.example/, 'header values are not shown');
});

test('the token endpoint of a pre-registered OAuth client is part of it', () => {
  const oauth = (tokenUrl: string) => entry({ ...HTTP, oauth: { clientId: 'a', authorizationUrl: 'https://auth.example.com/a', tokenUrl } });
  assert.notEqual(fp(oauth('https://auth.example.com/token')), fp(entry(HTTP)));
  assert.notEqual(fp(oauth('https://auth.example.com/token')), fp(oauth('https://evil.example/token')));
  assert.notEqual(fp(oauth('https://auth.example.com/token')), fp(oauth('https://auth.example.com/other')));
  assert.match(identity(oauth('https://evil.example/token')).target, /token endpoint https:\/\/evil\.example\/token/);
});

test('the defining file counts by its real path (a symlinked file does not borrow consent)', () => {
  assert.notEqual(fp(entry(STDIO), { file: '/elsewhere/mcp.tokens.json' }), fp(entry(STDIO)));
  assert.notEqual(fp(entry(STDIO, 'other')), fp(entry(STDIO)), 'and the server name');
});

test('command and argument boundaries count', () => {
  assert.notEqual(fp(entry({ command: 'node', args: ['a b'] })), fp(entry({ command: 'node', args: ['a', 'b'] })));
  assert.notEqual(fp(entry({ command: 'node', args: ['srv.js'] })), fp(entry({ command: 'bash', args: ['srv.js'] })));
});

test('a token value never affects the fingerprint nor appears anywhere (rotating does not ask again)', () => {
  const e = entry({ ...STDIO, args: ['--token', '$<TOKEN:bearer:gh>'], cwd: '${workspaceFolder}' });
  const id = identity(e);
  const plan = planLaunch(e, ctx, inputSource({}), '/w');
  const launch = finishLaunch(plan, (k) => (keyId(k) === 'bearer:gh' ? SECRET : undefined));
  assert.equal(launch.kind === 'stdio' && launch.env.GITHUB_PERSONAL_ACCESS_TOKEN, SECRET, 'the final launch has the value');
  assert.equal(fingerprint(identityOf({ file: REAL, server: 's' }, plan)), fingerprint(id), 'computing the launch changes nothing');
  const json = JSON.stringify(id);
  assert.ok(!json.includes(SECRET));
  assert.match(id.target, /"\$<TOKEN:bearer:gh>"/, 'the reference text stands for the value, quoted');
  // The other reference form is the same token but a different text as written: still no value.
  assert.ok(!JSON.stringify(identity(entry({ ...STDIO, env: { GITHUB_PERSONAL_ACCESS_TOKEN: '${TOKEN:bearer:gh}' } }))).includes(SECRET));
});

test('a password input value is never in the identity, the record, nor hashed into the fingerprint', async () => {
  const inputs = [{ type: 'promptString', id: 'pw', password: true }];
  const e = entry({ ...STDIO, args: ['--password', '${input:pw}'], env: { ...STDIO.env, PW: 'x${input:pw}' } }, 's', inputs);
  const a = identity(e, { inputs: { pw: PASSWORD }, secret: ['pw'] });
  const b = identity(e, { inputs: { pw: 'another-password' }, secret: ['pw'] });
  assert.equal(fingerprint(a), fingerprint(b), 'the password is represented by its reference text, never its value');
  assert.ok(!JSON.stringify(a).includes(PASSWORD));
  assert.match(a.target, /\$\{input:pw\}/);
  const state = new Map<string, unknown>();
  const memento: StateLike = { get: <T>(k: string) => state.get(k) as T, update: async (k, v) => void state.set(k, v) };
  await new ConsentStore(memento).record({ namespace: 'bearer', name: 'gh' }, a, 'always');
  assert.ok(!JSON.stringify([...state.values()]).includes(PASSWORD));
  // Used in the final launch all the same.
  const launch = finishLaunch(planLaunch(e, ctx, inputSource({ inputs: { pw: PASSWORD }, secret: ['pw'] }), '/w'), () => SECRET);
  assert.deepEqual(launch.kind === 'stdio' && launch.args, ['--password', PASSWORD]);
  assert.equal(launch.kind === 'stdio' && launch.env.PW, `x${PASSWORD}`);
});

test('the description shows the command line (quoted args), cwd, env keys, never env values', () => {
  const e = entry({ command: 'node', args: ['srv.js', 'two words', ''], env: { A: 'value-a', NODE_OPTIONS: '--require ./steal.js', DROP: null }, cwd: 'sub' });
  const lines = describeLaunch(identity(e).launch);
  const text = lines.join('\n');
  assert.match(text, /Runs: node srv\.js "two words" ""/);
  assert.match(text, /In: \/w\/sub/);
  assert.match(text, /Environment: A, DROP \(removed\), NODE_OPTIONS/);
  assert.doesNotMatch(text, /value-a|steal/);
});

test('user-level servers run in the home folder; a relative cwd resolves against it', () => {
  assert.equal(effectiveCwd(undefined, '/home/u'), '/home/u');
  assert.equal(effectiveCwd('proj', '/home/u'), '/home/u/proj');
  assert.equal(effectiveCwd('/abs', '/home/u'), '/abs');
  const user = identity(entry(STDIO), { ctx: { ...ctx, workspaceFolder: undefined }, baseDir: '/home/u' });
  assert.equal(user.launch.kind === 'stdio' && user.launch.cwd, '/home/u');
  const launch = finishLaunch(planLaunch(entry({ ...STDIO, cwd: 'proj' }), ctx, inputSource({}), '/home/u'), () => SECRET);
  assert.equal(launch.kind === 'stdio' && launch.cwd, '/home/u/proj');
});

test('finishLaunch merges the envFile under env and refuses a reference in it', () => {
  const e = entry({ command: 'node', env: { A: 'from-env' }, envFile: '.env' });
  const plan = planLaunch(e, ctx, inputSource({}), '/w');
  const launch = finishLaunch(plan, () => undefined, parseEnvFile('A=from-file\nB=b\n'));
  assert.deepEqual(launch.kind === 'stdio' && launch.env, { B: 'b', A: 'from-env' });
  assert.throws(() => finishLaunch(plan, () => undefined, parseEnvFile('C=$<TOKEN:bearer:gh>\n')), ResolveError);
  assert.throws(() => planLaunch(entry({ command: 'node', envFile: '$<TOKEN:bearer:gh>' }), ctx, inputSource({}), '/w'), /envFile/);
});

test('parseEnvFile reads dotenv lines (dotenv): comments, export, quotes', () => {
  assert.deepEqual(parseEnvFile('# c\nexport A=1\nB="two words"\nC=\'x#y\'\nD=plain # trailing\n\nBAD LINE\nE="a\\nb"\n'), { A: '1', B: 'two words', C: 'x#y', D: 'plain', E: 'a\nb' });
});
