/**
 * The one heartbeat helper for activities: progress details, a ticker for stretches without
 * progress, and the cancellation signal. Each is a no-op outside an activity (a script, a test).
 */
import { Context } from '@temporalio/activity';

/** Heartbeats when running as an activity (a no-op when called directly, e.g. from a script). */
export function heartbeat(details: unknown): void {
  try {
    const context = Context.current();
    lastDetails.set(context, details);
    context.heartbeat(details);
  } catch {
    // not inside an activity
  }
}

const lastDetails = new WeakMap<object, unknown>();

/**
 * Runs `work` while heartbeating every second with the latest details, so stretches without
 * data flow (pg_restore building indexes, row counts, a slow connect) still show a live worker.
 */
export async function withHeartbeat<T>(work: () => Promise<T>): Promise<T> {
  let context: Context | undefined;
  try {
    context = Context.current();
  } catch {
    return work();
  }
  const ctx = context;
  const timer = setInterval(() => {
    try {
      ctx.heartbeat(lastDetails.get(ctx) ?? { phase: 'working' });
    } catch {
      // the activity has finished
    }
  }, 1000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** The activity's cancellation signal, when running as one. */
export function cancellationSignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}
