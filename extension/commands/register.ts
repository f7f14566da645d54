/**
 * Registers a feature's commands with one error policy: a failure is logged, shown to the user, and
 * (by default) rethrown so automation callers of `executeCommand` see it. Messages must never carry a
 * value: features pass `describe` when errors may need scrubbing.
 */
import * as vscode from 'vscode';
import type { Services } from '../services';
import { message } from '../store/tokenStore';

export type CommandHandler = (arg?: unknown) => Promise<unknown>;

export interface CommandErrorPolicy {
  /** The text logged and shown for an error (default: its message). */
  describe?(error: unknown): string;
  /** True for errors that need no notification (e.g. the user cancelled). */
  quiet?(error: unknown): boolean;
  /** Whether the command rejects for this argument (default: always); otherwise it resolves undefined. */
  rethrow?(arg: unknown): boolean;
}

export function registerCommands(s: Services, handlers: Record<string, CommandHandler>, policy: CommandErrorPolicy = {}): void {
  for (const [id, handler] of Object.entries(handlers)) {
    s.context.subscriptions.push(
      vscode.commands.registerCommand(id, async (arg?: unknown) => {
        try {
          return await handler(arg);
        } catch (e) {
          const text = policy.describe ? policy.describe(e) : message(e);
          s.log.error(`${id} failed: ${text}`);
          if (!policy.quiet?.(e)) void vscode.window.showErrorMessage(text);
          if (policy.rethrow && !policy.rethrow(arg)) return undefined;
          throw e instanceof Error && !policy.describe ? e : new Error(text);
        }
      }),
    );
  }
}
