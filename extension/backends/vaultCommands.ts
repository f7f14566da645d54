/**
 * Vault's own commands: Use HashiCorp Vault at This Address… (the one question before credentials
 * and values go to a Vault address), Set Vault Token… and Vault Login (AppRole)…, and the warning
 * after the Vault settings changed to an address not confirmed yet. Check Backends offers them as
 * Vault's fixes (backends/registry.ts).
 *
 * Values: Vault credentials are typed only into password inputs (or passed by automation), kept in
 * SecretStorage, never in settings, and never logged.
 */
import * as vscode from 'vscode';
import type { Services } from '../services';
import type { BackendHealth } from '../store/backend';
import type { CommandInput } from '../platform/commands';
import type { ArgsOf, CommandName } from '../platform/commandTable';
import { backendRegistry } from './registry';
import { VAULT_CONFIRMED_KEY, VAULT_SECRET_ID_SECRET, VAULT_TOKEN_SECRET, confirmedVaultTargets, readVaultSettings, vaultTargetOf } from './vault';

type Input<N extends CommandName> = CommandInput<ArgsOf<N>>;

/** The handlers of Vault's commands (registered with the backend commands), and the warning after an address change. */
export function vaultCommandHandlers(services: Services) {
  const c = new VaultCommands(services);
  // A changed address (by the user, or by another extension) is not used until it is confirmed.
  services.context.subscriptions.push(services.config.onDidChange(() => void c.warnIfUnconfirmed(), 'vault'));
  return {
    setVaultToken: (i: Input<'setVaultToken'>) => c.setVaultToken(i),
    vaultLogin: (i: Input<'vaultLogin'>) => c.vaultLogin(i),
    useVault: () => c.useVault(),
  };
}

class VaultCommands {
  constructor(private readonly s: Services) {}

  private get store() {
    return this.s.store;
  }

  /** Where values go: the Vault address, namespace and path, as the gate names it. */
  private destination(): string {
    return backendRegistry.get('vault')!.destination(this.s.config);
  }

  // ---- the Vault address the user confirmed ------------------------------------------------------

  private vaultSettings() {
    return readVaultSettings(this.s.config.section('vault'));
  }

  private vaultTarget() {
    return vaultTargetOf(this.vaultSettings(), process.env);
  }

  private isConfirmed(id: string): boolean {
    return confirmedVaultTargets(this.s.context.globalState).includes(id);
  }

  /** Remembers the current Vault target as confirmed (the last 10 are kept). */
  private async confirmTarget(): Promise<void> {
    const t = this.vaultTarget();
    if (!t || this.isConfirmed(t.id)) return;
    const list = confirmedVaultTargets(this.s.context.globalState).filter((x) => x !== t.id);
    await this.s.context.globalState.update(VAULT_CONFIRMED_KEY, [...list, t.id].slice(-10));
    this.s.log.info(`Confirmed HashiCorp Vault at ${t.target.address}.`);
    await vscode.commands.executeCommand('mcpTokens.refreshBackends');
  }

  /** Use HashiCorp Vault at This Address: the one question before credentials and values go to a Vault address. */
  async useVault(): Promise<BackendHealth | undefined> {
    const t = this.vaultTarget();
    if (!t) throw new Error(vscode.l10n.t('No Vault address is set ("mcpTokens.vault.address" or VAULT_ADDR).'));
    const ok = await this.s.gate.release(
      {
        verb: 'Send',
        what: vscode.l10n.t('your Vault credentials and the values of tokens kept in Vault'),
        to: this.destination(),
        action: vscode.l10n.t('Use This Vault'),
        detail: t.target.tlsSkipVerify
          ? vscode.l10n.t('TLS certificate verification is OFF (mcpTokens.vault.tlsSkipVerify). Confirm only an address you set yourself.')
          : t.target.caFile
            ? vscode.l10n.t('TLS certificate verification is on, with the CA file {0}. Confirm only an address you set yourself.', t.target.caFile)
            : vscode.l10n.t('TLS certificate verification is on. Confirm only an address you set yourself.'),
      },
      async () => true,
    );
    if (!ok) return undefined;
    await this.confirmTarget();
    return (await this.store.health()).find((x) => x.backend === 'vault');
  }

