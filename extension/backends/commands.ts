/**
 * Backend commands: Check Backends (with each backend's fixes from its descriptor), Move Tokens to
 * Backend… (journaled, resumable), Export Tokens… and Import Tokens… (encrypted file); Vault's own
 * commands are in vaultCommands.ts. Each works interactively and, for automation, with one argument
 * object validated by zod. No backend is named here: what differs between them comes from the
 * registry (backends/registry.ts).
 *
 * Values: passphrases are typed only into password inputs (or passed by automation) and never logged.
 */
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { BACKEND_LABELS, isInternalNamespace, type BackendId, type TokenMetadata } from '../../server/core/model';
import { assessValue, assessmentProblems } from '../../server/core/formats';
import { oauthCompanions, refreshKey } from '../../server/core/oauthKeys';
import { keyId, parseKeyId, parseWholeReference, type TokenKey } from '../../server/core/reference';
import type { Services } from '../services';
import type { BackendHealth } from '../store/backend';
import { decryptExport, encryptExport, EXPORT_EXTENSION, importProblems, passphraseProblem, readExportHeader, type ExportedToken } from './exportFormat';
import { describeMigration, loadMigration, resumeMigration, startMigration, type MigrationJournal, type MigrationResult, type MigrationState } from './migration';
import { errorText as message } from '../../server/core/errors';
import { backendRegistry } from './registry';
import { vaultCommandHandlers } from './vaultCommands';
import { healthIcon, healthSummary } from './healthText';
import { ArgumentError, registerCommandGroup, type CommandInput } from '../platform/commands';
import { sentences } from '../platform/l10n';
import type { ArgsOf, CommandName } from '../platform/commandTable';

const MIGRATION_KEY = 'mcpTokens.migrationJournal';

type Input<N extends CommandName> = CommandInput<ArgsOf<N>>;

/** Up to five keys by name, then how many more: for the gate's questions. */
function keyList(keys: readonly TokenKey[]): string {
  const names = keys.slice(0, 5).map(keyId).join(', ') + (keys.length > 5 ? `, ${vscode.l10n.t('… {0} more', keys.length - 5)}` : '');
  return keys.length === 1 ? vscode.l10n.t('1 token ({0})', names) : vscode.l10n.t('{0} tokens ({1})', keys.length, names);
}

export function registerBackendCommands(services: Services): void {
  const c = new BackendCommands(services);
  registerCommandGroup(services, {
    checkBackends: (i) => c.checkBackends(i),
    moveTokensToBackend: (i) => c.moveTokens(i),
    resumeMigration: () => c.resume(),
    exportTokens: (i) => c.exportTokens(i),
    importTokens: (i) => c.importTokens(i),
    ...vaultCommandHandlers(services),
  });
  void c.offerResume();
}

class BackendCommands {
  constructor(private readonly s: Services) {}

  /** The keys an automation argument names (`namespace:name` strings or objects): each a stored, user-visible token. */
  private storedKeys(list: ReadonlyArray<TokenKey | string>, command: string): TokenKey[] {
    const keys = list.map((k) => {
      if (typeof k !== 'string') return { namespace: k.namespace, name: k.name };
      const key = parseKeyId(k);
      if (!key) throw new ArgumentError(`${command}: "${k.slice(0, 80)}" is not a namespace:name key.`);
      return key;
    });
    const unknown = keys.filter((k) => !this.store.has(k) || isInternalNamespace(k.namespace));
    if (unknown.length) throw new ArgumentError(`${command}: no token ${unknown.map(keyId).join(', ')} is stored.`);
    return keys;
  }

  private get store() {
    return this.s.store;
  }

  private get journal(): MigrationJournal {
    const state = this.s.context.globalState;
    return {
      load: async () => state.get<unknown>(MIGRATION_KEY),
      save: async (value: MigrationState | undefined) => {
        await state.update(MIGRATION_KEY, value);
        await vscode.commands.executeCommand('setContext', 'mcpTokens.migrationPending', value !== undefined);
      },
    };
  }

  // ---- health -----------------------------------------------------------------------------------

