/**
 * The token commands. Each works interactively (no argument: quick picks and inputs) and, for
 * automation, with one argument object validated by zod. Tree items pass their element, which
 * carries `namespace` and `name`, so the same schemas accept them.
 *
 * Values: typed only into password inputs, copied only after a modal confirmation that no argument
 * can skip, never logged, never shown except once by Generate Token.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import {
  BUILTIN_NAMESPACES,
  TOKEN_TYPES,
  TOKEN_TYPE_LABELS,
  defaultNamespaceFor,
  describeExpiry,
  describeIssues,
  expiredForUser,
  expiryState,
  isInternalNamespace,
  namespaceSchema,
  parseExpiryInput,
  setTokenArgsSchema,
  typeFromNamespace,
  type TokenMetadata,
  type TokenType,
} from '../../server/core/model';
import { formatReference, keyId, nameError, namespaceError, parseKeyId, type TokenKey } from '../../server/core/reference';
import { PROVIDERS, assessValue, assessmentProblems, providerLabel, type ValueAssessment } from '../../server/core/formats';
import type { Services } from '../services';
import type { DeletedToken } from '../store/tokenStore';
import { ArgumentError, errorText as message, inputKey, registerCommandGroup, type CommandInput } from '../platform/commands';
import type { ArgsOf, CommandName } from '../platform/commandTable';
import { sentences } from '../platform/l10n';
import { detailLines, shortDescription } from './description';
import { candidateFor, findCredentials, parseEnvFile, type CredentialCandidate } from './envImport';

type Input<N extends CommandName> = CommandInput<ArgsOf<N>>;
type ClearFilter = { namespace?: string; expiredOnly?: boolean; force?: boolean };

/** The namespace a tree element (a namespace node or a token) prefills. */
function prefilledNamespace(input: CommandInput<unknown>): string | undefined {
  if (input.via !== 'ui') return undefined;
  const ns = input.key?.namespace ?? input.element?.namespace;
  return typeof ns === 'string' && namespaceSchema.safeParse(ns).success ? ns : undefined;
}

// ---- registration -------------------------------------------------------------------------------

export function registerTokenCommands(services: Services): void {
  const c = new TokenCommands(services);
  registerCommandGroup(services, {
    setToken: (i) => c.setToken(i),
    showToken: (i) => c.showToken(i),
    copyToken: (i) => c.copyToken(i),
    copyReference: (i) => c.copyReference(i),
    deleteToken: (i) => c.deleteToken(i),
    clearTokens: (i) => c.clearTokens(i),
    clearExpiredTokens: (i) => c.clearTokens(i.via === 'args' ? { via: 'args', args: { ...i.args, expiredOnly: true } } : { via: 'args', args: { namespace: prefilledNamespace(i), expiredOnly: true } }),
    rotateToken: (i) => c.rotateToken(i),
    restorePreviousToken: (i) => c.restorePrevious(i),
    generateToken: (i) => c.generateToken(i),
    importFromEnv: (i) => c.importFromEnv(i),
    listTokens: (i) => c.listTokens(i),
    refresh: () => c.refresh(),
    restoreDeletedToken: (i) => c.restoreDeleted(i),
    deleteTokenPermanently: (i) => c.deletePermanently(i),
    emptyRecentlyDeleted: () => c.emptyRecentlyDeleted(),
    showLog: async () => services.log.show(),
  });
  services.context.subscriptions.push(c);
  // Values older than the retention go for good: at start and twice a day while VS Code runs.
  const purge = () =>
    void services.store
      .ready()
      .then(() => services.store.purgeExpired(services.config.recentlyDeletedDays()))
      .then((n) => n && services.log.info(`Removed ${n} Recently Deleted value${n === 1 ? '' : 's'} older than ${services.config.recentlyDeletedDays()} days.`))
      .catch((e) => services.log.warn(`Could not clean Recently Deleted: ${message(e)}`));
  purge();
  const timer = setInterval(purge, 12 * 3600 * 1000);
  services.context.subscriptions.push({ dispose: () => clearInterval(timer) });
}

class TokenCommands implements vscode.Disposable {
  private clipboardTimer: NodeJS.Timeout | undefined;

  constructor(private readonly s: Services) {}

  dispose(): void {
    if (this.clipboardTimer) clearTimeout(this.clipboardTimer);
  }

  private get store() {
    return this.s.store;
  }

  // ---- set --------------------------------------------------------------------------------------

