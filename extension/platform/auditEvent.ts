/**
 * The shape of one audit event (`platform/audit.ts` writes and reads them). Pure (zod only), so the
 * command table can name the kinds in its schemas.
 */
import { z } from 'zod';

/** What happened. `command`: any other command that changes something. */
export const AUDIT_KINDS = [
  'launch',
  'launcher',
  'copy',
  'export',
  'set',
  'generate',
  'rotate',
  'restore',
  'delete',
  'import',
  'move',
  'sign-in',
  'sign-out',
  'refresh',
  'verify',
  'consent',
  'command',
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export const AUDIT_OUTCOMES = ['ok', 'denied', 'cancelled', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

const text = (n: number) => z.string().max(n);

export const auditActorSchema = z
  .object({
    /** The command id (`mcpTokens.rotateToken`). */
    command: text(128).optional(),
    /** `ui`: the user ran it; `automation`: a command argument object (maybe another extension). */
    via: z.enum(['ui', 'automation']).optional(),
    /** The MCP server a launch resolved tokens for, and the file defining it. */
    server: text(1024).optional(),
    file: text(4096).optional(),
    /** The launcher client (the mcp-tokens command-line launcher). */
    launcher: text(256).optional(),
  })
  .strict();
export type AuditActor = z.infer<typeof auditActorSchema>;

export const auditEventSchema = z
  .object({
    time: z.string().max(40),
    kind: z.enum(AUDIT_KINDS),
    /** The tokens concerned, as `namespace:name` (never a value). */
    tokens: z.array(text(300)).max(100).optional(),
    actor: auditActorSchema,
    outcome: z.enum(AUDIT_OUTCOMES),
    /** Why it was denied or failed, or what it did ("3 tokens"); never a value. */
    reason: text(500).optional(),
  })
  .strict();
export type AuditEvent = z.infer<typeof auditEventSchema>;

