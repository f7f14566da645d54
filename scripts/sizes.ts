// Prints the README's package size tables (markdown) from the packages in dist/ that
// `npm run package -- --all-targets` built: each part of the package (unpacked and compressed in the
// .vsix) and each platform's package. Run: node --import tsx scripts/sizes.ts
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TARGETS } from './binaryFormat';
import { readZip } from './zip';

const root = join(__dirname, '..');
const vsix = (t: string) => join(root, 'dist', `mcp-token-manager-${t}.vsix`);
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const mb = (n: number) => `${(n / 2 ** 20).toFixed(2)} MB`;

const WHEN: Record<string, string> = {
  'extension.js': 'at activation',
  'server.js': 'when the language server starts',
  'zod.js': 'at activation and server start (shared)',
  'lsp.js': 'at activation and server start (shared)',
  'minimatch.js': 'at activation and server start (shared)',
  'jsonc.js': 'at activation and server start (shared)',
  'core.js': 'at activation; by the launcher when a command first needs a backend (shared)',
  'vault-client.js': 'first Vault request (extension or launcher)',
  'mcp-sdk.js': 'first OAuth sign-in or refresh; the launcher\'s `proxy`',
  'secretlint.js': 'first secretlint scan in the language server',
};

const all = [...Object.keys(TARGETS), 'universal'];
const missing = all.filter((t) => !existsSync(vsix(t)));
if (missing.length) {
  console.error(`Missing ${missing.map(vsix).join(', ')}: run npm run package -- --all-targets first.`);
  process.exit(1);
}
const universal = readZip(readFileSync(vsix('universal')));
console.log('| Part | Loaded | Unpacked | In the .vsix |\n| --- | --- | ---: | ---: |');
for (const [name, e] of [...universal].filter(([n]) => n.startsWith('extension/dist/') && n.endsWith('.js')).sort((a, b) => b[1].compressedSize - a[1].compressedSize)) {
  const file = name.slice('extension/dist/'.length);
  console.log(`| \`dist/${file}\` | ${WHEN[file] ?? ''} | ${kb(e.bytes.length)} | ${kb(e.compressedSize)} |`);
}
const launcher = [...universal].filter(([n]) => n.startsWith('extension/dist/cli/'));
console.log(`| \`dist/cli/\` (the \`mcp-tokens\` launcher, ${launcher.length} files) | per command, in its own process | ${kb(launcher.reduce((s, [, e]) => s + e.bytes.length, 0))} | ${kb(launcher.reduce((s, [, e]) => s + e.compressedSize, 0))} |`);
const rest = [...universal].filter(([n]) => !(n.startsWith('extension/dist/') && n.endsWith('.js')) && !n.startsWith('extension/dist/cli/'));
console.log(`| everything else (manifest, README, media, schema, walkthrough) | | ${kb(rest.reduce((s, [, e]) => s + e.bytes.length, 0))} | ${kb(rest.reduce((s, [, e]) => s + e.compressedSize, 0))} |`);

console.log('\n| Package | Keyring binary (unpacked → brotli) | .vsix |\n| --- | ---: | ---: |');
for (const t of all) {
  const bytes = readFileSync(vsix(t));
  const entries = readZip(bytes);
  const manifest = JSON.parse(entries.get('extension/dist/native/keyring.json')!.bytes.toString('utf8'));
  const bin = manifest.binary ? entries.get(`extension/dist/native/${manifest.binary.file}`)! : undefined;
  console.log(`| \`mcp-token-manager-${t}.vsix\` | ${bin ? `${TARGETS[t].triple}: ${kb(manifest.binary.size)} → ${kb(bin.bytes.length)}` : 'none'} | ${mb(bytes.length)} (${bytes.length.toLocaleString('en-US')} bytes) |`);
}
