/**
 * The OAuth feature's VS Code side: the browser (vscode.env.openExternal), the cancellable progress
 * notification, the questions, the commands (Sign In, Sign Out, Refresh, Refresh All) and the
 * `services.oauth` hooks the MCP provider calls at each server start. `createOAuth` builds the
 * manager and the hooks before `Services` exists; `registerOAuth` adds the commands. The protocol
 * lives in the pure modules beside this one (flow, loopback, session, manager).
 */
import * as vscode from 'vscode';
import { formatReference, keyId, parseWholeReference, type TokenKey } from '../../server/core/reference';
import { describeIssues, isInternalNamespace, nameSchema } from '../../server/core/model';
import type { CoreServices, OAuthHooks, Services } from '../services';
import { OAuthFlowError, safeMessage } from './errors';
import type { PreRegisteredClient } from '../../server/core/oauthClient';
import { OAuthManager, type OAuthServerRef, type OAuthUi, type RefreshOutcome } from './manager';
import { Leases, secretStorageLeaseStorage } from '../store/lease';
import { ACCESS_NAMESPACE, refreshKey } from './session';
import { inputKey, registerCommandGroup, type CommandInput } from '../platform/commands';
import { sentences } from '../platform/l10n';
import type { ArgsOf } from '../platform/commandTable';


/** What a refresh did, in words ("refreshed", "still fresh"). */
function outcomeText(outcome: RefreshOutcome): string {
  const text: Record<RefreshOutcome, string> = {
    refreshed: vscode.l10n.t('refreshed'),
    fresh: vscode.l10n.t('still fresh'),
    'no-refresh-token': vscode.l10n.t('has no refresh token (sign in again when it expires)'),
    'sign-in-required': vscode.l10n.t('needs a new sign-in'),
    failed: vscode.l10n.t('could not be refreshed (see the log)'),
  };
  return text[outcome];
}

function defaultName(url: string): string {
  try {
    const host = new URL(url).hostname.replace(/^(www|mcp|api)\./, '');
    const name = host.split('.')[0].replace(/[^A-Za-z0-9._-]/g, '-');
    return nameSchema.safeParse(name).success ? name : 'server';
  } catch {
    return 'server';
  }
}

/** The OAuth feature as built before `Services`: the manager, the questions it asks, and the hooks `Services.oauth` offers. */
export interface OAuthFeature {
  readonly manager: OAuthManager;
  readonly ui: OAuthUi;
  readonly hooks: OAuthHooks;
}

/** Builds the OAuth manager (scheduled refreshes, one refresher across windows) and the hooks for the MCP provider. */
export function createOAuth(s: CoreServices): OAuthFeature {
  const ui: OAuthUi = {
    openBrowser: async (url) => {
      // Handed over as a string: VS Code then opens it exactly as given, without re-encoding the query.
      const opened = await vscode.env.openExternal(url.href as unknown as vscode.Uri);
      if (!opened) throw new OAuthFlowError('cancelled', vscode.l10n.t('The browser was not opened; sign-in stopped.'));
    },
    withProgress: (title, task) =>
      Promise.resolve(
        vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          return task((message) => progress.report({ message }), abort.signal).finally(() => sub.dispose());
        }),
      ),
    confirmSignIn: async (key, server, reason) => {
      const signIn = vscode.l10n.t('Sign In');
      const pick = await vscode.window.showInformationMessage(vscode.l10n.t('{0} Sign in to {1} in the browser now?', reason, server.name ?? server.url ?? keyId(key)), signIn);
      return pick === signIn;
    },
    askClient: async (issuer) => {
      const clientId = await vscode.window.showInputBox({
        title: vscode.l10n.t('OAuth client id'),
        prompt: vscode.l10n.t("{0} offers no client registration. Enter the client id registered for this app (from the provider's developer settings).", issuer),
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('Enter a client id.')),
      });
      if (!clientId) return undefined;
      const clientSecret = await vscode.window.showInputBox({
        title: vscode.l10n.t('OAuth client secret (optional)'),
        prompt: vscode.l10n.t('Leave empty for a public client.'),
        password: true,
        ignoreFocusOut: true,
      });
      return { clientId: clientId.trim(), clientSecret: clientSecret || undefined };
    },
    notifySignInRequired: (key, message) => {
      void vscode.window.showWarningMessage(message, vscode.l10n.t('Sign In')).then((pick) => {
        if (pick) void vscode.commands.executeCommand('mcpTokens.signIn', { namespace: key.namespace, name: key.name });
      });
    },
  };

  // One refresher per token across windows: the lease records live in SecretStorage, shared by every
  // window of the machine, whose onDidChange fires in every window (docs/oauth.md, "One refresher
  // across windows").
  const leaseStorage = secretStorageLeaseStorage(s.context.secrets);
  s.context.subscriptions.push(leaseStorage);
  const manager = new OAuthManager(s.store, ui, {
    log: (level, message) => s.log[level](message),
    audit: (event) => s.audit.record(event),
    leases: new Leases(leaseStorage),
    clientMetadataUrl: () => s.config.oauthClientMetadataUrl(),
    // An mcp-cli OAuth entry in the keyring: what mcp-cli stored about it, so it can be refreshed here.
    externalGrant: (meta) => s.store.oauthGrant(meta),
  });
  s.context.subscriptions.push(
    manager,
    // A deleted OAuth token takes its refresh token with it: no secret is left behind unseen.
    s.store.onDidChange((change) => {
      if (change.kind !== 'delete') return;
      for (const key of change.keys) {
        const companion = refreshKey(key);
        if (key.namespace === ACCESS_NAMESPACE && s.store.has(companion)) {
          s.store.delete(companion).catch((e) => s.log.warn(`Could not delete the refresh token of ${keyId(key)}: ${safeMessage(e)}`));
        }
      }
    }),
  );
  void s.store.ready().then(() => manager.schedule(), () => undefined);

  const hooks: OAuthHooks = {
    ensureFresh: async (key, server) => {
      try {
        return await manager.ensureFresh(key, server);
      } catch (e) {
        void vscode.window.showErrorMessage(vscode.l10n.t('Sign-in for {0} failed: {1}', formatReference(key), safeMessage(e)));
        return false;
      }
    },
  };
  return { manager, ui, hooks };
}

