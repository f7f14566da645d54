/** What the boundary tests share: the repository root, its TypeScript sources, and the "Pure" header claim. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const root = join(__dirname, '..', '..', '..');

export function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** An extension module is pure when its header comment says so. */
export function claimsPurity(file: string): boolean {
  const header = /^\s*\/\*\*([\s\S]*?)\*\//.exec(readFileSync(file, 'utf8'));
  return !!header && /\bPure\b/.test(header[1]);
}