  /** After the Vault settings changed: says once that the new address is not used until confirmed. */
  async warnIfUnconfirmed(): Promise<void> {
    const t = this.vaultTarget();
    if (!t || this.isConfirmed(t.id) || confirmedVaultTargets(this.s.context.globalState).length === 0) return;
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t('The HashiCorp Vault settings changed to {0}. Nothing is sent there until you confirm this address.', t.target.address),
      vscode.l10n.t('Use This Vault…'),
    );
    if (choice) await vscode.commands.executeCommand('mcpTokens.useVault');
  }

  async setVaultToken(input: Input<'setVaultToken'>): Promise<BackendHealth | undefined> {
    const args: ArgsOf<'setVaultToken'> = input.via === 'args' ? input.args : {};
    if (args.token !== undefined && !(await this.confirmVaultCredential(vscode.l10n.t('the stored Vault token')))) return undefined;
    const token =
      args.token ??
      (await vscode.window.showInputBox({
        title: vscode.l10n.t('Vault token for {0}', this.destination()),
        prompt: vscode.l10n.t('The token is kept in VS Code SecretStorage, never in settings. Leave empty to remove the stored token (VAULT_TOKEN is then used if set).'),
        password: true,
        ignoreFocusOut: true,
      }));
    if (token === undefined) return undefined;
    if (token.trim()) {
      await this.s.context.secrets.store(VAULT_TOKEN_SECRET, token.trim());
      // The question (or the input box) named the address: it is confirmed with the credential.
      await this.confirmTarget();
    } else {
      await this.s.context.secrets.delete(VAULT_TOKEN_SECRET);
    }
    return this.reportVault(token.trim() ? vscode.l10n.t('Vault token stored in SecretStorage.') : vscode.l10n.t('Stored Vault token removed.'));
  }

  /** A Vault credential given by a command argument replaces the stored one, which cannot be had back: always ask. */
  private confirmVaultCredential(what: string): Promise<boolean> {
    return this.s.gate.destroy({
      what,
      action: vscode.l10n.t('Replace'),
      detail: vscode.l10n.t('A command replaces {0} with one it was given (another extension may have called it). Tokens in Vault are then read and written with the new credential, at {1}.', what, this.destination()),
      recoverable: false,
    });
  }

  async vaultLogin(input: Input<'vaultLogin'>): Promise<BackendHealth | undefined> {
    const args: ArgsOf<'vaultLogin'> = input.via === 'args' ? input.args : {};
    if ((args.roleId !== undefined || args.secretId !== undefined) && !(await this.confirmVaultCredential(vscode.l10n.t('the Vault AppRole credentials')))) return undefined;
    const settings = this.vaultSettings();
    const cfg = vscode.workspace.getConfiguration('mcpTokens');
    let roleId = args.roleId ?? settings.appRoleId;
    if (!roleId) {
      roleId = (await vscode.window.showInputBox({ title: vscode.l10n.t('Vault AppRole'), prompt: vscode.l10n.t('role_id (not secret; saved in the setting mcpTokens.vault.appRoleId)'), ignoreFocusOut: true }))?.trim() ?? '';
      if (!roleId) return undefined;
    }
    if (roleId !== settings.appRoleId) await cfg.update('vault.appRoleId', roleId, vscode.ConfigurationTarget.Global);
    if (settings.authMethod !== 'approle') await cfg.update('vault.authMethod', 'approle', vscode.ConfigurationTarget.Global);
    const secretId =
      args.secretId ??
      (await vscode.window.showInputBox({
        title: vscode.l10n.t('Vault AppRole for {0}', this.destination()),
        prompt: vscode.l10n.t('secret_id (kept in VS Code SecretStorage, never in settings)'),
        password: true,
        ignoreFocusOut: true,
      }));
    if (!secretId) return undefined;
    await this.s.context.secrets.store(VAULT_SECRET_ID_SECRET, secretId.trim());
    await this.confirmTarget();
    return this.reportVault(vscode.l10n.t('AppRole secret_id stored in SecretStorage.'));
  }

  private async reportVault(done: string): Promise<BackendHealth | undefined> {
    this.s.log.info(done);
    const h = (await this.store.health()).find((x) => x.backend === 'vault');
    if (!h) return undefined;
    if (h.healthy) void vscode.window.showInformationMessage(vscode.l10n.t('{0} Vault is reachable and the credentials work.', done));
    else void vscode.window.showWarningMessage(vscode.l10n.t('{0} Vault is not usable yet: {1} {2}', done, h.cause ?? '', h.fix ?? '').trim());
    return h;
  }
}
