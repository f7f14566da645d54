/**
 * Backend commands: Check Backends, Move Tokens to Backend… (journaled, resumable), Export Tokens…
 * and Import Tokens… (encrypted file), Set Vault Token… and Vault Login (AppRole)…. Each works
 * interactively and, for automation, with one argument object validated by zod.
 *
 * Values: passphrases and Vault credentials are typed only into password inputs (or passed by
 * automation), kept in SecretStorage when they must be kept, and never logged.
 */
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { z } from 'zod';
import { BACKEND_IDS, BACKEND_LABELS, backendIdSchema, describeIssues, nameSchema, namespaceSchema, type BackendId, type TokenMetadata } from '../../server/core/model';
import { keyId, type TokenKey } from '../../server/core/reference';
import type { Services } from '../services';
import type { BackendHealth } from '../store/backend';
import { decryptExport, encryptExport, EXPORT_EXTENSION, passphraseProblem, readExportHeader, type ExportedToken } from '../store/exportFormat';
import { describeMigration, loadMigration, resumeMigration, startMigration, type MigrationJournal, type MigrationResult, type MigrationState } from '../store/migration';
import { message } from '../store/tokenStore';
import { VAULT_SECRET_ID_SECRET, VAULT_TOKEN_SECRET } from '../store/vaultBackend';
import { healthIcon, healthSummary } from '../views/backendHealthText';
import { registerCommands, type CommandHandler } from './register';

const MIGRATION_KEY = 'mcpTokens.migrationJournal';
const keySchema = z.object({ namespace: namespaceSchema, name: nameSchema });
const keysSchema = z.array(z.union([keySchema, z.string()])).max(10_000);

const moveArgs = z.object({ to: backendIdSchema.optional(), keys: keysSchema.optional() });
const exportArgs = z.object({ keys: keysSchema.optional(), file: z.string().optional(), passphrase: z.string().optional() });
const importArgs = z.object({
  file: z.string().optional(),
  passphrase: z.string().optional(),
  backend: backendIdSchema.optional(),
  /** What to do with tokens that already exist: 'overwrite' or 'skip' (automation; asks otherwise). */
  existing: z.enum(['overwrite', 'skip']).optional(),
});
const vaultTokenArgs = z.object({ token: z.string().optional() });
const vaultLoginArgs = z.object({ roleId: z.string().optional(), secretId: z.string().optional() });

function parse<T extends z.ZodType>(schema: T, raw: unknown, command: string): z.infer<T> {
  const r = schema.safeParse(raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {});
  if (!r.success) throw new Error(`${command}: invalid argument (${describeIssues(r.error)}).`);
  return r.data;
}

function toKeys(list: ReadonlyArray<TokenKey | string>): TokenKey[] {
  return list.map((k) => {
    if (typeof k !== 'string') return { namespace: k.namespace, name: k.name };
    const i = k.indexOf(':');
    return { namespace: k.slice(0, i), name: k.slice(i + 1) };
  });
}

export function registerBackendCommands(services: Services): void {
  const c = new BackendCommands(services);
  const commands: Record<string, CommandHandler> = {
    'mcpTokens.checkBackends': (a) => c.checkBackends(a),
    'mcpTokens.moveTokensToBackend': (a) => c.moveTokens(a),
    'mcpTokens.resumeMigration': () => c.resume(),
    'mcpTokens.exportTokens': (a) => c.exportTokens(a),
    'mcpTokens.importTokens': (a) => c.importTokens(a),
    'mcpTokens.setVaultToken': (a) => c.setVaultToken(a),
    'mcpTokens.vaultLogin': (a) => c.vaultLogin(a),
  };
  registerCommands(services, commands);
  void c.offerResume();
}