/** The OAuth commands (Sign In, Sign Out, Refresh, Refresh All) over the manager `createOAuth` built. */
export function registerOAuth(s: Services, { manager, ui }: OAuthFeature): void {

  /** Picks an OAuth token (the argument's, or one the user chooses). */
  const pickKey = async (input: CommandInput<unknown>, placeHolder: string): Promise<TokenKey | undefined> => {
    const given = inputKey(input);
    if (given) return given;
    await s.store.ready();
    const items = manager.sessions.list().map((t) => ({
      label: keyId(t),
      description: t.oauth?.signInRequired ? vscode.l10n.t('sign-in required') : t.oauth?.issuer,
      key: { namespace: t.namespace, name: t.name },
    }));
    if (items.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No OAuth token is stored yet. Use "MCP Tokens: Sign In to Server…" first.'));
      return undefined;
    }
    return (await vscode.window.showQuickPick(items, { placeHolder }))?.key;
  };

  /** A stored client secret leaves the store for the server's authorization server only after the gate's question. */
  const resolveSecret = async (value: string | undefined, url: string, automation: boolean): Promise<string | undefined> => {
    if (!value) return undefined;
    const ref = parseWholeReference(value.trim());
    if (!ref) throw new Error(vscode.l10n.t('The client secret must be given as a token reference such as $<TOKEN:namespace:name>, never as a value.'));
    if (!s.store.has(ref) || isInternalNamespace(ref.namespace)) throw new Error(vscode.l10n.t('The client secret reference {0} names no stored token.', formatReference(ref)));
    let host = url;
    try {
      host = new URL(url).host;
    } catch {
      /* shown as given */
    }
    const secret = await s.gate.release(
      {
        verb: 'Send',
        what: vscode.l10n.t('the value of {0} (as OAuth client secret)', keyId(ref)),
        to: vscode.l10n.t('the authorization server of {0}', host),
        action: vscode.l10n.t('Send'),
        detail: vscode.l10n.t('It authenticates the OAuth client at the authorization server that {0} names in its metadata.', url),
        automation,
      },
      (read) => read.value(ref),
    );
    if (secret === undefined) throw new OAuthFlowError('cancelled', vscode.l10n.t('The client secret {0} was not sent; sign-in stopped.', formatReference(ref)));
    return secret;
  };

  const signIn = async (input: CommandInput<ArgsOf<'signIn'>>) => {
    const args: ArgsOf<'signIn'> = input.via === 'args' ? input.args : {};
    const existing = args.name ? s.store.get({ namespace: args.namespace ?? ACCESS_NAMESPACE, name: args.name }) : undefined;
    let url = args.url ?? existing?.oauth?.serverUrl;
    if (!url) {
      url = await vscode.window.showInputBox({
        title: vscode.l10n.t('Sign In to MCP Server'),
        prompt: vscode.l10n.t('The URL of the HTTP MCP server (for example https://mcp.example.com/mcp).'),
        ignoreFocusOut: true,
        validateInput: (v) => (/^https?:\/\/\S+$/.test(v.trim()) ? undefined : vscode.l10n.t('Enter an http(s) URL.')),
      });
      if (!url) return undefined;
      url = url.trim();
    }
    let name = args.name;
    if (!name) {
      name = await vscode.window.showInputBox({
        title: vscode.l10n.t('Token name'),
        prompt: vscode.l10n.t('Name of the OAuth token; reference it as $<TOKEN:oauth:name>.'),
        value: defaultName(url),
        ignoreFocusOut: true,
        validateInput: (v) => {
          const r = nameSchema.safeParse(v);
          return r.success ? undefined : describeIssues(r.error);
        },
      });
      if (!name) return undefined;
    }
    const key = { namespace: args.namespace ?? ACCESS_NAMESPACE, name };
    // Signing in again to the server a token came from renews it; anything else replaces a token the
    // servers using it rely on, with tokens of another server: asked (the old ones go to Recently Deleted).
    const current = s.store.get(key);
    if (current && !(current.type === 'oauth' && current.oauth?.serverUrl === url)) {
      const ok = await s.gate.destroy({
        what: vscode.l10n.t('the token {0}', keyId(key)),
        action: vscode.l10n.t('Replace'),
        detail: current.oauth?.serverUrl
          ? vscode.l10n.t('It holds a sign-in to {0}; a sign-in to {1} would replace it for every server that uses {2}.', current.oauth.serverUrl, url, formatReference(key))
          : vscode.l10n.t('It is a {0} token; a sign-in to {1} would replace it for every server that uses {2}.', current.type, url, formatReference(key)),
        recoverable: true,
      });
      if (!ok) throw new OAuthFlowError('cancelled', vscode.l10n.t('{0} was kept; sign-in stopped.', keyId(key)));
    }
    const preRegistered: PreRegisteredClient | undefined = args.clientId
      ? { clientId: args.clientId, clientSecret: await resolveSecret(args.clientSecret, url, input.via === 'args'), ...(args.clientSecret?.trim() ? { clientSecretRef: args.clientSecret.trim() } : {}) }
      : undefined;
    const server: OAuthServerRef = { name, url, preRegistered };
    const meta = await manager.signIn(key, server);
    const reference = formatReference(key);
    void vscode.window.showInformationMessage(vscode.l10n.t('Signed in: {0} holds the access token for {1}.', reference, url), vscode.l10n.t('Copy Reference')).then((pick) => {
      if (pick) void vscode.env.clipboard.writeText(reference);
    });
    return { namespace: key.namespace, name: key.name, issuer: meta.oauth?.issuer, scopes: meta.oauth?.scopes, expiresAt: meta.expiresAt };
  };

  const signOut = async (input: CommandInput<ArgsOf<'signOut'>>) => {
    const key = await pickKey(input, vscode.l10n.t('Sign out of which OAuth token?'));
    if (!key) return undefined;
    // Revocation at the authorization server cannot be undone: always asked, whatever the caller.
    const ok = await s.gate.destroy({
      what: vscode.l10n.t({ message: 'of {0}', args: [keyId(key)], comment: ['Completes the question "Sign Out {0}?" of the sign-out dialog; {0} is a token such as oauth:github'] }),
      action: vscode.l10n.t('Sign Out'),
      detail: vscode.l10n.t('Its tokens are revoked where the server offers it and deleted here; servers using it need a new sign-in.'),
      recoverable: false,
    });
    if (!ok) return undefined;
    const result = await manager.signOut(key);
    const done = vscode.l10n.t('Signed out of {0}.', keyId(key));
    const detail = result.revoked ? vscode.l10n.t('The tokens were revoked.') : result.error ? vscode.l10n.t('Revocation failed ({0}); the tokens were deleted here.', result.error) : '';
    void vscode.window.showInformationMessage(sentences(done, detail));
    return result;
  };

  const refreshToken = async (input: CommandInput<ArgsOf<'refreshToken'>>) => {
    const key = await pickKey(input, vscode.l10n.t('Refresh which OAuth token?'));
    if (!key) return undefined;
    const outcome = await manager.refresh(key, { force: true });
    if (outcome === 'sign-in-required') ui.notifySignInRequired!(key, vscode.l10n.t('The refresh token of {0} was refused; sign in again.', keyId(key)));
    else void vscode.window.showInformationMessage(vscode.l10n.t('{0} {1}.', keyId(key), outcomeText(outcome)));
    return outcome;
  };

  const refreshAll = async () => {
    const results = await manager.refreshAll();
    const counts = new Map<RefreshOutcome, number>();
    for (const o of results.values()) counts.set(o, (counts.get(o) ?? 0) + 1);
    const summary = [...counts].map(([o, n]) => vscode.l10n.t('{0} {1}', n, outcomeText(o))).join(', ') || vscode.l10n.t('no OAuth tokens');
    void vscode.window.showInformationMessage(vscode.l10n.t('OAuth tokens: {0}.', summary));
    return Object.fromEntries(results);
  };

  registerCommandGroup(
    s,
    { signIn, signOut, refreshToken, refreshAllTokens: refreshAll },
    {
      describe: (e) => safeMessage(e),
      // A cancelled sign-in ends quietly when run by the user; automation callers get the rejection.
      quiet: (e) => e instanceof OAuthFlowError && e.failure === 'cancelled',
    },
  );
}
