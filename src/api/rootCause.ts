/**
 * The innermost cause's message: "Activity task failed" or "Workflow execution failed" say
 * little; the cause at the bottom of the chain says what to fix (a bad option, a corrupt file).
 */
export function rootCauseMessage(err: unknown): string {
  let current = err as { message?: string; cause?: unknown } | undefined;
  while (current && typeof current === 'object' && current.cause) current = current.cause as typeof current;
  return current?.message ?? String(err);
}
