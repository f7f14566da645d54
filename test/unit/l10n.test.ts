/**
 * Localization (README, "Localization"): the extension host's user-visible strings go through
 * `vscode.l10n.t`, and the English bundle `l10n/bundle.l10n.json` is what `@vscode/l10n-dev export`
 * makes of the current sources.
 *  - the committed bundle equals a fresh export (so it cannot go stale: `npm run l10n` rewrites it);
 *  - no notification or modal (`vscode.window.show{Information,Warning,Error}Message`) is given a
 *    plain string or template literal (message, buttons, or the `detail` of its options), and no quick
 *    pick, input box or progress is given a literal title, placeholder or prompt: such a text would
 *    reach the user untranslated. Nothing is allow-listed.
 *  - every `vscode.l10n.t` call has a literal message (the export can only find literals) whose
 *    `{n}` placeholders match the arguments it is given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import * as ts from 'typescript';
import { getL10nJson } from '@vscode/l10n-dev';
import { root, sources } from './support/boundaries';

const files = sources(join(root, 'extension')).sort();
const parsed = files.map((file) => ({ file, sf: ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true) }));

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  node.forEachChild((c) => walk(c, visit));
}

/** Where a node is, for the failure message. */
function at(sf: ts.SourceFile, node: ts.Node): string {
  const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
  return `${relative(root, sf.fileName)}:${line + 1}: ${node.getText(sf).slice(0, 120)}`;
}

/** A literal text given as is: '…', `…`, `…${x}…`, or a concatenation with one. */
function isLiteralText(e: ts.Expression): boolean {
  if (ts.isParenthesizedExpression(e)) return isLiteralText(e.expression);
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e) || ts.isTemplateExpression(e)) return true;
  if (ts.isConditionalExpression(e)) return isLiteralText(e.whenTrue) || isLiteralText(e.whenFalse);
  if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.PlusToken) return isLiteralText(e.left) || isLiteralText(e.right);
  return false;
}

const SHOW_MESSAGE = /^(vscode\.)?window\.show(Information|Warning|Error)Message$/;
const WITH_OPTIONS = /^(vscode\.)?window\.(showQuickPick|showInputBox|withProgress|showOpenDialog|showSaveDialog)$/;
const OPTION_TEXTS = new Set(['title', 'placeHolder', 'prompt', 'openLabel']);

function propertyName(p: ts.ObjectLiteralElementLike): string | undefined {
  return ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : undefined;
}

test('the committed l10n bundle is what @vscode/l10n-dev exports from the current sources', async () => {
  const exported = await getL10nJson(files.map((f) => ({ extension: extname(f), contents: readFileSync(f, 'utf8') })));
  const committed = JSON.parse(readFileSync(join(root, 'l10n', 'bundle.l10n.json'), 'utf8'));
  const stale = Object.keys(committed).filter((k) => !(k in exported));
  const missing = Object.keys(exported).filter((k) => !(k in committed));
  assert.deepEqual({ missing, stale }, { missing: [], stale: [] }, 'l10n/bundle.l10n.json is out of date: run `npm run l10n`');
  assert.deepEqual(committed, exported);
  // Hundreds of strings: the export found the calls (a broken extractor would find none).
  assert.ok(Object.keys(exported).length > 300, `only ${Object.keys(exported).length} strings exported`);
});

test('the manifest points VS Code at the bundle, and the package ships it', () => {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  assert.equal(manifest.l10n, './l10n');
  const ignore = readFileSync(join(root, '.vscodeignore'), 'utf8').split('\n').map((l) => l.trim());
  assert.ok(ignore.includes('!l10n/**'), '.vscodeignore keeps l10n/**');
});

test('no notification, modal, quick pick, input box or progress in extension/ is given a literal text', () => {
  const violations: string[] = [];
  let messages = 0;
  for (const { sf } of parsed) {
    walk(sf, (n) => {
      if (!ts.isCallExpression(n)) return;
      const callee = n.expression.getText(sf).replace(/\s+/g, '');
      if (SHOW_MESSAGE.test(callee)) {
        messages++;
        for (const arg of n.arguments) {
          if (isLiteralText(arg)) violations.push(at(sf, arg));
          if (ts.isObjectLiteralExpression(arg)) {
            for (const p of arg.properties) if (propertyName(p) === 'detail' && isLiteralText((p as ts.PropertyAssignment).initializer)) violations.push(at(sf, p));
          }
        }
      } else if (WITH_OPTIONS.test(callee)) {
        for (const arg of n.arguments) {
          if (!ts.isObjectLiteralExpression(arg)) continue;
          for (const p of arg.properties) {
            const name = propertyName(p);
            if (name && OPTION_TEXTS.has(name) && isLiteralText((p as ts.PropertyAssignment).initializer)) violations.push(at(sf, p));
          }
        }
      }
    });
  }
  assert.deepEqual(violations, []);
  assert.ok(messages > 60, `only ${messages} show*Message calls found: the scan is broken`);
});

test('every vscode.l10n.t call has a literal message whose placeholders match its arguments', () => {
  const problems: string[] = [];
  let calls = 0;
  for (const { sf } of parsed) {
    walk(sf, (n) => {
      if (!ts.isCallExpression(n) || !/^(vscode\.)?l10n\.t$/.test(n.expression.getText(sf))) return;
      calls++;
      const [first, ...rest] = n.arguments;
      let message: string | undefined;
      let args = rest.length;
      if (first && (ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first))) {
        message = first.text;
      } else if (first && ts.isObjectLiteralExpression(first)) {
        const m = first.properties.find((p) => propertyName(p) === 'message') as ts.PropertyAssignment | undefined;
        const a = first.properties.find((p) => propertyName(p) === 'args') as ts.PropertyAssignment | undefined;
        if (m && (ts.isStringLiteral(m.initializer) || ts.isNoSubstitutionTemplateLiteral(m.initializer))) message = m.initializer.text;
        args = a && ts.isArrayLiteralExpression(a.initializer) ? a.initializer.elements.length : 0;
      }
      if (message === undefined) {
        problems.push(`${at(sf, n)} (the message is not a literal)`);
        return;
      }
      const used = new Set([...message.matchAll(/\{(\d+)\}/g)].map((m) => Number(m[1])));
      const expected = new Set(Array.from({ length: args }, (_, i) => i));
      if (used.size !== expected.size || [...used].some((i) => !expected.has(i))) problems.push(`${at(sf, n)} (placeholders ${[...used].join(',') || 'none'}, ${args} argument(s))`);
    });
  }
  assert.deepEqual(problems, []);
  assert.ok(calls > 300, `only ${calls} vscode.l10n.t calls found`);
});
