/**
 * A child process for the registry tests: registers `count` tokens `<prefix>-<i>` in the mcp-cli
 * registry at `path` through McpCliRegistry, with small random pauses, then exits.
 * Usage: node --import tsx registryWriter.ts <path> <prefix> <count>
 */
import { McpCliRegistry } from '../../../extension/backends/mcpCliRegistry';

async function main(): Promise<void> {
  const [path, prefix, count] = process.argv.slice(2);
  const registry = new McpCliRegistry(path);
  for (let i = 0; i < Number(count); i++) {
    await registry.register({ namespace: 'bearer', name: `${prefix}-${i}` }, { type: 'bearer' });
    if (Math.random() < 0.3) await new Promise((r) => setTimeout(r, Math.random() * 3));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
