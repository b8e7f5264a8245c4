/**
 * Where a benchmarked job's time went, from its workflow histories: every completed activity
 * with when it was scheduled, started and completed, and its attempt. Shared by the detection
 * and sources benchmarks.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';

export interface CompletedActivity {
  name: string;
  scheduledAt: number;
  startedAt: number;
  at: number;
  attempt: number;
}

/** The completed activities of each run (a job continued as new has several handles). */
export async function completedActivities(handles: WorkflowHandle[]): Promise<CompletedActivity[]> {
  const scheduled = new Map<string, { name: string; at: number }>();
  const started = new Map<string, { at: number; attempt: number }>();
  const done: CompletedActivity[] = [];
  for (const [run, handle] of handles.entries()) {
    for (const event of (await handle.fetchHistory()).events ?? []) {
      const at = tsToMs(event.eventTime!);
      if (event.activityTaskScheduledEventAttributes) scheduled.set(`${run}:${event.eventId}`, { name: event.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at });
      const start = event.activityTaskStartedEventAttributes;
      if (start) started.set(`${run}:${start.scheduledEventId}`, { at, attempt: start.attempt ?? 1 });
      const completed = event.activityTaskCompletedEventAttributes;
      if (completed) {
        const key = `${run}:${completed.scheduledEventId}`;
        const s = scheduled.get(key);
        const st = started.get(key);
        done.push({ name: s?.name ?? '?', scheduledAt: s?.at ?? at, startedAt: st?.at ?? at, at, attempt: st?.attempt ?? 1 });
      }
    }
  }
  return done;
}

/** First of `activities` scheduled → last completed, in seconds (NaN for none). */
export function spanSeconds(activities: CompletedActivity[]): number {
  return activities.length ? (Math.max(...activities.map((a) => a.at)) - Math.min(...activities.map((a) => a.scheduledAt))) / 1000 : NaN;
}
