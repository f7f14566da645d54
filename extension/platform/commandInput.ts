/**
 * The one way to parse a command's argument, and the one way to turn an error into text. Pure (no
 * `vscode`): unit-tested directly, and used by `commands.ts`, which registers every command.
 */
import { describeIssues, isInternalNamespace } from '../../server/core/model';
import { parseKeyId, type TokenKey } from '../../server/core/reference';
import type { CommandSpec } from './commandTable';

/**
 * What a handler receives. `ui`: the user runs the command (palette, menu, tree item, a `namespace:name`
 * string such as a hover link): it asks for whatever is missing and confirms as it would for the user.
 * `args`: an automation object that matched the command's schema.
 */
export type CommandInput<A> =
  | { readonly via: 'ui'; readonly key?: TokenKey; readonly element?: Readonly<Record<string, unknown>> }
  | { readonly via: 'args'; readonly args: A };

/** Raised for bad command arguments; its message names the command and the problem, never a value. */
export class ArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArgumentError';
  }
}

/** A failure the user chose (cancelled): no notification, and interactive callers get `undefined`. */
export class CancelledError extends Error {
  constructor(message = 'Cancelled.') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** The one way to turn an error into text for the log and the user (server/core/errors.ts). */
export { errorText } from '../../server/core/errors';

/** Turns the raw argument of a command into its `CommandInput`, or throws an `ArgumentError`. Pure. */
/** Refuses a key in an internal namespace (see `namespaceSchema` in the table). */
function visible(spec: CommandSpec, key: TokenKey): TokenKey {
  if (isInternalNamespace(key.namespace)) throw new ArgumentError(`${spec.id}: "${key.namespace}" is an internal namespace of MCP Tokens, which commands do not touch.`);
  return key;
}

export function parseCommandInput<S extends CommandSpec>(spec: S, raw: unknown): CommandInput<unknown> {
  if (raw === undefined || raw === null) return { via: 'ui' };
  if (typeof raw === 'string') {
    const key = spec.acceptsKey ? parseKeyId(raw) : undefined;
    if (!key) throw new ArgumentError(`${spec.id}: ${spec.acceptsKey ? `"${raw.slice(0, 80)}" is not a namespace:name key` : 'takes no string argument'}.`);
    return { via: 'ui', key: visible(spec, key) };
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ArgumentError(`${spec.id}: invalid argument (expected an object).`);
  const obj = raw as Record<string, unknown>;
  if (obj.treeElement === true) {
    // A tree element (or something that claims to be one) only prefills the interactive flow.
    const key = typeof obj.namespace === 'string' && typeof obj.name === 'string' ? parseKeyId(`${obj.namespace}:${obj.name}`) : undefined;
    if (typeof obj.namespace === 'string' && isInternalNamespace(obj.namespace)) throw new ArgumentError(`${spec.id}: "${obj.namespace}" is an internal namespace of MCP Tokens, which commands do not touch.`);
    return { via: 'ui', key, element: obj };
  }
  const parsed = spec.args.safeParse(obj);
  if (!parsed.success) throw new ArgumentError(`${spec.id}: invalid arguments: ${describeIssues(parsed.error)}`);
  return { via: 'args', args: parsed.data };
}

/** The token an input names: the automation args' `{namespace, name}` or the prefilled key. */
export function inputKey(input: CommandInput<unknown>): TokenKey | undefined {
  if (input.via === 'ui') return input.key;
  const a = input.args as Partial<TokenKey>;
  return typeof a.namespace === 'string' && typeof a.name === 'string' ? { namespace: a.namespace, name: a.name } : undefined;
}
