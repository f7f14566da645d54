/**
 * The one way to register a command. `registerCommand(services, 'setToken', handler)` looks the
 * command up in the table (`commandTable.ts`), turns whatever argument VS Code or another extension
 * passed into one `CommandInput`, runs the handler, and turns a failure into one message: logged,
 * shown, and rethrown so automation callers of `executeCommand` see it.
 *
 * The class's policy is applied here and in the `Gate`: a `release` or `destroy` handler receives the
 * gate in its context and cannot obtain a value any other way (the unit test
 * `commands.table.test.ts` checks that values are read only by the gate and the launch path).
 */
import * as vscode from 'vscode';
import type { Services } from '../services';
import { CancelledError, errorText, parseCommandInput, type CommandInput } from './commandInput';
import { COMMANDS, type ArgsOf, type CommandName, type CommandSpec } from './commandTable';
import { actorState, withActor } from './actor';
import { commandAuditEvent } from './commandAudit';

export { ArgumentError, CancelledError, errorText, inputKey, parseCommandInput, type CommandInput } from './commandInput';

export interface CommandErrorPolicy {
  /** The text logged and shown for an error (default: `errorText`); for errors that need scrubbing. */
  describe?(error: unknown): string;
  /** True for errors that need no notification (the user cancelled). */
  quiet?(error: unknown): boolean;
}

export type CommandHandler<N extends CommandName> = (input: CommandInput<ArgsOf<N>>) => unknown;

/** Registers the handler of the command `name` of the table. */
export function registerCommand<N extends CommandName>(s: Services, name: N, handler: CommandHandler<N>, policy: CommandErrorPolicy = {}): void {
  const spec: CommandSpec = COMMANDS[name];
  s.context.subscriptions.push(
    vscode.commands.registerCommand(spec.id, (raw?: unknown) => withActor({ command: spec.id, via: isAutomation(raw) ? 'automation' : 'ui' }, () => run(raw))),
  );
  // Every command runs as its actor (the store records who replaced a value, the gate notes a
  // refusal) and leaves one audit event (commandAudit.ts decides which commands and what outcome).
  async function run(raw: unknown): Promise<unknown> {
    let input: CommandInput<unknown> | undefined;
    try {
      input = parseCommandInput(spec, raw);
      // `activate` does not wait for the token index: a command run right after startup waits for
      // it here (a failure to load is logged at activation; handlers that need it see it themselves).
      await s.store.ready().catch(() => undefined);
      const result = await handler(input as CommandInput<ArgsOf<N>>);
      audit(input, { result });
      return result;
    } catch (e) {
      audit(input, { error: e });
      const quiet = e instanceof CancelledError || policy.quiet?.(e) === true;
      const text = policy.describe ? policy.describe(e) : errorText(e);
      if (quiet) {
        s.log.info(`${spec.id}: ${text}`);
      } else {
        s.log.error(`${spec.id} failed: ${text}`);
        void vscode.window.showErrorMessage(text);
      }
      // The user saw the message; automation callers (and bad arguments) get the rejection.
      if (input?.via === 'ui') return undefined;
      throw e instanceof Error && !policy.describe ? e : new Error(text);
    }
  }
  function audit(input: CommandInput<unknown> | undefined, end: { result?: unknown; error?: unknown }): void {
    const event = commandAuditEvent(name, spec, input, { ...end, denied: actorState()?.denied, describe: policy.describe });
    if (event) s.audit.record(event);
  }
}

/** An automation argument: an object that is not a tree element (those only prefill the UI). */
function isAutomation(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) && (raw as { treeElement?: unknown }).treeElement !== true;
}

/** Registers several handlers with one error policy. */
export function registerCommandGroup(s: Services, handlers: { [N in CommandName]?: CommandHandler<N> }, policy: CommandErrorPolicy = {}): void {
  for (const name of Object.keys(handlers) as CommandName[]) registerCommand(s, name, handlers[name] as CommandHandler<typeof name>, policy);
}