  /** Checks every backend; with `{ quiet: true }` only returns the results (automation). */
  async checkBackends(input: Input<'checkBackends'>): Promise<BackendHealth[]> {
    const quiet = input.via === 'args' && input.args.quiet === true;
    const results = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Checking token backends…') }, () => this.store.health());
    for (const h of results) {
      const line = `${BACKEND_LABELS[h.backend]}: ${healthSummary(h)}${h.cause ? ` — ${h.cause}` : ''}${h.fix ? ` Fix: ${h.fix}` : ''}${h.detail ? ` (${h.detail})` : ''}`;
      if (h.healthy || !h.available) this.s.log.info(line);
      else this.s.log.warn(line);
    }
    if (quiet) return results;
    const picked = await vscode.window.showQuickPick(
      results.map((h) => ({
        label: `${healthIcon(h)} ${BACKEND_LABELS[h.backend]}`,
        description: healthSummary(h),
        detail: h.healthy ? h.detail : sentences(h.cause, h.fix && vscode.l10n.t('Fix: {0}', h.fix)),
        health: h,
      })),
      { title: vscode.l10n.t('MCP Tokens: Backends'), placeHolder: vscode.l10n.t('Backend health (select one to act on it)') },
    );
    if (picked && !picked.health.healthy) await this.fix(picked.health);
    return results;
  }

  /** Offers the fixes the backend's descriptor names (one is run at once). */
  private async fix(health: BackendHealth): Promise<void> {
    const fixes = backendRegistry.get(health.backend)?.fixes(health) ?? [];
    const fix = fixes.length === 1 ? fixes[0] : (await vscode.window.showQuickPick(fixes, { title: BACKEND_LABELS[health.backend] }));
    if (fix) await vscode.commands.executeCommand(fix.command, ...(fix.args ?? []));
  }

  // ---- migration --------------------------------------------------------------------------------

