import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { candidateFor, findCredentials, looksLikeCredential, parseEnvFile, suggestKey } from '../../extension/tokens/envImport';

describe('import from environment', () => {
  it('recognises credential-looking names', () => {
    for (const v of ['GITHUB_TOKEN', 'OPENAI_API_KEY', 'AWS_SECRET_ACCESS_KEY', 'GITLAB_PAT', 'CLIENT_SECRET', 'DB_PASSWORD', 'SLACK_BOT_TOKEN'.replace('BOT_', ''), 'MY_APIKEY']) {
      assert.ok(looksLikeCredential(v), v);
    }
    for (const v of ['PATH', 'HOME', 'TOKENIZER', 'SECRETARY', 'NODE_ENV']) assert.equal(looksLikeCredential(v), undefined, v);
  });

  it('suggests references from provider and name', () => {
    assert.deepEqual(suggestKey('GITHUB_TOKEN', 'bearer'), { key: { namespace: 'bearer', name: 'github' }, provider: 'github' });
    assert.deepEqual(suggestKey('OPENAI_API_KEY', 'api-key'), { key: { namespace: 'api-key', name: 'openai' }, provider: 'openai' });
    assert.deepEqual(suggestKey('MY_SERVICE_API_KEY', 'api-key').key, { namespace: 'api-key', name: 'my-service' });
    assert.deepEqual(suggestKey('DB_PASSWORD', 'basic').key, { namespace: 'generic', name: 'db' });
  });

  it('lists only non-empty credential variables, sorted', () => {
    const found = findCredentials({ PATH: '/bin', B_TOKEN: 'x', A_API_KEY: 'y', EMPTY_TOKEN: '' });
    assert.deepEqual(found.map((c) => c.variable), ['A_API_KEY', 'B_TOKEN']);
    assert.equal(found[1].type, 'bearer');
  });

  it('parses .env files with quotes, export and comments', () => {
    const env = parseEnvFile('# comment\nexport GITHUB_TOKEN="ghp abc"\nOPENAI_API_KEY=sk-1 # trailing\nMULTI="a\nb"\n');
    assert.equal(env.GITHUB_TOKEN, 'ghp abc');
    assert.equal(env.OPENAI_API_KEY, 'sk-1');
    assert.equal(env.MULTI, 'a\nb');
  });

  it('makes a candidate for an explicitly named variable', () => {
    assert.equal(candidateFor('WEIRD', 'v')?.type, 'generic');
    assert.equal(candidateFor('WEIRD', ''), undefined);
  });
});
