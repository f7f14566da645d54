/**
 * A child process for the audit tests (a second VS Code window): appends `count` entries
 * `bearer:<prefix>-<i>` to the audit log at `path`, one append per entry, then exits.
 * Usage: node --import tsx auditWriter.ts <path> <prefix> <count> [maxBytes]
 */
import { AuditLog } from '../../../extension/platform/audit';

async function main(): Promise<void> {
  const [path, prefix, count, maxBytes] = process.argv.slice(2);
  const log = new AuditLog(path, 1_000_000, maxBytes ? { maxBytes: Number(maxBytes) } : undefined);
  const pending: Promise<void>[] = [];
  for (let i = 0; i < Number(count); i++) {
    pending.push(log.append({ time: new Date().toISOString(), kind: 'launch', tokens: [`bearer:${prefix}-${i}`], actor: { server: `srv-${prefix}`, file: '.vscode/mcp.tokens.json' }, outcome: 'ok' }));
    if (i % 50 === 0) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
