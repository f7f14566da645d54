/** The README documents every command and setting the manifest contributes. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(__dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const nls = JSON.parse(readFileSync(join(root, 'package.nls.json'), 'utf8'));

describe('README and manifest', () => {
  it('documents every command', () => {
    const missing = pkg.contributes.commands.map((c: { command: string }) => c.command).filter((id: string) => !readme.includes(`\`${id}\``));
    assert.deepEqual(missing, []);
  });

  it('documents every setting', () => {
    const missing = Object.keys(pkg.contributes.configuration.properties).filter((k) => !readme.includes(`\`${k}\``));
    assert.deepEqual(missing, []);
  });

  it('defines every %string% the manifest uses', () => {
    const used = [...JSON.stringify(pkg.contributes).matchAll(/"%([^%"]+)%"/g)].map((m) => m[1]);
    assert.ok(used.length > 50);
    assert.deepEqual(used.filter((k) => !(k in nls)), []);
  });

  it('every command handler id is declared with a category', () => {
    for (const c of pkg.contributes.commands) assert.equal(c.category, '%category%', c.command);
  });
});