  async moveTokens(input: Input<'moveTokensToBackend'>): Promise<MigrationResult | undefined> {
    await this.store.ready();
    const args: ArgsOf<'moveTokensToBackend'> = input.via === 'args' ? input.args : {};
    if (await loadMigration(this.journal)) {
      const resume = vscode.l10n.t('Resume');
      const discard = vscode.l10n.t('Discard Journal');
      const choice = await vscode.window.showWarningMessage(vscode.l10n.t('An earlier move of tokens was interrupted. Finish it first?'), { modal: true }, resume, discard);
      if (choice === resume) return this.resume();
      if (choice !== discard) return undefined;
      await this.journal.save(undefined);
    }
    const to = args.to ?? (await this.pickBackend(vscode.l10n.t('Move tokens to which backend?')));
    if (!to) return undefined;
    if (!this.store.backendIds().includes(to)) throw new ArgumentError(`mcpTokens.moveTokensToBackend: the backend "${to}" is not available in this window.`);
    const health = (await this.store.health()).find((h) => h.backend === to);
    if (health && !health.healthy) {
      throw new Error(vscode.l10n.t('{0} is not usable: {1} {2}', BACKEND_LABELS[to], health.cause ?? vscode.l10n.t('unhealthy'), health.fix ?? '').trim());
    }
    const candidates = this.store.list().filter((t) => t.backend !== to);
    let keys: TokenKey[];
    if (args.keys) {
      keys = this.storedKeys(args.keys, 'mcpTokens.moveTokensToBackend');
    } else {
      if (candidates.length === 0) {
        void vscode.window.showInformationMessage(vscode.l10n.t('Every token is already in {0}.', BACKEND_LABELS[to]));
        return undefined;
      }
      const picked = await this.pickTokens(candidates, vscode.l10n.t('Move to {0}', BACKEND_LABELS[to]), true);
      if (!picked?.length) return undefined;
      keys = picked;
    }
    const result = await this.s.gate.release(
      {
        verb: 'Move',
        what: vscode.l10n.t('the values of {0}', keyList(keys)),
        to: this.destination(to),
        action: vscode.l10n.t('Move'),
        detail: vscode.l10n.t('They are copied there, read back, and removed from where they are now.'),
        automation: input.via === 'args',
      },
      async () =>
        vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Moving tokens to {0}', BACKEND_LABELS[to]), cancellable: false }, (progress) =>
          startMigration(this.store, this.journal, keys, to, { onProgress: (done, total, key) => progress.report({ message: `${done}/${total} ${keyId(key)}`, increment: 100 / Math.max(1, total) }) }),
        ),
    );
    return result && this.report(result);
  }

  async resume(): Promise<MigrationResult | undefined> {
    await this.store.ready();
    const pending = await loadMigration(this.journal);
    if (!pending) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No interrupted token move to resume.'));
      return undefined;
    }
    // The destination's settings may have changed since the move started: ask with today's address.
    const left = pending.items.filter((i) => i.status !== 'moved').map((i) => ({ namespace: i.namespace, name: i.name }));
    const result = await this.s.gate.release(
      {
        verb: 'Move',
        what: vscode.l10n.t('the values of {0}', keyList(left)),
        to: this.destination(pending.to),
        action: vscode.l10n.t('Resume Move'),
        detail: vscode.l10n.t('This finishes a move of tokens that was interrupted.'),
      },
      async () => vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Resuming the token move') }, () => resumeMigration(this.store, this.journal)),
    );
    return result && this.report(result);
  }

  /** Where a backend keeps values, with its address: what the gate names as the destination. */
  private destination(id: BackendId): string {
    return backendRegistry.get(id)?.destination(this.s.config) ?? BACKEND_LABELS[id];
  }

  async offerResume(): Promise<void> {
    try {
      const pending = await loadMigration(this.journal);
      await vscode.commands.executeCommand('setContext', 'mcpTokens.migrationPending', pending !== undefined);
      if (!pending) return;
      const left = pending.items.filter((i) => i.status !== 'moved').length;
      const resume = vscode.l10n.t('Resume');
      const choice = await vscode.window.showWarningMessage(
        left === 1
          ? vscode.l10n.t('A move of 1 token to {0} was interrupted. Nothing was lost.', BACKEND_LABELS[pending.to])
          : vscode.l10n.t('A move of {0} tokens to {1} was interrupted. Nothing was lost.', left, BACKEND_LABELS[pending.to]),
        resume,
      );
      if (choice === resume) await vscode.commands.executeCommand('mcpTokens.resumeMigration');
    } catch (e) {
      this.s.log.warn(`Could not read the token move journal: ${message(e)}`);
    }
  }

  private report(result: MigrationResult): MigrationResult {
    const text = describeMigration(result);
    this.s.log.info(`Move tokens: ${text}`);
    if (result.resumable) {
      const resume = vscode.l10n.t('Resume');
      void vscode.window.showWarningMessage(vscode.l10n.t('{0} Nothing was lost; fix the cause and resume.', text), resume).then((c) => {
        if (c === resume) void vscode.commands.executeCommand('mcpTokens.resumeMigration');
      });
    } else {
      void vscode.window.showInformationMessage(text);
    }
    return result;
  }

  // ---- export / import --------------------------------------------------------------------------

  async exportTokens(input: Input<'exportTokens'>): Promise<{ file: string; count: number } | undefined> {
    await this.store.ready();
    const args: ArgsOf<'exportTokens'> = input.via === 'args' ? input.args : {};
    const all = this.store.list();
    if (all.length === 0) throw new Error(vscode.l10n.t('There are no tokens to export.'));
    // Only user-visible tokens are named; their OAuth companions come along by themselves.
    const keys = args.keys ? this.storedKeys(args.keys, 'mcpTokens.exportTokens') : await this.pickTokens(all, vscode.l10n.t('Export which tokens?'), true);
    if (!keys?.length) return undefined;
    const passphrase = args.passphrase ?? (await this.newPassphrase());
    if (passphrase === undefined) return undefined;
    const problem = passphraseProblem(passphrase);
    if (problem) throw new Error(problem);
    const file = args.file ?? (await this.saveLocation());
    if (!file) return undefined;
    const withCompanions = this.withCompanions(keys);
    const tokens = await this.s.gate.release(
      {
        verb: 'Export',
        what:
          withCompanions.length > keys.length
            ? vscode.l10n.t('the values of {0} with their OAuth refresh tokens and client registrations', keyList(keys))
            : vscode.l10n.t('the values of {0}', keyList(keys)),
        to: vscode.l10n.t('the file {0}', file),
        action: vscode.l10n.t('Export'),
        detail:
          args.passphrase !== undefined
            ? vscode.l10n.t('The file is encrypted with the passphrase that the command was given: anyone who has both can read every value in it.')
            : vscode.l10n.t('The file is encrypted with the passphrase you typed: anyone who has both can read every value in it.'),
        automation: input.via === 'args',
      },
      async (read) => {
        const out: ExportedToken[] = [];
        for (const key of withCompanions) {
          const meta = this.store.get(key)!;
          const value = await read.value(key);
          if (value === undefined) throw new Error(vscode.l10n.t('The value of {0} is missing from {1}; nothing was exported.', keyId(key), BACKEND_LABELS[meta.backend]));
          const previous = meta.hasPrevious ? await read.previous(key).catch(() => undefined) : undefined;
          out.push({
            namespace: meta.namespace,
            name: meta.name,
            type: meta.type,
            value,
            previous,
            createdAt: meta.createdAt,
            expiresAt: meta.expiresAt,
            provider: meta.provider,
            description: meta.description,
            oauth: meta.oauth,
          });
        }
        return out;
      },
    );
    if (!tokens) return undefined;
    const text = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Encrypting the export…') }, () => encryptExport(tokens, passphrase));
    await fs.writeFile(file, text, { mode: 0o600 });
    await fs.chmod(file, 0o600).catch(() => undefined);
    this.s.log.info(`Exported ${tokens.length} entr${tokens.length === 1 ? 'y' : 'ies'} to ${file} (encrypted, AES-256-GCM with a scrypt-derived key).`);
    void vscode.window.showInformationMessage(
      keys.length === 1
        ? vscode.l10n.t('Exported 1 token to {0}. Keep the passphrase: without it the file cannot be read.', file)
        : vscode.l10n.t('Exported {0} tokens to {1}. Keep the passphrase: without it the file cannot be read.', keys.length, file),
    );
    return { file, count: keys.length };
  }

  /** `keys` and the OAuth companions of each that are stored (refresh token, client registration). */
  private withCompanions(keys: readonly TokenKey[]): TokenKey[] {
    const out = new Map<string, TokenKey>();
    for (const key of keys) {
      out.set(keyId(key), key);
      const meta = this.store.get(key);
      for (const c of meta ? oauthCompanions(meta) : []) if (this.store.has(c)) out.set(keyId(c), c);
    }
    return [...out.values()];
  }

  async importTokens(input: Input<'importTokens'>): Promise<{ imported: string[]; skipped: string[] } | undefined> {
    await this.store.ready();
    const args: ArgsOf<'importTokens'> = input.via === 'args' ? input.args : {};
    const file = args.file ?? (await this.openLocation());
    if (!file) return undefined;
    const text = await fs.readFile(file, 'utf8');
    const header = readExportHeader(text);
    const passphrase =
      args.passphrase ??
      (await vscode.window.showInputBox({
        title: header.count === 1 ? vscode.l10n.t('Import 1 token (exported {0})', header.createdAt) : vscode.l10n.t('Import {0} tokens (exported {1})', header.count, header.createdAt),
        prompt: vscode.l10n.t('Passphrase of the export file'),
        password: true,
        ignoreFocusOut: true,
      }));
    if (passphrase === undefined) return undefined;
    // Everything is decrypted and checked before anything is written: a wrong passphrase or a
    // changed file imports nothing.
    const { tokens } = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Decrypting…') }, () => decryptExport(text, passphrase));
    const problems = importProblems(tokens);
    if (problems.length) throw new Error(vscode.l10n.t('The export file cannot be imported; nothing was imported: {0}.', problems.join('; ')));
    // Users pick tokens; the OAuth companions of those they pick come along.
    const visible = tokens.filter((t) => !isInternalNamespace(t.namespace));
    let picked = visible;
    if (!args.file) {
      const picks = await vscode.window.showQuickPick(
        visible.map((t) => ({ label: keyId(t), description: this.store.has(t) ? vscode.l10n.t('{0} · exists here', t.type) : t.type, picked: true, token: t })),
        { canPickMany: true, title: vscode.l10n.t('Import which tokens?'), ignoreFocusOut: true },
      );
      if (!picks?.length) return undefined;
      picked = picks.map((p) => p.token);
    }
    const conflicts = picked.filter((t) => this.store.has(t));
    let existing = args.existing;
    if (conflicts.length && !existing) {
      const names = `${conflicts.slice(0, 5).map(keyId).join(', ')}${conflicts.length > 5 ? ', …' : ''}`;
      const overwrite = vscode.l10n.t('Overwrite');
      const choice = await vscode.window.showWarningMessage(
        conflicts.length === 1 ? vscode.l10n.t('1 token already exists here ({0}).', names) : vscode.l10n.t('{0} tokens already exist here ({1}).', conflicts.length, names),
        { modal: true },
        overwrite,
        vscode.l10n.t('Skip Existing'),
      );
      if (!choice) return undefined;
      existing = choice === overwrite ? 'overwrite' : 'skip';
    }
    const skipped = picked.filter((t) => this.store.has(t) && existing === 'skip').map(keyId);
    const written = picked.filter((t) => !skipped.includes(keyId(t)));
    // A client secret reference must name a token this import writes: a skipped or unpicked one would
    // name this machine's own token, which a refresh would then send to the file's token endpoint.
    const writtenIds = new Set(written.map(keyId));
    const dangling = written.filter((t) => {
      const ref = t.oauth?.clientSecretRef && parseWholeReference(t.oauth.clientSecretRef.trim());
      return ref && !writtenIds.has(keyId(ref));
    });
    if (dangling.length) {
      throw new Error(
        vscode.l10n.t('Nothing was imported: the client secret of {0} refers to a token this import would not write (it exists here and is skipped, or was not picked).', dangling.map(keyId).join(', ')),
      );
    }
    const backend = args.backend ?? (args.file ? undefined : await this.pickBackend(vscode.l10n.t('Import into which backend?'), true));
    if (backend === null) return undefined;
    // Each written OAuth token comes with its own companions; a refresh token of this machine that the
    // file does not replace is retired to Recently Deleted, so an imported token never refreshes with it.
    const companions = new Set(written.flatMap((t) => oauthCompanions(t).map(keyId)));
    for (const t of written.filter((x) => x.type === 'oauth')) {
      const own = refreshKey(t);
      if (!tokens.some((x) => keyId(x) === keyId(own)) && this.store.has(own)) await this.store.delete(own);
    }
    // Companions first: an OAuth token is usable once it is listed, so its refresh token is already there.
    const chosen = [...tokens.filter((t) => companions.has(keyId(t))), ...written];
    const imported: string[] = [];
    const failures: string[] = [];
    const warnings: string[] = [];
    const now = new Date();
    for (const t of chosen) {
      try {
        // The format rules and the JWT reader, as for Set Token: a JWT's claims are read again; a
        // problem is reported with the token, never a reason to leave it out.
        const checked = assessValue(t.value, { provider: t.provider, type: t.type }, now);
        if (!companions.has(keyId(t)) && t.type !== 'oauth') for (const p of assessmentProblems(checked, now)) warnings.push(`${keyId(t)}: ${p}`);
        const base = { namespace: t.namespace, name: t.name, type: t.type, expiresAt: t.expiresAt, provider: t.provider, description: t.description, backend: backend ?? undefined, jwt: checked.jwt };
        if (t.previous) {
          await this.store.set({ ...base, value: t.previous }, { reason: 'import' });
          await this.store.rotate(t, t.value, { jwt: checked.jwt });
        } else {
          await this.store.set({ ...base, value: t.value }, { reason: 'import' });
        }
        if (t.oauth) await this.store.updateMetadata(t, { oauth: t.oauth });
        if (!companions.has(keyId(t))) imported.push(keyId(t));
      } catch (e) {
        failures.push(`${keyId(t)}: ${message(e)}`);
      }
    }
    const summary = skipped.length
      ? imported.length === 1
        ? vscode.l10n.t('Imported 1 token, skipped {0} existing.', skipped.length)
        : vscode.l10n.t('Imported {0} tokens, skipped {1} existing.', imported.length, skipped.length)
      : imported.length === 1
        ? vscode.l10n.t('Imported 1 token.')
        : vscode.l10n.t('Imported {0} tokens.', imported.length);
    this.s.log.info(`${summary}${failures.length ? ` Failed: ${failures.join('; ')}` : ''}`);
    for (const w of warnings) this.s.log.warn(`Import: ${w}`);
    const reported = warnings.length === 0 ? undefined : warnings.length === 1 ? vscode.l10n.t('1 problem: {0}', sentences(...warnings)) : vscode.l10n.t('{0} problems: {1}', warnings.length, sentences(...warnings));
    if (failures.length) void vscode.window.showErrorMessage(sentences(summary, vscode.l10n.t('{0} failed: {1}', failures.length, failures.join('; ')), reported));
    else if (reported) void vscode.window.showWarningMessage(sentences(summary, reported));
    else void vscode.window.showInformationMessage(summary);
    return { imported, skipped };
  }

  // ---- pickers ----------------------------------------------------------------------------------

  /** Picks a backend; with `allowKeep`, "each namespace's default" returns undefined and cancel returns null. */
  private async pickBackend(title: string, allowKeep = false): Promise<BackendId | undefined | null> {
    const health = await this.store.health();
    const items: Array<vscode.QuickPickItem & { id?: BackendId }> = this.store.backendIds().map((id) => {
      const h = health.find((x) => x.backend === id);
      return { label: `${h ? healthIcon(h) : ''} ${BACKEND_LABELS[id]}`, description: h ? healthSummary(h) : '', detail: h && !h.healthy ? h.cause : undefined, id };
    });
    if (allowKeep) items.unshift({ label: `$(settings) ${vscode.l10n.t("Each namespace's configured backend")}`, description: 'mcpTokens.backend.default / namespaces' });
    const picked = await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true });
    if (!picked) return allowKeep ? null : undefined;
    return picked.id;
  }

  private async pickTokens(tokens: readonly TokenMetadata[], title: string, all: boolean): Promise<TokenKey[] | undefined> {
    const picks = await vscode.window.showQuickPick(
      tokens.map((t) => ({ label: keyId(t), description: `${t.type} · ${BACKEND_LABELS[t.backend]}`, picked: all, key: { namespace: t.namespace, name: t.name } })),
      { canPickMany: true, title, ignoreFocusOut: true, matchOnDescription: true },
    );
    return picks?.map((p) => p.key);
  }

  private async newPassphrase(): Promise<string | undefined> {
    const first = await vscode.window.showInputBox({
      title: vscode.l10n.t('Export passphrase'),
      prompt: vscode.l10n.t('The file is encrypted with a key derived from this passphrase (scrypt, AES-256-GCM). It cannot be recovered.'),
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => passphraseProblem(v),
    });
    if (first === undefined) return undefined;
    const second = await vscode.window.showInputBox({ title: vscode.l10n.t('Export passphrase'), prompt: vscode.l10n.t('Type the passphrase again'), password: true, ignoreFocusOut: true });
    if (second === undefined) return undefined;
    if (second !== first) throw new Error(vscode.l10n.t('The two passphrases differ; nothing was exported.'));
    return first;
  }

  private async saveLocation(): Promise<string | undefined> {
    const name = `mcp-tokens-${new Date().toISOString().slice(0, 10)}.${EXPORT_EXTENSION}`;
    const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? homedir();
    const uri = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(join(base, name)), filters: { [vscode.l10n.t('MCP Tokens export')]: [EXPORT_EXTENSION] }, title: vscode.l10n.t('Export tokens to') });
    return uri?.fsPath;
  }

  private async openLocation(): Promise<string | undefined> {
    const uris = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { [vscode.l10n.t('MCP Tokens export')]: [EXPORT_EXTENSION], [vscode.l10n.t('All files')]: ['*'] }, title: vscode.l10n.t('Import tokens from') });
    return uris?.[0]?.fsPath;
  }
}
