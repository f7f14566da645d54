/** The one way to turn an error into text for a log or a message. Pure. Messages never carry a value. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