  async setToken(input: Input<'setToken'>): Promise<TokenMetadata | undefined> {
    await this.store.ready();
    if (input.via === 'args' && input.args.value !== undefined) {
      const parsed = setTokenArgsSchema.safeParse(input.args);
      if (!parsed.success) throw new ArgumentError(`mcpTokens.setToken: invalid arguments: ${describeIssues(parsed.error)}`);
      const args = parsed.data;
      const expiresAt = this.argsExpiry(input.args);
      // The same checks as interactively; automation cannot answer "store anyway", so an expired
      // JWT is refused and a format mismatch is stored with a warning in the log.
      const a = assessValue(args.value, { provider: args.provider, type: args.type }, new Date());
      if (a.jwtExpired) throw new ArgumentError(`mcpTokens.setToken: the value is a JWT that expired on ${a.jwtExpiresAt}. Run Set Token interactively to store it anyway.`);
      if (this.store.has(args) && !(await this.confirmOverwrite(args, input.args.overwrite === true))) return undefined;
      const meta = await this.store.set({ ...args, provider: a.provider, expiresAt: expiresAt ?? a.jwtExpiresAt, jwt: a.jwt });
      this.s.log.info(`Stored ${keyId(meta)} (${meta.type}) in ${meta.backend}.`);
      for (const problem of assessmentProblems(a, new Date())) this.s.log.warn(`${keyId(meta)}: ${problem}`);
      return meta;
    }
    // Interactive, optionally prefilled ({namespace?, name?, type?, ...} or a namespace tree node).
    const pre = input.via === 'args' ? input.args : { namespace: prefilledNamespace(input), name: input.key?.name };
    const preExpiry = input.via === 'args' ? this.argsExpiry(input.args) : undefined;
    const existing = pre.namespace && pre.name ? this.store.get({ namespace: pre.namespace, name: pre.name }) : undefined;
    const type = pre.type ?? existing?.type ?? (await this.pickType());
    if (!type) return undefined;
    const namespace = pre.namespace ?? (await this.pickNamespace(type));
    if (!namespace) return undefined;
    const name = pre.name ?? (await this.inputName(namespace));
    if (!name) return undefined;
    const key = { namespace, name };
    if (this.store.has(key) && !(await this.confirmOverwrite(key, pre.overwrite === true))) return undefined;
    const value = await this.inputValue(key, type);
    if (value === undefined) return undefined;
    // What mcp-cli's flags give, each optional: provider (suggested from the format), description, expiry (from a JWT).
    const suggested = assessValue(value, { type }, new Date()).provider;
    let provider = pre.provider ?? (await this.pickProvider(suggested, existing?.provider));
    let a = assessValue(value, { provider, type }, new Date());
    const checked = await this.confirmAssessment(a);
    if (!checked) return undefined;
    if (checked.provider !== provider) {
      provider = checked.provider;
      a = assessValue(value, { provider, type }, new Date());
    }
    const description = pre.description ?? (await this.inputDescription(existing?.description));
    const expiresAt = preExpiry ?? (await this.inputExpiry(a.jwtExpiresAt ? undefined : existing?.expiresAt, a.jwtExpiresAt));
    const meta = await this.store.set({ ...key, type, value, expiresAt, provider, description, backend: pre.backend, jwt: a.jwt });
    this.s.log.info(`Stored ${keyId(meta)} (${meta.type}) in ${meta.backend}.`);
    const notes = [
      a.jwtExpiresAt && expiresAt === a.jwtExpiresAt ? vscode.l10n.t('Its expiry comes from the JWT ({0}).', describeExpiry(meta, new Date())) : '',
      a.jwtUnsigned ? vscode.l10n.t('The JWT is unsigned (alg: none): nothing vouches for its claims.') : '',
    ].filter(Boolean);
    const stored = vscode.l10n.t('Stored {0}.', formatReference(meta));
    void this.announce(sentences(stored, ...notes), meta);
    return meta;
  }

  /** The expiry an automation argument gives (`expiresAt`, or mcp-cli's `expires`: a date or a duration such as 30d). */
  private argsExpiry(args: ArgsOf<'setToken'>): string | undefined {
    if (args.expiresAt !== undefined && args.expires !== undefined) throw new ArgumentError('mcpTokens.setToken: give expiresAt or expires, not both.');
    if (args.expires === undefined) return args.expiresAt;
    const parsed = parseExpiryInput(args.expires, new Date());
    if (parsed.error) throw new ArgumentError(`mcpTokens.setToken: expires: ${parsed.error}`);
    return parsed.expiresAt;
  }

  /**
   * The format and JWT warnings of a value, each a modal that offers to store it anyway. Returns the
   * provider to record (the user may take the one the value looks like), or undefined when cancelled.
   */
  private async confirmAssessment(a: ValueAssessment): Promise<{ provider?: string } | undefined> {
    let provider = a.format.provider;
    if (a.formatProblem) {
      const other = a.format.looksLike[0]?.provider;
      const use = other ? vscode.l10n.t('Use {0}', providerLabel(other)) : undefined;
      const choice = await vscode.window.showWarningMessage(
        a.formatProblem,
        { modal: true, detail: vscode.l10n.t('The value may be truncated, or meant for another service. Store it anyway, or cancel and check it.') },
        vscode.l10n.t('Store Anyway'),
        ...(use ? [use] : []),
      );
      if (!choice) return undefined;
      if (choice === use) provider = other!;
    }
    if (a.jwtExpired) {
      const choice = await vscode.window.showWarningMessage(
        vscode.l10n.t('This JWT expired {0} (exp {1}).', a.jwtExpiresAt ? describeExpiry({ expiresAt: a.jwtExpiresAt }, new Date()).replace(/^expired /, '') : '', a.jwtExpiresAt ?? ''),
        { modal: true, detail: vscode.l10n.t('Its service will refuse it. Store it anyway (for example to replace it later), or cancel and get a new one.') },
        vscode.l10n.t('Store Anyway'),
      );
      if (!choice) return undefined;
    }
    return { provider };
  }

  /** The provider, suggested from the value's format. Escape or Enter on the suggestion keeps the suggestion (or the current one). */
  private async pickProvider(suggested: string | undefined, current: string | undefined): Promise<string | undefined> {
    const NONE = `$(circle-slash) ${vscode.l10n.t('No provider')}`;
    const OTHER = `$(edit) ${vscode.l10n.t('Other…')}`;
    const first = suggested ?? current;
    const ids = [...new Set([...(first ? [first] : []), ...(current ? [current] : []), ...PROVIDERS.map((p) => p.id)])];
    const providerItems: (vscode.QuickPickItem & { id?: string })[] = ids.map((id) => ({
      label: providerLabel(id),
      description: id === suggested ? vscode.l10n.t('{0} · suggested: the value looks like one', id) : id === current ? vscode.l10n.t('{0} · current', id) : id,
      id,
    }));
    // The first row is what Enter (or Escape) gives: the suggestion, the current provider, or none.
    const none = { label: NONE, description: first ? undefined : vscode.l10n.t('skip'), id: '' };
    const items = first ? [providerItems[0], none, ...providerItems.slice(1)] : [none, ...providerItems];
    items.push({ label: OTHER, alwaysShow: true });
    const pick = await vscode.window.showQuickPick(items, {
      title: vscode.l10n.t('Provider (optional)'),
      placeHolder: first ? vscode.l10n.t('Which service is it for? Escape keeps {0}.', providerLabel(first)) : vscode.l10n.t('Which service is it for? Escape skips.'),
      matchOnDescription: true,
      ignoreFocusOut: true,
    });
    if (!pick) return first;
    if (pick.id !== undefined) return pick.id || undefined;
    const typed = await vscode.window.showInputBox({
      title: vscode.l10n.t('Provider'),
      prompt: vscode.l10n.t('A provider name (letters, digits, "-", "_", "."); Escape skips.'),
      validateInput: (v) => (v.length > 64 ? vscode.l10n.t('At most {0} characters.', 64) : /^[A-Za-z0-9._-]*$/.test(v) ? undefined : vscode.l10n.t('Letters, digits, "-", "_" and "." only.')),
      ignoreFocusOut: true,
    });
    return typed?.trim() || first;
  }

