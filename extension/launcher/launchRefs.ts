/**
 * What `mcp-tokens run` and `proxy` do with the references in their own environment, arguments and
 * headers. Pure: no `vscode`, no I/O; the grammar is server/core/reference.ts.
 *
 * Every string is scanned for `$<TOKEN:ns:name>` and `${TOKEN:ns:name}`. A malformed reference
 * (`$<TOKEN:only-one-part>`) is an error before anything starts: the server would otherwise receive
 * the literal text. Values are substituted only where a reference stood; nothing else changes.
 */
import { findReferences, formatReference, keyId, substituteReferences, type TokenKey } from '../../server/core/reference';

/** Where a string came from, for messages: `env FOO`, `argument 3`, `header Authorization`. */
export interface Field {
  readonly where: string;
  readonly text: string;
}

export interface ReferenceScan {
  /** Every distinct well-formed key, in order of first appearance. */
  readonly keys: TokenKey[];
  /** One message per malformed reference (naming the field, never a value). */
  readonly malformed: string[];
}

/** The references of every field. */
export function scanFields(fields: readonly Field[]): ReferenceScan {
  const seen = new Map<string, TokenKey>();
  const malformed: string[] = [];
  for (const f of fields) {
    for (const m of findReferences(f.text)) {
      if (m.kind === 'malformed') {
        malformed.push(`${f.where}: ${m.message}`);
        continue;
      }
      const id = keyId(m);
      if (!seen.has(id)) seen.set(id, { namespace: m.namespace, name: m.name });
    }
  }
  return { keys: [...seen.values()], malformed };
}

/** The environment and arguments of a launch as fields (environment values only; names stay literal). */
export function launchFields(env: Readonly<Record<string, string | undefined>>, args: readonly string[]): Field[] {
  const out: Field[] = [];
  for (const [name, value] of Object.entries(env)) if (typeof value === 'string' && value.includes('$')) out.push({ where: `environment variable ${name}`, text: value });
  args.forEach((text, i) => out.push({ where: i === 0 ? 'the command' : `argument ${i}`, text }));
  return out;
}

/** `text` with every reference replaced by its value; throws when one has no value (a caller bug: all were resolved first). */
export function fill(text: string, values: ReadonlyMap<string, string>): string {
  const r = substituteReferences(text, (key) => values.get(keyId(key)));
  if (r.missing.length) throw new Error(`No value for ${r.missing.map((k) => formatReference(k)).join(', ')}.`);
  return r.text;
}

/** The environment with references in values replaced (variables without one are passed as they are). */
export function fillEnv(env: Readonly<Record<string, string | undefined>>, values: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (typeof value === 'string') out[name] = value.includes('$') ? fill(value, values) : value;
  return out;
}

/**
 * `text` with every occurrence of a value (at least 4 characters long) replaced by `***`: for the
 * messages the launcher prints, whatever they were built from (an error of a library, a server's answer).
 */
export function redact(text: string, values: Iterable<string>): string {
  let out = text;
  for (const v of [...values].filter((x) => x.length >= 4).sort((a, b) => b.length - a.length)) out = out.split(v).join('***');
  return out;
}

/** A header given as `Name: value` (the value may hold references). */
export interface HeaderArg {
  readonly name: string;
  readonly value: string;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses `--header "Name: value"`; throws with a message naming the problem (never the value). */
export function parseHeader(text: string): HeaderArg {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new Error(`A --header must look like "Name: value" (got a header without a name before ":").`);
  const name = text.slice(0, colon).trim();
  if (!HEADER_NAME.test(name)) throw new Error(`"${name.slice(0, 64)}" is not a valid HTTP header name.`);
  const value = text.slice(colon + 1).trim();
  if (/[\r\n\0]/.test(value)) throw new Error(`The value of header ${name} holds a line break or NUL.`);
  return { name, value };
}
