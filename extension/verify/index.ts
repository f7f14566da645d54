/**
 * Verify Token, Verify All Tokens and Configure Token Verification: check a token against its
 * service's identity endpoint (the table in `services.ts`, sent by `client.ts`) and keep the result in
 * its metadata as `lastVerified`, which the Tokens view, the details and the language server's hover
 * show.
 *
 * The value leaves only through the gate's `releaseRemembered`: the first Verify of a token at an
 * origin asks with a modal naming the host; later ones of the same token at the same origin do not.
 * Another origin (a changed base URL, another service) asks again, and the memory of a token is
 * forgotten when it is deleted, renamed or set anew. Settings given in a command's argument are
 * saved only after the user agreed and the request went out.
 */
import * as vscode from 'vscode';
import { ArgumentError, CancelledError, inputKey, registerCommandGroup, type CommandInput } from '../platform/commands';
import type { ArgsOf } from '../platform/commandTable';
import type { Release, ValueReader } from '../platform/gate';
import { VERIFY_SERVICES, describeIssues, describeVerified, verifySettingsSchema, type LastVerified, type TokenMetadata, type VerifyServiceId, type VerifySettings } from '../../server/core/model';
import { keyId, type TokenKey } from '../../server/core/reference';
import type { Services } from '../services';
import { errorText } from '../../server/core/errors';
import { SERVICES, serviceForProvider, settingsFor, targetUrl } from './services';
import { VerifyTargetError, targetOrigin, verify } from './client';

/** The gate's memory key of "send token `key` to `origin`". */
export function rememberKey(key: TokenKey, origin: string): string {
  return `verify\n${keyId(key)}\n${origin}`;
}

type SettingsArgs = Partial<Pick<ArgsOf<'verifyToken'>, 'service' | 'baseUrl' | 'url' | 'header'>>;