  /** A free-text description; Escape or an unchanged Enter keeps the current one. */
  private async inputDescription(current: string | undefined): Promise<string | undefined> {
    const text = await vscode.window.showInputBox({
      title: vscode.l10n.t('Description (optional)'),
      prompt: vscode.l10n.t('What is it for? Shown in the Tokens view and hovers. Escape skips.'),
      value: current ?? '',
      validateInput: (v) => (v.length > 1024 ? vscode.l10n.t('At most {0} characters.', 1024) : undefined),
      ignoreFocusOut: true,
    });
    if (text === undefined) return current;
    return text.trim() || undefined;
  }

  private async pickType(): Promise<TokenType | undefined> {
    const items = TOKEN_TYPES.map((t) => ({ label: TOKEN_TYPE_LABELS[t], description: t, type: t }));
    const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Set Token (1/4): type'), placeHolder: vscode.l10n.t('What kind of credential is it?'), ignoreFocusOut: true });
    return pick?.type;
  }

  private async pickNamespace(type: TokenType): Promise<string | undefined> {
    const preferred = defaultNamespaceFor(type);
    const known = [...new Set([preferred, ...BUILTIN_NAMESPACES, ...this.store.namespaces()])];
    const counts = new Map<string, number>();
    for (const t of this.store.list()) counts.set(t.namespace, (counts.get(t.namespace) ?? 0) + 1);
    const NEW = `$(add) ${vscode.l10n.t('New namespace…')}`;
    const items: vscode.QuickPickItem[] = [
      ...known.map((ns) => ({ label: ns, description: ns === preferred ? vscode.l10n.t('suggested') : undefined, detail: counts.get(ns) ? tokenCount(counts.get(ns)!) : undefined })),
      { label: NEW, alwaysShow: true },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Set Token (2/4): namespace'), placeHolder: vscode.l10n.t('Namespace (the first part of $<TOKEN:namespace:name>)'), ignoreFocusOut: true });
    if (!pick) return undefined;
    if (pick.label !== NEW) return pick.label;
    return vscode.window.showInputBox({
      title: vscode.l10n.t('New namespace'),
      prompt: vscode.l10n.t('Letters, digits, "-", "_" and ".", starting with a letter or digit (e.g. custom-team).'),
      value: 'custom-',
      validateInput: (v) => namespaceError(v),
      ignoreFocusOut: true,
    });
  }

  private inputName(namespace: string): Thenable<string | undefined> {
    return vscode.window.showInputBox({
      title: vscode.l10n.t('Set Token (3/4): name'),
      prompt: vscode.l10n.t('Name within "{0}": letters, digits, "-", "_" and ".". Referenced as $<TOKEN:{0}:name>.', namespace),
      placeHolder: vscode.l10n.t('e.g. github'),
      validateInput: (v) => nameError(v),
      ignoreFocusOut: true,
    });
  }

  private inputValue(key: TokenKey, type: TokenType): Thenable<string | undefined> {
    return vscode.window.showInputBox({
      title: vscode.l10n.t('Set Token (4/4): value of {0}', keyId(key)),
      prompt: type === 'basic' ? vscode.l10n.t('Enter username:password. It is stored encrypted and never shown.') : vscode.l10n.t('Paste the secret. It is stored encrypted and never shown.'),
      password: true,
      validateInput: (v) => (v.length === 0 ? vscode.l10n.t('The value is empty.') : v.length > 65536 ? vscode.l10n.t('The value is longer than 64 KiB.') : undefined),
      ignoreFocusOut: true,
    });
  }

  /**
   * The expiry: a date, date-time or duration. A JWT's `exp` is the default (empty input or Escape
   * keeps it); otherwise Escape keeps `current` and empty means none.
   */
  private async inputExpiry(current: string | undefined, fromJwt: string | undefined): Promise<string | undefined> {
    const text = await vscode.window.showInputBox({
      title: vscode.l10n.t('Expiry (optional)'),
      prompt: fromJwt
        ? vscode.l10n.t('The JWT says it expires {0} ({1}); Enter keeps that. Or a date (2026-12-31), date-time, or duration (30d, 12h, 2w).', fromJwt, describeExpiry({ expiresAt: fromJwt }, new Date()))
        : vscode.l10n.t('When does it expire? A date (2026-12-31), date-time, or duration (30d, 12h, 2w). Leave empty for no expiry; Escape skips.'),
      value: fromJwt ?? current ?? '',
      validateInput: (v) => parseExpiryInput(v, new Date()).error,
      ignoreFocusOut: true,
    });
    if (text === undefined) return fromJwt ?? current;
    return parseExpiryInput(text, new Date()).expiresAt ?? fromJwt;
  }

  /** Asks before an existing token's value is replaced (the replaced value goes to Recently Deleted). */
  private confirmOverwrite(key: TokenKey, skipQuestion = false): Promise<boolean> {
    return this.s.gate.destroy({
      what: vscode.l10n.t('the value of {0}', keyId(key)),
      action: vscode.l10n.t('Overwrite'),
      detail: vscode.l10n.t('A token {0} already exists; its current value will be replaced. Use Rotate Token to keep it as the previous value.', keyId(key)),
      recoverable: true,
      skipQuestion,
    });
  }

  // ---- pick a token -----------------------------------------------------------------------------

  /** The token named by the argument (automation or tree element), or one the user picks. */
  private async resolveKey(input: CommandInput<unknown>, title: string): Promise<TokenKey | undefined> {
    await this.store.ready();
    const key = inputKey(input);
    if (!key) return this.pickToken(title);
    if (!this.store.has(key)) throw new Error(vscode.l10n.t('No token {0} is stored.', keyId(key)));
    return { namespace: key.namespace, name: key.name };
  }

  private async pickToken(title: string, tokens = this.store.list()): Promise<TokenKey | undefined> {
    if (tokens.length === 0) {
      const set = await vscode.window.showInformationMessage(vscode.l10n.t('No MCP tokens are stored yet.'), vscode.l10n.t('Set Token…'));
      if (set) await vscode.commands.executeCommand('mcpTokens.setToken');
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(this.tokenItems(tokens), { title, placeHolder: vscode.l10n.t('Pick a token'), matchOnDescription: true, matchOnDetail: true });
    return pick?.meta;
  }

  private tokenItems(tokens: readonly TokenMetadata[]): (vscode.QuickPickItem & { meta: TokenMetadata })[] {
    const now = new Date();
    const soon = this.s.config.expiryWarningDays();
    return tokens.map((meta) => {
      const state = expiryState(meta, now, soon);
      const icon = state === 'expired' ? '$(warning)' : state === 'soon' ? '$(clock)' : '$(key)';
      return { label: `${icon} ${keyId(meta)}`, description: shortDescription(meta, now), detail: meta.description ?? meta.provider, meta };
    });
  }

  // ---- show / copy ------------------------------------------------------------------------------

  async showToken(input: Input<'showToken'>): Promise<TokenMetadata | undefined> {
    const key = await this.resolveKey(input, vscode.l10n.t('Show Token Details'));
    if (!key) return undefined;
    const meta = this.store.get(key)!;
    const copy = vscode.l10n.t('Copy Reference');
    const reveal = vscode.l10n.t('Reveal in View');
    void vscode.window
      .showInformationMessage(vscode.l10n.t('{0}: {1}', keyId(meta), shortDescription(meta, new Date())), { modal: false, detail: detailLines(meta, new Date()).join('\n') }, copy, reveal)
      .then((choice) => {
        if (choice === copy) return vscode.commands.executeCommand('mcpTokens.copyReference', key);
        if (choice === reveal) return vscode.commands.executeCommand('mcpTokens.revealToken', key);
        return undefined;
      });
    return meta;
  }

  /** Copies the value after the gate's modal confirmation, which no argument can skip. */
  async copyToken(input: Input<'copyToken'>): Promise<boolean> {
    const key = await this.resolveKey(input, vscode.l10n.t('Copy Token Value'));
    if (!key) return false;
    const seconds = this.s.config.clipboardClearSeconds();
    const value = await this.s.gate.release(
      {
        verb: 'Copy',
        what: vscode.l10n.t('the value of {0}', keyId(key)),
        to: vscode.l10n.t('the clipboard'),
        action: vscode.l10n.t('Copy Value'),
        detail: seconds > 0 ? vscode.l10n.t('Anything that can read the clipboard can read it. It is cleared after {0} seconds if still there.', seconds) : vscode.l10n.t('Anything that can read the clipboard can read it.'),
        automation: input.via === 'args',
      },
      async (read) => {
        const v = await read.value(key);
        if (v === undefined) throw new Error(vscode.l10n.t('The value of {0} is missing from its backend.', keyId(key)));
        return v;
      },
    );
    if (value === undefined) return false;
    await vscode.env.clipboard.writeText(value);
    this.s.log.info(`Copied the value of ${keyId(key)} to the clipboard.`);
    this.scheduleClipboardClear(value, seconds);
    void vscode.window.setStatusBarMessage(`$(copy) ${seconds ? vscode.l10n.t('Copied {0}; clears in {1} s', keyId(key), seconds) : vscode.l10n.t('Copied {0}', keyId(key))}`, 4000);
    return true;
  }

  private scheduleClipboardClear(value: string, seconds: number): void {
    if (this.clipboardTimer) clearTimeout(this.clipboardTimer);
    if (seconds <= 0) return;
    this.clipboardTimer = setTimeout(async () => {
      this.clipboardTimer = undefined;
      try {
        if ((await vscode.env.clipboard.readText()) === value) {
          await vscode.env.clipboard.writeText('');
          this.s.log.info('Cleared a copied token value from the clipboard.');
        }
      } catch (e) {
        this.s.log.warn(`Could not clear the clipboard: ${message(e)}`);
      }
    }, seconds * 1000);
  }

  async copyReference(input: Input<'copyReference'>): Promise<string | undefined> {
    const form = (input.via === 'args' && input.args.form) || 'angle';
    const key = await this.resolveKey(input, vscode.l10n.t('Copy Token Reference'));
    if (!key) return undefined;
    const ref = formatReference(key, form);
    await vscode.env.clipboard.writeText(ref);
    void vscode.window.setStatusBarMessage(`$(symbol-reference) ${vscode.l10n.t('Copied {0}', ref)}`, 4000);
    return ref;
  }

  // ---- delete / clear ---------------------------------------------------------------------------

  async deleteToken(input: Input<'deleteToken'>): Promise<boolean> {
    const key = await this.resolveKey(input, vscode.l10n.t('Delete Token'));
    if (!key) return false;
    const ok = await this.s.gate.destroy({
      what: vscode.l10n.t('the token {0}', keyId(key)),
      action: vscode.l10n.t('Delete'),
      detail: vscode.l10n.t('MCP servers that reference {0} will not start until it is set again or restored.', formatReference(key)),
      recoverable: true,
      skipQuestion: input.via === 'args' && input.args.force === true,
    });
    if (!ok) return false;
    await this.store.delete(key);
    this.s.log.info(`Deleted ${keyId(key)}.`);
    return true;
  }

  async clearTokens(input: CommandInput<ClearFilter>): Promise<TokenKey[]> {
    await this.store.ready();
    let args: ClearFilter = input.via === 'args' ? input.args : { namespace: prefilledNamespace(input) };
    if (input.via === 'ui' && !args.namespace) {
      const now = new Date();
      const expired = this.store.list().filter((t) => expiredForUser(t, now)).length;
      const items: (vscode.QuickPickItem & { args: ClearFilter })[] = [
        { label: `$(warning) ${vscode.l10n.t('Expired tokens')}`, description: tokenCount(expired), args: { expiredOnly: true } },
        ...this.store.namespaces().map((ns) => ({
          label: `$(folder) ${vscode.l10n.t('Namespace {0}', ns)}`,
          description: tokenCount(this.store.list().filter((t) => t.namespace === ns).length),
          args: { namespace: ns },
        })),
        { label: `$(trash) ${vscode.l10n.t('All tokens')}`, description: tokenCount(this.store.list().length), args: {} },
      ];
      const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Clear Tokens'), placeHolder: vscode.l10n.t('Which tokens should be deleted?') });
      if (!pick) return [];
      args = pick.args;
    }
    const now = new Date();
    const victims = this.store
      .list()
      .filter((t) => (!args.namespace || t.namespace === args.namespace) && (!args.expiredOnly || (expiredForUser(t, now))));
    if (victims.length === 0) {
      void vscode.window.showInformationMessage(args.expiredOnly ? vscode.l10n.t('No token has expired.') : vscode.l10n.t('There are no tokens to clear.'));
      return [];
    }
    const n = victims.length;
    const what = args.expiredOnly
      ? n === 1 ? vscode.l10n.t('1 expired token') : vscode.l10n.t('{0} expired tokens', n)
      : args.namespace
        ? n === 1 ? vscode.l10n.t('1 token in namespace "{0}"', args.namespace) : vscode.l10n.t('{0} tokens in namespace "{1}"', n, args.namespace)
        : n === 1 ? vscode.l10n.t('1 token') : vscode.l10n.t('{0} tokens', n);
    const ok = await this.s.gate.destroy({
      what,
      action: vscode.l10n.t('Delete'),
      detail: victims.slice(0, 20).map((v) => keyId(v)).join('\n') + (n > 20 ? `\n${vscode.l10n.t('… and {0} more', n - 20)}` : ''),
      recoverable: true,
      skipQuestion: input.via === 'args' && args.force === true,
    });
    if (!ok) return [];
    const deleted = await this.store.clear(args);
    this.s.log.info(`Cleared ${deleted.length} token(s).`);
    return deleted;
  }

  // ---- rotate / restore / generate --------------------------------------------------------------

  async rotateToken(input: Input<'rotateToken'>): Promise<TokenMetadata | undefined> {
    const automation = input.via === 'args';
    const key = await this.resolveKey(input, vscode.l10n.t('Rotate Token'));
    if (!key) return undefined;
    let value = automation ? input.args.value : undefined;
    let generated = false;
    if (value === undefined && !automation) {
      const typed = await vscode.window.showInputBox({
        title: vscode.l10n.t('Rotate {0}', keyId(key)),
        prompt: vscode.l10n.t('Paste the new value, or leave empty to generate a random one. The current value is kept as the previous value.'),
        password: true,
        ignoreFocusOut: true,
      });
      if (typed === undefined) return undefined;
      value = typed || undefined;
    }
    if (value === undefined) {
      value = generateSecret(this.s.config.generatedTokenLength());
      generated = true;
    }
    // The same checks as Set, against the token's provider; a new JWT brings its own claims and expiry.
    const existing = this.store.get(key)!;
    const a = assessValue(value, { provider: existing.provider, type: existing.type }, new Date());
    if (automation && a.jwtExpired) throw new ArgumentError(`mcpTokens.rotateToken: the value is a JWT that expired on ${a.jwtExpiresAt}. Run Rotate Token interactively to store it anyway.`);
    if (!automation && !generated && !(await this.confirmAssessment(a))) return undefined;
    const meta = await this.store.rotate(key, value, { jwt: a.jwt, ...(a.jwtExpiresAt ? { expiresAt: a.jwtExpiresAt } : {}) });
    this.s.log.info(`Rotated ${keyId(key)}${generated ? ' (generated value)' : ''}.`);
    for (const problem of assessmentProblems(a, new Date())) this.s.log.warn(`${keyId(key)}: ${problem}`);
    if (generated && !automation) await this.showOnce(key, value);
    else void this.announce(vscode.l10n.t('Rotated {0}. The previous value can be restored.', keyId(key)), meta);
    return meta;
  }

  async restorePrevious(input: Input<'restorePreviousToken'>): Promise<TokenMetadata | undefined> {
    const key = await this.resolveKey(input, vscode.l10n.t('Restore Previous Token Value'));
    if (!key) return undefined;
    const meta = await this.store.restorePrevious(key);
    this.s.log.info(`Restored the previous value of ${keyId(key)}.`);
    void vscode.window.showInformationMessage(vscode.l10n.t('Restored the previous value of {0}. The replaced value is now the previous one.', keyId(key)));
    return meta;
  }

  async generateToken(input: Input<'generateToken'>): Promise<TokenMetadata | undefined> {
    await this.store.ready();
    const obj = input.via === 'args';
    let args: ArgsOf<'generateToken'>;
    if (input.via === 'args') {
      args = input.args;
    } else {
      const namespace = prefilledNamespace(input) ?? (await this.pickNamespace('generic'));
      if (!namespace) return undefined;
      const name = await this.inputName(namespace);
      if (!name) return undefined;
      args = { namespace, name };
    }
    const key = { namespace: args.namespace, name: args.name };
    const value = generateSecret(args.length ?? this.s.config.generatedTokenLength());
    const type = args.type ?? typeFromNamespace(args.namespace) ?? 'generic';
    // The same format rules as Set: a random string is no user:password pair.
    const problem = assessValue(value, { type }, new Date()).formatProblem;
    if (problem) throw new ArgumentError(`mcpTokens.generateToken: a generated value does not fit type ${type}. ${problem.replace(/^This/, 'It')} Use Set Token for it.`);
    if (this.store.has(key) && !(await this.confirmOverwrite(key, args.overwrite === true))) return undefined;
    const meta = await this.store.set({ ...key, type, value });
    this.s.log.info(`Generated and stored ${keyId(key)}.`);
    // Shown once, interactively; automation callers use copyToken (which always confirms).
    if (!obj) await this.showOnce(key, value);
    else void this.announce(vscode.l10n.t('Generated {0}. Its value is not shown; use Copy Token Value.', formatReference(key)), meta);
    return meta;
  }

  /** The one place a value is displayed: right after it was generated, in a modal. */
  private async showOnce(key: TokenKey, value: string): Promise<void> {
    const copy = vscode.l10n.t('Copy Value');
    const choice = await vscode.window.showInformationMessage(vscode.l10n.t('New value of {0} (shown once)', keyId(key)), { modal: true, detail: value }, copy);
    if (choice === copy) {
      await vscode.env.clipboard.writeText(value);
      this.scheduleClipboardClear(value, this.s.config.clipboardClearSeconds());
    }
  }

  // ---- import -----------------------------------------------------------------------------------

  async importFromEnv(input: Input<'importFromEnv'>): Promise<TokenKey[]> {
    await this.store.ready();
    const obj = input.via === 'args';
    const args: ArgsOf<'importFromEnv'> = input.via === 'args' ? input.args : {};
    let source: Record<string, string | undefined>;
    let file = args.file;
    if (!obj) {
      const pick = await vscode.window.showQuickPick(
        [
          { label: `$(terminal) ${vscode.l10n.t('Environment variables')}`, description: vscode.l10n.t('of the extension host'), id: 'env' },
          { label: `$(file) ${vscode.l10n.t('A .env file…')}`, id: 'file' },
        ],
        { title: vscode.l10n.t('Import Tokens: source') },
      );
      if (!pick) return [];
      if (pick.id === 'file') {
        const uris = await vscode.window.showOpenDialog({ title: vscode.l10n.t('Pick a .env file'), canSelectMany: false, openLabel: vscode.l10n.t('Import'), defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
        if (!uris?.[0]) return [];
        file = uris[0].fsPath;
      }
    }
    if (file) {
      try {
        source = parseEnvFile(await readFile(file, 'utf8'));
      } catch (e) {
        throw new Error(vscode.l10n.t('Could not read {0}: {1}', file, (e as NodeJS.ErrnoException).code ?? message(e)));
      }
    } else {
      source = process.env;
    }
    const candidates = findCredentials(source);
    const now = new Date();
    let chosen: { candidate: CredentialCandidate; key: TokenKey }[];
    if (args.variables) {
      chosen = [];
      for (const [variable, target] of Object.entries(args.variables)) {
        const candidate = candidates.find((c) => c.variable === variable) ?? candidateFor(variable, source[variable]);
        if (!candidate) throw new ArgumentError(`mcpTokens.importFromEnv: ${variable} is not set${file ? ` in ${file}` : ''}.`);
        const key = target ? parseKeyId(target) : candidate.suggested;
        if (!key) throw new ArgumentError(`mcpTokens.importFromEnv: "${target}" is not a namespace:name key.`);
        if (isInternalNamespace(key.namespace)) throw new ArgumentError(`mcpTokens.importFromEnv: "${key.namespace}" is an internal namespace of MCP Tokens, which commands do not touch.`);
        chosen.push({ candidate, key });
      }
    } else if (obj) {
      chosen = candidates.map((candidate) => ({ candidate, key: candidate.suggested }));
    } else {
      if (candidates.length === 0) {
        void vscode.window.showInformationMessage(
          file
            ? vscode.l10n.t('No variable that looks like a credential (*_TOKEN, *_API_KEY, *_SECRET, *_PAT, …) was found in {0}.', file)
            : vscode.l10n.t('No variable that looks like a credential (*_TOKEN, *_API_KEY, *_SECRET, *_PAT, …) was found.'),
        );
        return [];
      }
      const picks = await vscode.window.showQuickPick(
        candidates.map((c) => ({
          label: c.variable,
          description: `→ ${formatReference(c.suggested)}`,
          detail: `${vscode.l10n.t('{0}, {1} characters', TOKEN_TYPE_LABELS[c.type], c.value.length)}${this.store.has(c.suggested) ? ` · ${vscode.l10n.t('replaces an existing token')}` : ''}${importProblems(c, now).map((p) => ` · $(warning) ${p}`).join('')}`,
          picked: !this.store.has(c.suggested),
          candidate: c,
        })),
        { title: vscode.l10n.t('Import Tokens: pick the variables'), canPickMany: true, matchOnDescription: true },
      );
      if (!picks?.length) return [];
      chosen = [];
      for (const p of picks) {
        const target = await vscode.window.showInputBox({
          title: vscode.l10n.t('Reference for {0}', p.candidate.variable),
          prompt: vscode.l10n.t({ message: 'namespace:name', comment: ['The form of a token key, typed by the user: translate the words only if the user may type them so'] }),
          value: keyId(p.candidate.suggested),
          validateInput: (v) => (parseKeyId(v) ? undefined : vscode.l10n.t('Enter namespace:name (letters, digits, "-", "_", ".").')),
          ignoreFocusOut: true,
        });
        if (target === undefined) return [];
        chosen.push({ candidate: p.candidate, key: parseKeyId(target)! });
      }
    }
    const stored: TokenKey[] = [];
    const skipped: string[] = [];
    const report: string[] = [];
    for (const { candidate, key } of chosen) {
      // Automation without `overwrite` skips existing tokens; interactively the user is asked.
      if (this.store.has(key) && (obj ? !args.overwrite : !(await this.confirmOverwrite(key)))) {
        skipped.push(`${candidate.variable} (${keyId(key)} exists)`);
        continue;
      }
      // The same checks as Set Token; a problem is reported, never a reason to drop the token.
      const a = assessValue(candidate.value, { provider: candidate.provider, type: candidate.type }, now);
      await this.store.set(
        { ...key, type: candidate.type, value: candidate.value, provider: a.provider, description: vscode.l10n.t('Imported from {0}', candidate.variable), expiresAt: a.jwtExpiresAt, jwt: a.jwt },
        { reason: 'import' },
      );
      stored.push(key);
      for (const problem of assessmentProblems(a, now)) report.push(`${candidate.variable} → ${keyId(key)}: ${problem}`);
    }
    this.s.log.info(`Imported ${stored.length} token(s): ${stored.map((k) => keyId(k)).join(', ') || 'none'}.${skipped.length ? ` Skipped: ${skipped.join(', ')}.` : ''}`);
    for (const line of report) this.s.log.warn(`Import: ${line}`);
    const summary = sentences(
      stored.length === 1 ? vscode.l10n.t('Imported 1 token.') : vscode.l10n.t('Imported {0} tokens.', stored.length),
      skipped.length === 0
        ? undefined
        : skipped.length === 1
          ? vscode.l10n.t('Skipped 1 that already exists: {0}.', skipped.join(', '))
          : vscode.l10n.t('Skipped {0} that already exist: {1}.', skipped.length, skipped.join(', ')),
    );
    if (report.length) {
      const problems = report.length === 1 ? vscode.l10n.t('1 problem: {0}', sentences(...report)) : vscode.l10n.t('{0} problems: {1}', report.length, sentences(...report));
      void vscode.window.showWarningMessage(sentences(summary, problems), vscode.l10n.t('Show Log')).then((c) => c && this.s.log.show());
    } else if (!obj || stored.length) {
      void vscode.window.showInformationMessage(summary);
    }
    return stored;
  }

  // ---- list / refresh ---------------------------------------------------------------------------

  async listTokens(input: Input<'listTokens'>): Promise<TokenMetadata[]> {
    await this.store.ready();
    const args: ArgsOf<'listTokens'> = input.via === 'args' ? input.args : {};
    const now = new Date();
    const soon = this.s.config.expiryWarningDays();
    const matches = (t: TokenMetadata, f: ArgsOf<'listTokens'>) =>
      (!f.type || t.type === f.type) && (!f.namespace || t.namespace === f.namespace) && (!f.expiry || expiryState(t, now, soon) === f.expiry);
    if (args.noUi) return this.store.list().filter((t) => matches(t, args));

    const qp = vscode.window.createQuickPick<vscode.QuickPickItem & { meta?: TokenMetadata }>();
    const filter = { ...args };
    const filterButtons: (vscode.QuickInputButton & { id: 'type' | 'namespace' | 'expiry' | 'clear' })[] = [
      { id: 'type', iconPath: new vscode.ThemeIcon('symbol-key'), tooltip: vscode.l10n.t('Filter by type') },
      { id: 'namespace', iconPath: new vscode.ThemeIcon('folder'), tooltip: vscode.l10n.t('Filter by namespace') },
      { id: 'expiry', iconPath: new vscode.ThemeIcon('clock'), tooltip: vscode.l10n.t('Filter by expiry') },
      { id: 'clear', iconPath: new vscode.ThemeIcon('clear-all'), tooltip: vscode.l10n.t('Clear filters') },
    ];
    const render = () => {
      const list = this.store.list().filter((t) => matches(t, filter));
      const items: (vscode.QuickPickItem & { meta?: TokenMetadata })[] = [];
      let ns: string | undefined;
      for (const item of this.tokenItems(list)) {
        if (item.meta.namespace !== ns) {
          ns = item.meta.namespace;
          items.push({ label: ns, kind: vscode.QuickPickItemKind.Separator });
        }
        items.push(item);
      }
      qp.items = items;
      const active = [
        filter.type && vscode.l10n.t('type {0}', filter.type),
        filter.namespace && vscode.l10n.t('namespace {0}', filter.namespace),
        filter.expiry && vscode.l10n.t('expiry {0}', filter.expiry),
      ].filter(Boolean);
      qp.title = active.length ? vscode.l10n.t('MCP Tokens ({0}) — {1}', list.length, active.join(', ')) : vscode.l10n.t('MCP Tokens ({0})', list.length);
      return list;
    };
    qp.placeholder = vscode.l10n.t('Pick a token for its actions; the buttons filter by type, namespace and expiry');
    qp.matchOnDescription = true;
    qp.buttons = filterButtons;
    const shown = render();
    const done = new Promise<void>((resolve) => {
      let choosingFilter = false;
      qp.onDidTriggerButton(async (b) => {
        const id = (b as (typeof filterButtons)[number]).id;
        choosingFilter = true;
        qp.hide();
        if (id === 'clear') {
          delete filter.type;
          delete filter.namespace;
          delete filter.expiry;
        } else {
          const options = id === 'type' ? [...TOKEN_TYPES] : id === 'namespace' ? this.store.namespaces() : ['expired', 'soon', 'ok', 'none'];
          const any = vscode.l10n.t('(any)');
          const title = id === 'type' ? vscode.l10n.t('Filter by type') : id === 'namespace' ? vscode.l10n.t('Filter by namespace') : vscode.l10n.t('Filter by expiry');
          const value = await vscode.window.showQuickPick([any, ...options], { title });
          if (value !== undefined) (filter as Record<string, unknown>)[id] = value === any ? undefined : value;
        }
        render();
        choosingFilter = false;
        qp.show();
      });
      qp.onDidAccept(async () => {
        const meta = qp.selectedItems[0]?.meta;
        qp.hide();
        resolve();
        if (meta) await this.tokenActions(meta);
      });
      qp.onDidHide(() => {
        if (!choosingFilter) resolve();
      });
    });
    qp.show();
    void done.then(() => qp.dispose());
    return shown;
  }

  private async tokenActions(meta: TokenMetadata): Promise<void> {
    const key = { namespace: meta.namespace, name: meta.name };
    const actions: [string, string][] = [
      [`$(symbol-reference) ${vscode.l10n.t('Copy Reference')}`, 'mcpTokens.copyReference'],
      [`$(info) ${vscode.l10n.t('Show Details')}`, 'mcpTokens.showToken'],
      [`$(eye) ${vscode.l10n.t('Reveal in Tokens View')}`, 'mcpTokens.revealToken'],
      [`$(copy) ${vscode.l10n.t('Copy Value…')}`, 'mcpTokens.copyToken'],
      [`$(sync) ${vscode.l10n.t('Rotate…')}`, 'mcpTokens.rotateToken'],
      [`$(trash) ${vscode.l10n.t('Delete…')}`, 'mcpTokens.deleteToken'],
    ];
    const pick = await vscode.window.showQuickPick(actions.map(([label, command]) => ({ label, command })), { title: keyId(meta) });
    if (!pick) return;
    // The string form runs the command as the user would (it asks what it needs).
    await vscode.commands.executeCommand(pick.command, keyId(key));
  }

  // ---- Recently Deleted -------------------------------------------------------------------------

  /** The entry an input names: `{id}`, a Recently Deleted tree element, or one the user picks. */
  private async deletedEntry(input: CommandInput<{ id: string }>, title: string): Promise<DeletedToken | undefined> {
    await this.store.ready();
    const entries = this.store.listVisibleDeleted();
    const id = input.via === 'args' ? input.args.id : typeof input.element?.id === 'string' ? input.element.id : undefined;
    if (id !== undefined) {
      const found = entries.find((d) => d.id === id);
      if (!found) throw new ArgumentError(vscode.l10n.t('Recently Deleted has no entry "{0}".', id.slice(0, 128)));
      return found;
    }
    if (entries.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Recently Deleted is empty.'));
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      entries.map((d) => ({ label: keyId(d), description: `${d.reason} · ${d.deletedAt.replace('T', ' ').slice(0, 16)}`, detail: d.backend, entry: d })),
      { title, matchOnDescription: true },
    );
    return pick?.entry;
  }

  /** Puts a Recently Deleted value back; what is there now takes its place in Recently Deleted (nothing is lost). */
  async restoreDeleted(input: Input<'restoreDeletedToken'>): Promise<TokenMetadata | undefined> {
    const entry = await this.deletedEntry(input, vscode.l10n.t('Restore Deleted Token'));
    if (!entry) return undefined;
    const meta = await this.store.restoreDeleted(entry.id);
    this.s.log.info(`Restored ${keyId(meta)} from Recently Deleted.`);
    if (input.via === 'ui') void this.announce(vscode.l10n.t('Restored {0}.', keyId(meta)), meta);
    return meta;
  }

  async deletePermanently(input: Input<'deleteTokenPermanently'>): Promise<boolean> {
    const entry = await this.deletedEntry(input, vscode.l10n.t('Delete Permanently'));
    if (!entry) return false;
    const ok = await this.s.gate.destroy({
      what: vscode.l10n.t('the deleted value of {0}', keyId(entry)),
      action: vscode.l10n.t('Delete Permanently'),
      detail: vscode.l10n.t('Kept since {0} ({1}).', entry.deletedAt, entry.reason),
      recoverable: false,
    });
    if (!ok) return false;
    await this.store.purgeDeleted(entry.id);
    this.s.log.info(`Deleted a Recently Deleted value of ${keyId(entry)} permanently.`);
    return true;
  }

  async emptyRecentlyDeleted(): Promise<number> {
    await this.store.ready();
    const entries = this.store.listDeleted();
    if (entries.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Recently Deleted is empty.'));
      return 0;
    }
    const what = entries.length === 1 ? vscode.l10n.t('Recently Deleted (1 value)') : vscode.l10n.t('Recently Deleted ({0} values)', entries.length);
    const ok = await this.s.gate.destroy({ what, action: vscode.l10n.t('Empty'), recoverable: false });
    if (!ok) return 0;
    for (const e of entries) await this.store.purgeDeleted(e.id);
    this.s.log.info(`Emptied Recently Deleted (${entries.length} values).`);
    return entries.length;
  }

  async refresh(): Promise<number> {
    await this.store.refresh();
    return this.store.list().length;
  }

  private async announce(text: string, meta: TokenMetadata): Promise<void> {
    const choice = await vscode.window.showInformationMessage(text, vscode.l10n.t('Copy Reference'));
    if (choice) await vscode.commands.executeCommand('mcpTokens.copyReference', { namespace: meta.namespace, name: meta.name });
  }
}

/** "1 token", "3 tokens". */
function tokenCount(n: number): string {
  return n === 1 ? vscode.l10n.t('1 token') : vscode.l10n.t('{0} tokens', n);
}

/** What the format rules and the JWT reader say about an import candidate (short sentences, never the value). */
function importProblems(c: CredentialCandidate, now: Date): string[] {
  return assessmentProblems(assessValue(c.value, { provider: c.provider, type: c.type }, now), now);
}

/** A URL-safe random token of `length` characters (6 bits of entropy each). */
export function generateSecret(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4) + 3)
    .toString('base64url')
    .slice(0, length);
}
