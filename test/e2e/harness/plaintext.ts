/**
 * Plaintext scan: after an end-to-end run, look for every stored token value in every file the run
 * left behind (code-server's user-data-dir and logs, the extensions dir, the workspace, the temp
 * HOME, the Chromium profile). A hit names the file and the encoding, never the value.
 *
 * Pure Node (no VS Code, no Playwright), so it is unit-tested directly.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { join } from 'node:path';

export interface PlaintextHit {
  readonly file: string;
  /** Which encoding of the value was found (utf8, utf16le, json, base64, base64url, url, hex). */
  readonly form: string;
  /** Index of the secret in the list given (never the value). */
  readonly secretIndex: number;
}

/** Values shorter than this give false positives in binary files; tests must use longer ones. */
export const MIN_SECRET_LENGTH = 8;

interface Needle {
  readonly bytes: Buffer;
  readonly form: string;
  readonly secretIndex: number;
}

/**
 * The byte patterns a value may take on disk: raw UTF-8, UTF-16LE (Chromium stores JS strings so),
 * JSON-escaped, URL-encoded, hex, and base64/base64url at each of the three alignments it can have
 * inside a longer base64 stream (the edge characters that depend on neighbouring bytes are cut).
 */
export function needlesFor(secret: string, secretIndex: number): Needle[] {
  const raw = Buffer.from(secret, 'utf8');
  const out = new Map<string, Needle>();
  const add = (form: string, bytes: Buffer) => {
    if (bytes.length >= 6 && !out.has(bytes.toString('latin1'))) out.set(bytes.toString('latin1'), { bytes, form, secretIndex });
  };
  add('utf8', raw);
  add('utf16le', Buffer.from(secret, 'utf16le'));
  add('json', Buffer.from(JSON.stringify(secret).slice(1, -1), 'utf8'));
  add('url', Buffer.from(encodeURIComponent(secret), 'utf8'));
  add('hex', Buffer.from(raw.toString('hex'), 'utf8'));
  add('HEX', Buffer.from(raw.toString('hex').toUpperCase(), 'utf8'));
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), raw]);
    for (const [form, enc] of [['base64', 'base64'], ['base64url', 'base64url']] as const) {
      let text = padded.toString(enc).replace(/=+$/, '');
      // Characters mixing prefix bytes: drop ceil(shift*8/6); the last char may mix with what follows.
      const headCut = Math.ceil((shift * 8) / 6);
      const tailCut = (padded.length * 8) % 6 === 0 ? 0 : 1;
      text = text.slice(headCut, text.length - tailCut);
      add(form, Buffer.from(text, 'utf8'));
    }
  }
  return [...out.values()];
}

async function* walk(dir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

/** Streams a file and reports which needles occur in it (overlapping chunk edges are handled). */
async function scanFile(file: string, needles: readonly Needle[], maxNeedle: number): Promise<Needle[]> {
  const found = new Set<Needle>();
  let carry = Buffer.alloc(0);
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
      const buf = Buffer.concat([carry, chunk as Buffer]);
      for (const n of needles) if (!found.has(n) && buf.indexOf(n.bytes) !== -1) found.add(n);
      carry = buf.subarray(Math.max(0, buf.length - maxNeedle + 1));
    }
  } catch {
    // Vanished or unreadable (sockets, files deleted while scanning): nothing to report.
  }
  return [...found];
}

/** Every file under `roots` holding any encoding of any of `secrets`. */
export async function scanForPlaintext(roots: readonly string[], secrets: readonly string[]): Promise<PlaintextHit[]> {
  secrets.forEach((s, i) => {
    if (s.length < MIN_SECRET_LENGTH) throw new Error(`Secret #${i} is shorter than ${MIN_SECRET_LENGTH} characters: use a longer test value.`);
  });
  const needles = secrets.flatMap((s, i) => needlesFor(s, i));
  const maxNeedle = Math.max(...needles.map((n) => n.bytes.length));
  const hits: PlaintextHit[] = [];
  const seen = new Set<string>();
  for (const root of roots) {
    for await (const file of walk(root)) {
      if (seen.has(file)) continue;
      seen.add(file);
      for (const n of await scanFile(file, needles, maxNeedle)) hits.push({ file, form: n.form, secretIndex: n.secretIndex });
    }
  }
  return hits;
}

/** Throws (naming files and encodings, never values) when any secret is found under `roots`. */
export async function assertNoPlaintext(roots: readonly string[], secrets: readonly string[]): Promise<void> {
  const hits = await scanForPlaintext(roots, secrets);
  if (hits.length) {
    const lines = hits.map((h) => `  ${h.file} (secret #${h.secretIndex}, ${h.form})`);
    throw new Error(`Token values found in plaintext in ${hits.length} place(s):\n${lines.join('\n')}`);
  }
}