/** Settings from a command argument, validated as a whole; undefined when it names none. */
function settingsFromArgs(args: SettingsArgs): VerifySettings | undefined {
  const { service, baseUrl, url, header } = args;
  if (!service) {
    if (baseUrl || url || header) throw new ArgumentError('Give "service" with baseUrl, url or header.');
    return undefined;
  }
  const parsed = verifySettingsSchema.safeParse(Object.fromEntries(Object.entries({ service, baseUrl, url, header }).filter(([, v]) => v !== undefined)));
  if (!parsed.success) throw new ArgumentError(`Invalid verify settings: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** "https://api.github.com (GitHub)". */
function hostText(settings: VerifySettings, origin: string): string {
  return settings.service === 'generic' ? origin : `${origin} (${SERVICES[settings.service].label})`;
}

/** One line for a notification: "bearer:github verified as octocat; scopes: repo, gist". */
export function resultText(key: TokenKey, v: LastVerified): string {
  return v.ok && v.scopes?.length
    ? vscode.l10n.t('{0} {1}; scopes: {2}.', keyId(key), describeVerified(v), v.scopes.join(', '))
    : vscode.l10n.t('{0} {1}.', keyId(key), describeVerified(v));
}

class Verifier {
  constructor(private readonly s: Services) {}

  private async tokenFor(input: CommandInput<unknown>, title: string): Promise<TokenMetadata | undefined> {
    await this.s.store.ready();
    const key = inputKey(input);
    if (key) {
      const meta = this.s.store.get(key);
      if (!meta) throw new ArgumentError(vscode.l10n.t('No token {0} is stored.', keyId(key)));
      return meta;
    }
    const tokens = this.s.store.list();
    if (!tokens.length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No MCP tokens are stored yet.'));
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      tokens.map((meta) => ({
        label: keyId(meta),
        description: meta.lastVerified ? describeVerified(meta.lastVerified) : settingsFor(meta) ? SERVICES[settingsFor(meta)!.service].label : vscode.l10n.t('no service yet'),
        meta,
      })),
      { title, placeHolder: vscode.l10n.t('Which token?'), matchOnDescription: true },
    );
    return pick?.meta;
  }

  /** Asks where the token goes: service, then base URL (or URL and header). Undefined: cancelled. */
  private async askSettings(meta: TokenMetadata, title: string): Promise<VerifySettings | undefined> {
    const current = settingsFor(meta);
    const suggested = current?.service ?? serviceForProvider(meta.provider);
    const items = VERIFY_SERVICES.map((id) => ({
      label: SERVICES[id].label,
      description: id === suggested ? (meta.provider ? vscode.l10n.t('from the provider "{0}"', meta.provider) : vscode.l10n.t('current')) : SERVICES[id].defaultBase,
      id,
    }));
    items.sort((a, b) => Number(b.id === suggested) - Number(a.id === suggested));
    const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('{0}: service of {1}', title, keyId(meta)), placeHolder: vscode.l10n.t('Which service issued this token?'), ignoreFocusOut: true });
    if (!pick) return undefined;
    const service: VerifyServiceId = pick.id;
    const same = current?.service === service ? current : undefined;
    const checkUrl = (text: string) => {
      try {
        targetOrigin(service === 'generic' ? { service, url: text } : { service, baseUrl: text });
        return undefined;
      } catch (e) {
        return e instanceof VerifyTargetError ? e.message : vscode.l10n.t('Not a valid URL.');
      }
    };
    if (service === 'generic') {
      const url = await vscode.window.showInputBox({
        title: vscode.l10n.t('{0}: URL', title),
        prompt: vscode.l10n.t('A URL that answers a GET with 2xx when the token is valid (HTTPS)'),
        value: same?.url ?? 'https://',
        ignoreFocusOut: true,
        validateInput: checkUrl,
      });
      if (!url) return undefined;
      const header = await vscode.window.showInputBox({
        title: vscode.l10n.t('{0}: header', title),
        prompt: vscode.l10n.t({ message: 'The header that carries the token; {0} stands for it', args: ['{{value}}'], comment: ['{0} is the literal placeholder {{value}}'] }),
        value: same?.header ?? 'Authorization: Bearer {{value}}',
        ignoreFocusOut: true,
        validateInput: (h) => (verifySettingsSchema.safeParse({ service, url, header: h }).success ? undefined : vscode.l10n.t('Write "Name: text {0} text", e.g. "X-Api-Key: {0}".', '{{value}}')),
      });
      if (!header) return undefined;
      return { service, url, header };
    }
    const spec = SERVICES[service];
    const base = await vscode.window.showInputBox({
      title: vscode.l10n.t('{0}: base URL', title),
      prompt: vscode.l10n.t("The API's base URL. Keep {0} for the public service, or enter your enterprise host's, e.g. {1}", String(spec.defaultBase), String(spec.baseExample)),
      value: same?.baseUrl ?? spec.defaultBase,
      ignoreFocusOut: true,
      validateInput: checkUrl,
    });
    if (!base) return undefined;
    const trimmed = base.trim().replace(/\/+$/, '');
    return trimmed === spec.defaultBase ? { service } : { service, baseUrl: trimmed };
  }

  async configure(input: CommandInput<ArgsOf<'configureVerify'>>): Promise<VerifySettings | undefined> {
    const title = vscode.l10n.t('Configure Token Verification');
    const meta = await this.tokenFor(input, title);
    if (!meta) return undefined;
    const settings = input.via === 'args' ? settingsFromArgs(input.args) : await this.askSettings(meta, title);
    if (!settings) {
      if (input.via === 'args') throw new ArgumentError('mcpTokens.configureVerify needs "service".');
      return undefined;
    }
    targetOrigin(settings); // refuse an insecure URL now rather than at the next Verify
    await this.s.store.updateMetadata(meta, { verify: settings });
    this.s.log.info(`Verify settings of ${keyId(meta)}: ${settings.service} at ${originText(settings)}.`);
    return settings;
  }

  async verifyToken(input: CommandInput<ArgsOf<'verifyToken'>>): Promise<LastVerified | undefined> {
    const meta = await this.tokenFor(input, vscode.l10n.t('Verify Token'));
    if (!meta) return undefined;
    let settings = input.via === 'args' ? (settingsFromArgs(input.args) ?? settingsFor(meta)) : settingsFor(meta);
    const given = input.via === 'args' && Boolean(input.args.service);
    if (!settings) {
      if (input.via === 'args') throw new ArgumentError(`${keyId(meta)} has no provider Verify knows and no verify settings: give "service" (${VERIFY_SERVICES.join(', ')}).`);
      settings = await this.askSettings(meta, vscode.l10n.t('Verify Token'));
      if (!settings) return undefined;
    }
    const origin = targetOrigin(settings);
    const spec = SERVICES[settings.service];
    const release: Release = {
      verb: 'Send',
      what: vscode.l10n.t('the value of {0}', keyId(meta)),
      to: hostText(settings, origin),
      action: vscode.l10n.t('Verify'),
      detail:
        spec.label === SERVICES.generic.label
          ? vscode.l10n.t('Verify Token sends it to {0} to learn who it belongs to. Later verifications of this token at {1} will not ask again; another host will.', targetUrl(settings), origin)
          : vscode.l10n.t("Verify Token sends it to {0}'s identity endpoint to learn who it belongs to. Later verifications of this token at {1} will not ask again; another host will.", spec.label, origin),
      automation: input.via === 'args',
    };
    const result = await this.s.gate.releaseRemembered(release, [rememberKey(meta, origin)], (read) => this.run(meta, settings, read, given || (!meta.verify && input.via === 'ui')));
    if (!result) throw new CancelledError(`Verify of ${keyId(meta)} cancelled.`);
    if (input.via === 'ui') {
      const text = resultText(meta, result);
      if (result.ok) void vscode.window.showInformationMessage(text);
      else void vscode.window.showWarningMessage(text, vscode.l10n.t('Configure…')).then((c) => c && vscode.commands.executeCommand('mcpTokens.configureVerify', keyId(meta)));
    }
    return result;
  }

  /** Reads the value (through the gate's reader), sends it, stores the result (and the settings when `save`). */
  private async run(meta: TokenMetadata, settings: VerifySettings, read: ValueReader, save: boolean, signal?: AbortSignal): Promise<LastVerified> {
    const value = await read.value(meta);
    if (value === undefined) throw new Error(vscode.l10n.t('The value of {0} is missing from its backend.', keyId(meta)));
    const result = await verify(settings, value, { signal });
    this.s.log.info(`Verify ${keyId(meta)} at ${result.origin}: ${result.ok ? 'ok' : 'failed'}${result.status ? ` (HTTP ${result.status})` : ''}.`);
    if (signal?.aborted) return result;
    await this.s.store.updateMetadata(meta, save ? { verify: settings, lastVerified: result } : { lastVerified: result });
    return result;
  }

  async verifyAll(): Promise<{ ok: number; failed: number; skipped: number; declined: number }> {
    await this.s.store.ready();
    const planned: { meta: TokenMetadata; settings: VerifySettings; origin: string }[] = [];
    let skipped = 0;
    for (const meta of this.s.store.list()) {
      const settings = settingsFor(meta);
      let origin: string | undefined;
      try {
        origin = settings && targetOrigin(settings);
      } catch {
        origin = undefined;
      }
      if (settings && origin) planned.push({ meta, settings, origin });
      else skipped++;
    }
    const counts = { ok: 0, failed: 0, skipped, declined: 0 };
    const agreed = planned.filter((p) => this.s.gate.isRemembered(rememberKey(p.meta, p.origin)));
    const ask = planned.filter((p) => !agreed.includes(p));
    const runAll = async (list: typeof planned, read: ValueReader) =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Verifying tokens'), cancellable: true }, async (progress, cancel) => {
        const abort = new AbortController();
        const sub = cancel.onCancellationRequested(() => abort.abort());
        try {
          for (const p of list) {
            if (abort.signal.aborted) break;
            progress.report({ message: keyId(p.meta), increment: 100 / list.length });
            const r = await this.run(p.meta, p.settings, read, false, abort.signal).catch((e: unknown) => {
              this.s.log.warn(`Verify ${keyId(p.meta)}: ${errorText(e)}`);
              return undefined;
            });
            if (r?.ok) counts.ok++;
            else if (r && r.reason !== 'cancelled') counts.failed++;
          }
        } finally {
          sub.dispose();
        }
      });
    const toVerify: typeof planned = [...agreed];
    if (ask.length) {
      const names = ask.map((p) => `${keyId(p.meta)} → ${p.origin}`);
      const yes = await this.s.gate.releaseRemembered(
        {
          verb: 'Send',
          what: ask.length === 1 ? vscode.l10n.t('the value of {0}', keyId(ask[0].meta)) : vscode.l10n.t('the values of {0} tokens', ask.length),
          to: ask.length === 1 ? hostText(ask[0].settings, ask[0].origin) : vscode.l10n.t('their services'),
          action: vscode.l10n.t('Verify'),
          detail:
            names.length > 12
              ? vscode.l10n.t('Each goes only to its own service: {0} and {1} more. Later verifications of these tokens at these hosts will not ask again.', names.slice(0, 12).join(', '), names.length - 12)
              : vscode.l10n.t('Each goes only to its own service: {0}. Later verifications of these tokens at these hosts will not ask again.', names.join(', ')),
        },
        ask.map((p) => rememberKey(p.meta, p.origin)),
        async () => true,
      );
      if (yes) toVerify.push(...ask);
      else counts.declined = ask.length;
    }
    if (toVerify.length) await this.s.gate.releaseRemembered({ verb: 'Send', what: vscode.l10n.t('the values of the agreed tokens'), to: vscode.l10n.t('their services'), action: vscode.l10n.t('Verify') }, toVerify.map((p) => rememberKey(p.meta, p.origin)), (read) => runAll(toVerify, read));
    const summary = counts.declined
      ? vscode.l10n.t('Verify All: {0} ok, {1} failed, {2} skipped (no service), {3} not sent (not confirmed).', counts.ok, counts.failed, counts.skipped, counts.declined)
      : vscode.l10n.t('Verify All: {0} ok, {1} failed, {2} skipped (no service).', counts.ok, counts.failed, counts.skipped);
    this.s.log.info(summary);
    if (counts.failed) void vscode.window.showWarningMessage(summary);
    else void vscode.window.showInformationMessage(summary);
    return counts;
  }
}

function originText(settings: VerifySettings): string {
  try {
    return targetOrigin(settings);
  } catch {
    return vscode.l10n.t('an invalid URL');
  }
}

export function registerVerify(s: Services): void {
  const v = new Verifier(s);
  registerCommandGroup(s, {
    verifyToken: (i) => v.verifyToken(i),
    verifyAllTokens: () => v.verifyAll(),
    configureVerify: (i) => v.configure(i),
  });
  // A token deleted, renamed or set anew is another secret: its agreed hosts are forgotten.
  s.context.subscriptions.push(
    s.store.onDidChange((change) => {
      if (change.kind !== 'delete' && change.kind !== 'rename' && change.kind !== 'set') return;
      const prefixes = change.keys.map((k) => `verify\n${keyId(k)}\n`);
      if (prefixes.length) void s.gate.forget((key) => prefixes.some((p) => key.startsWith(p))).catch((e) => s.log.warn(`Could not forget verify confirmations: ${errorText(e)}`));
    }),
  );
}