class BackendCommands {
  constructor(private readonly s: Services) {}

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
  async checkBackends(raw?: unknown): Promise<BackendHealth[]> {
    const quiet = parse(z.object({ quiet: z.boolean().optional() }), raw, 'mcpTokens.checkBackends').quiet;
    const results = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Checking token backends…' }, () => this.store.health());
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
        detail: h.healthy ? h.detail : [h.cause, h.fix && `Fix: ${h.fix}`].filter(Boolean).join(' '),
        health: h,
      })),
      { title: 'MCP Tokens: Backends', placeHolder: 'Backend health (select one to act on it)' },
    );
    if (picked && !picked.health.healthy && picked.health.backend === 'vault' && picked.health.available) {
      const action = await vscode.window.showQuickPick(['Set Vault Token…', 'Vault Login (AppRole)…', 'Open Vault Settings'], { title: 'HashiCorp Vault' });
      if (action === 'Set Vault Token…') await this.setVaultToken();
      else if (action === 'Vault Login (AppRole)…') await this.vaultLogin();
      else if (action) await vscode.commands.executeCommand('workbench.action.openSettings', 'mcpTokens.vault');
    } else if (picked && !picked.health.healthy) {
      await vscode.commands.executeCommand('workbench.action.openSettings', picked.health.backend === 'keyring' ? 'mcpTokens.keyring' : 'mcpTokens.backend');
    }
    return results;
  }

  // ---- migration --------------------------------------------------------------------------------

  async moveTokens(raw?: unknown): Promise<MigrationResult | undefined> {
    await this.store.ready();
    const args = parse(moveArgs, raw, 'mcpTokens.moveTokensToBackend');
    if (await loadMigration(this.journal)) {
      const choice = await vscode.window.showWarningMessage('An earlier move of tokens was interrupted. Finish it first?', { modal: true }, 'Resume', 'Discard Journal');
      if (choice === 'Resume') return this.resume();
      if (choice !== 'Discard Journal') return undefined;
      await this.journal.save(undefined);
    }
    const to = args.to ?? (await this.pickBackend('Move tokens to which backend?'));
    if (!to) return undefined;
    const health = (await this.store.health()).find((h) => h.backend === to);
    if (health && !health.healthy) {
      throw new Error(`${BACKEND_LABELS[to]} is not usable: ${health.cause ?? 'unhealthy'} ${health.fix ?? ''}`.trim());
    }
    const candidates = this.store.list().filter((t) => t.backend !== to);
    let keys: TokenKey[];
    if (args.keys) {
      keys = toKeys(args.keys);
    } else {
      if (candidates.length === 0) {
        void vscode.window.showInformationMessage(`Every token is already in ${BACKEND_LABELS[to]}.`);
        return undefined;
      }
      const picked = await this.pickTokens(candidates, `Move to ${BACKEND_LABELS[to]}`, true);
      if (!picked?.length) return undefined;
      keys = picked;
    }
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Moving tokens to ${BACKEND_LABELS[to]}`, cancellable: false },
      (progress) => startMigration(this.store, this.journal, keys, to, { onProgress: (done, total, key) => progress.report({ message: `${done}/${total} ${keyId(key)}`, increment: 100 / Math.max(1, total) }) }),
    );
    return this.report(result);
  }

  async resume(): Promise<MigrationResult | undefined> {
    await this.store.ready();
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Resuming the token move' }, () => resumeMigration(this.store, this.journal));
    if (!result) {
      void vscode.window.showInformationMessage('No interrupted token move to resume.');
      return undefined;
    }
    return this.report(result);
  }

  async offerResume(): Promise<void> {
    try {
      const pending = await loadMigration(this.journal);
      await vscode.commands.executeCommand('setContext', 'mcpTokens.migrationPending', pending !== undefined);
      if (!pending) return;
      const left = pending.items.filter((i) => i.status !== 'moved').length;
      const choice = await vscode.window.showWarningMessage(`A move of ${left} token${left === 1 ? '' : 's'} to ${BACKEND_LABELS[pending.to]} was interrupted. Nothing was lost.`, 'Resume');
      if (choice === 'Resume') await vscode.commands.executeCommand('mcpTokens.resumeMigration');
    } catch (e) {
      this.s.log.warn(`Could not read the token move journal: ${message(e)}`);
    }
  }

  private report(result: MigrationResult): MigrationResult {
    const text = describeMigration(result);
    this.s.log.info(`Move tokens: ${text}`);
    if (result.resumable) {
      void vscode.window.showWarningMessage(`${text} Nothing was lost; fix the cause and resume.`, 'Resume').then((c) => {
        if (c === 'Resume') void vscode.commands.executeCommand('mcpTokens.resumeMigration');
      });
    } else {
      void vscode.window.showInformationMessage(text);
    }
    return result;
  }

  // ---- export / import --------------------------------------------------------------------------

  async exportTokens(raw?: unknown): Promise<{ file: string; count: number } | undefined> {
    await this.store.ready();
    const args = parse(exportArgs, raw, 'mcpTokens.exportTokens');
    const all = this.store.list();
    if (all.length === 0) throw new Error('There are no tokens to export.');
    const keys = args.keys ? toKeys(args.keys) : await this.pickTokens(all, 'Export which tokens?', true);
    if (!keys?.length) return undefined;
    const passphrase = args.passphrase ?? (await this.newPassphrase());
    if (passphrase === undefined) return undefined;
    const problem = passphraseProblem(passphrase);
    if (problem) throw new Error(problem);
    const file = args.file ?? (await this.saveLocation());
    if (!file) return undefined;
    const tokens: ExportedToken[] = [];
    for (const key of keys) {
      const meta = this.store.get(key);
      if (!meta) throw new Error(`No token ${keyId(key)} is stored.`);
      const value = await this.store.getValue(key);
      if (value === undefined) throw new Error(`The value of ${keyId(key)} is missing from ${BACKEND_LABELS[meta.backend]}; nothing was exported.`);
      const previous = meta.hasPrevious ? await this.store.getPreviousValue(key).catch(() => undefined) : undefined;
      tokens.push({
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
    const text = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Encrypting the export…' }, () => encryptExport(tokens, passphrase));
    await fs.writeFile(file, text, { mode: 0o600 });
    await fs.chmod(file, 0o600).catch(() => undefined);
    this.s.log.info(`Exported ${tokens.length} token(s) to ${file} (encrypted, AES-256-GCM with a scrypt-derived key).`);
    void vscode.window.showInformationMessage(`Exported ${tokens.length} token${tokens.length === 1 ? '' : 's'} to ${file}. Keep the passphrase: without it the file cannot be read.`);
    return { file, count: tokens.length };
  }

  async importTokens(raw?: unknown): Promise<{ imported: string[]; skipped: string[] } | undefined> {
    await this.store.ready();
    const args = parse(importArgs, raw, 'mcpTokens.importTokens');
    const file = args.file ?? (await this.openLocation());
    if (!file) return undefined;
    const text = await fs.readFile(file, 'utf8');
    const header = readExportHeader(text);
    const passphrase =
      args.passphrase ??
      (await vscode.window.showInputBox({ title: `Import ${header.count} token${header.count === 1 ? '' : 's'} (exported ${header.createdAt})`, prompt: 'Passphrase of the export file', password: true, ignoreFocusOut: true }));
    if (passphrase === undefined) return undefined;
    // Everything is decrypted and checked before anything is written: a wrong passphrase or a
    // changed file imports nothing.
    const { tokens } = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Decrypting…' }, () => decryptExport(text, passphrase));
    let chosen = tokens;
    if (!args.file) {
      const picks = await vscode.window.showQuickPick(
        tokens.map((t) => ({ label: keyId(t), description: `${t.type}${this.store.has(t) ? ' · exists here' : ''}`, picked: true, token: t })),
        { canPickMany: true, title: 'Import which tokens?', ignoreFocusOut: true },
      );
      if (!picks?.length) return undefined;
      chosen = picks.map((p) => p.token);
    }
    const conflicts = chosen.filter((t) => this.store.has(t));
    let existing = args.existing;
    if (conflicts.length && !existing) {
      const choice = await vscode.window.showWarningMessage(
        `${conflicts.length} token${conflicts.length === 1 ? '' : 's'} already exist${conflicts.length === 1 ? 's' : ''} here (${conflicts.slice(0, 5).map(keyId).join(', ')}${conflicts.length > 5 ? ', …' : ''}).`,
        { modal: true },
        'Overwrite',
        'Skip Existing',
      );
      if (!choice) return undefined;
      existing = choice === 'Overwrite' ? 'overwrite' : 'skip';
    }
    const backend = args.backend ?? (args.file ? undefined : await this.pickBackend('Import into which backend?', true));
    if (backend === null) return undefined;
    const imported: string[] = [];
    const skipped: string[] = [];
    const failures: string[] = [];
    for (const t of chosen) {
      if (this.store.has(t) && existing === 'skip') {
        skipped.push(keyId(t));
        continue;
      }
      try {
        const base = { namespace: t.namespace, name: t.name, type: t.type, expiresAt: t.expiresAt, provider: t.provider, description: t.description, backend: backend ?? undefined };
        if (t.previous) {
          await this.store.set({ ...base, value: t.previous });
          await this.store.rotate(t, t.value);
        } else {
          await this.store.set({ ...base, value: t.value });
        }
        if (t.oauth) await this.store.updateMetadata(t, { oauth: t.oauth });
        imported.push(keyId(t));
      } catch (e) {
        failures.push(`${keyId(t)}: ${message(e)}`);
      }
    }
    const summary = `Imported ${imported.length} token${imported.length === 1 ? '' : 's'}${skipped.length ? `, skipped ${skipped.length} existing` : ''}.`;
    this.s.log.info(`${summary}${failures.length ? ` Failed: ${failures.join('; ')}` : ''}`);
    if (failures.length) void vscode.window.showErrorMessage(`${summary} ${failures.length} failed: ${failures.join('; ')}`);
    else void vscode.window.showInformationMessage(summary);
    return { imported, skipped };
  }

  // ---- Vault credentials ------------------------------------------------------------------------

  async setVaultToken(raw?: unknown): Promise<BackendHealth | undefined> {
    const args = parse(vaultTokenArgs, raw, 'mcpTokens.setVaultToken');
    const token =
      args.token ??
      (await vscode.window.showInputBox({
        title: 'Vault token',
        prompt: 'The token is kept in VS Code SecretStorage, never in settings. Leave empty to remove the stored token (VAULT_TOKEN is then used if set).',
        password: true,
        ignoreFocusOut: true,
      }));
    if (token === undefined) return undefined;
    if (token.trim()) await this.s.context.secrets.store(VAULT_TOKEN_SECRET, token.trim());
    else await this.s.context.secrets.delete(VAULT_TOKEN_SECRET);
    return this.reportVault(token.trim() ? 'Vault token stored in SecretStorage.' : 'Stored Vault token removed.');
  }

  async vaultLogin(raw?: unknown): Promise<BackendHealth | undefined> {
    const args = parse(vaultLoginArgs, raw, 'mcpTokens.vaultLogin');
    const settings = this.s.config.vault();
    const cfg = vscode.workspace.getConfiguration('mcpTokens');
    let roleId = args.roleId ?? settings.appRoleId;
    if (!roleId) {
      roleId = (await vscode.window.showInputBox({ title: 'Vault AppRole', prompt: 'role_id (not secret; saved in the setting mcpTokens.vault.appRoleId)', ignoreFocusOut: true }))?.trim() ?? '';
      if (!roleId) return undefined;
    }
    if (roleId !== settings.appRoleId) await cfg.update('vault.appRoleId', roleId, vscode.ConfigurationTarget.Global);
    if (settings.authMethod !== 'approle') await cfg.update('vault.authMethod', 'approle', vscode.ConfigurationTarget.Global);
    const secretId =
      args.secretId ??
      (await vscode.window.showInputBox({ title: 'Vault AppRole', prompt: 'secret_id (kept in VS Code SecretStorage, never in settings)', password: true, ignoreFocusOut: true }));
    if (!secretId) return undefined;
    await this.s.context.secrets.store(VAULT_SECRET_ID_SECRET, secretId.trim());
    return this.reportVault('AppRole secret_id stored in SecretStorage.');
  }

  private async reportVault(done: string): Promise<BackendHealth | undefined> {
    this.s.log.info(done);
    const h = (await this.store.health()).find((x) => x.backend === 'vault');
    if (!h) return undefined;
    if (h.healthy) void vscode.window.showInformationMessage(`${done} Vault is reachable and the credentials work.`);
    else void vscode.window.showWarningMessage(`${done} Vault is not usable yet: ${h.cause ?? ''} ${h.fix ?? ''}`.trim());
    return h;
  }

  // ---- pickers ----------------------------------------------------------------------------------

  /** Picks a backend; with `allowKeep`, "each namespace's default" returns undefined and cancel returns null. */
  private async pickBackend(title: string, allowKeep = false): Promise<BackendId | undefined | null> {
    const health = await this.store.health();
    const items: Array<vscode.QuickPickItem & { id?: BackendId }> = BACKEND_IDS.filter((id) => this.store.backendIds().includes(id)).map((id) => {
      const h = health.find((x) => x.backend === id);
      return { label: `${h ? healthIcon(h) : ''} ${BACKEND_LABELS[id]}`, description: h ? healthSummary(h) : '', detail: h && !h.healthy ? h.cause : undefined, id };
    });
    if (allowKeep) items.unshift({ label: '$(settings) Each namespace\'s configured backend', description: 'mcpTokens.backend.default / namespaces' });
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
      title: 'Export passphrase',
      prompt: 'The file is encrypted with a key derived from this passphrase (scrypt, AES-256-GCM). It cannot be recovered.',
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => passphraseProblem(v),
    });
    if (first === undefined) return undefined;
    const second = await vscode.window.showInputBox({ title: 'Export passphrase', prompt: 'Type the passphrase again', password: true, ignoreFocusOut: true });
    if (second === undefined) return undefined;
    if (second !== first) throw new Error('The two passphrases differ; nothing was exported.');
    return first;
  }

  private async saveLocation(): Promise<string | undefined> {
    const name = `mcp-tokens-${new Date().toISOString().slice(0, 10)}.${EXPORT_EXTENSION}`;
    const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? homedir();
    const uri = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(join(base, name)), filters: { 'MCP Tokens export': [EXPORT_EXTENSION] }, title: 'Export tokens to' });
    return uri?.fsPath;
  }

  private async openLocation(): Promise<string | undefined> {
    const uris = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'MCP Tokens export': [EXPORT_EXTENSION], 'All files': ['*'] }, title: 'Import tokens from' });
    return uris?.[0]?.fsPath;
  }
}
