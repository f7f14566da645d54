/**
 * Who is acting: the command being run (its id and whether the user or an automation caller ran it),
 * or the server or launcher client on whose behalf a value is read. Pure (node's AsyncLocalStorage,
 * no `vscode`): `commands.ts` runs every handler inside `withActor`, so the store (which records who
 * replaced a value in its version history) and the audit trail know the actor without it being
 * passed through every call.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface Actor {
  /** The command id, e.g. `mcpTokens.rotateToken`. */
  readonly command?: string;
  /** `ui`: the user ran it (palette, menu, tree); `automation`: a command argument object (maybe another extension). */
  readonly via?: 'ui' | 'automation';
  /** The MCP server a launch resolves tokens for. */
  readonly server?: string;
  /** The launcher client (the mcp-tokens command-line launcher) that asked. */
  readonly launcher?: string;
}

/** What a command's run learns on the way (the gate's answer), for its audit event. */
export interface ActorState {
  readonly actor: Actor;
  /** Set by the gate when the user declined a release or a destruction. */
  denied?: string;
}

const storage = new AsyncLocalStorage<ActorState>();

/** Runs `work` as `actor` (nested calls see the innermost actor). */
export function withActor<T>(actor: Actor, work: () => T): T {
  return storage.run({ actor }, work);
}

/** The actor of the running command or launch, if any. */
export function currentActor(): Actor | undefined {
  return storage.getStore()?.actor;
}

/** The state of the running command (the gate marks a refusal in it). */
export function actorState(): ActorState | undefined {
  return storage.getStore();
}

/** The actor in words, for a version's "replaced by": `mcpTokens.rotateToken (ui)`, `server "x"`. */
export function describeActor(a: Actor | undefined): string | undefined {
  if (!a) return undefined;
  const parts = [a.command ? `${a.command}${a.via ? ` (${a.via})` : ''}` : undefined, a.server ? `server "${a.server}"` : undefined, a.launcher ? `launcher ${a.launcher}` : undefined].filter(Boolean);
  return parts.length ? parts.join(', ').slice(0, 200) : undefined;
}
