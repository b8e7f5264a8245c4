import { readFileSync } from 'node:fs';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleDescriptionAction, type ScheduleOptions } from '@temporalio/client';
import { TASK_QUEUES } from '../config/taskQueues';
import { validateBackupInput, validateVerifyBackupsInput, type BackupInput, type VerifyBackupsInput } from '../api/backupInputs';
import { validateDetectBatchInput, type DetectBatchInput } from '../api/inputs';
import type { DetectBackfillInput } from '../api/backfillInput';
import { workflowAction } from './workflowStarts';

/**
 * Temporal Schedules from one config file, installed or updated by `nomaly schedules apply`:
 *   {"backup": {"hour": 2, "minute": 30, "input": {"scope": "full"}},
 *    "backupVerify": {"hour": 4, "minute": 0, "input": {"newest": 3}},
 *    "detections": [{"id": "nightly-cardio", "hour": 2, "minute": 0,
 *                    "input": {"model": "cardio", "datasetId": "ds_…", "alertAnomalyRateAbove": 0.2}}]}
 * A detection's input may name a `source` (data where it lives) instead of a `datasetId`: each run
 * then scores the period before the one it is due in, counted in the schedule's `timezone`
 * (which becomes the input's `timeZone` when the input has none).
 * Every schedule: overlap SKIP (a slow night never doubles up) and an explicit catch-up window
 * (defaults differ between SDK and server). `everySeconds` replaces hour/minute with an interval.
 * Without a file, the nightly backup and the daily re-check of the newest backups are installed;
 * with one, the re-check only when the file has `backupVerify`.
 */

interface ScheduleTiming {
  id: string;
  hour: number;
  minute: number;
  timezone: string;
  /** How late a missed run (server down at its time) may still start. */
  catchupWindowMinutes: number;
  paused: boolean;
  everySeconds?: number;
}

export interface BackupScheduleSpec extends ScheduleTiming {
  input: BackupInput;
}

export interface BackupVerifyScheduleSpec extends ScheduleTiming {
  input: VerifyBackupsInput;
}

export interface DetectionScheduleSpec extends ScheduleTiming {
  input: DetectBatchInput;
}

export interface SchedulesFile {
  backup: BackupScheduleSpec;
  backupVerify?: BackupVerifyScheduleSpec;
  detections: DetectionScheduleSpec[];
}

const TIMING_DEFAULTS = { hour: 2, minute: 0, timezone: 'UTC', catchupWindowMinutes: 60, paused: false };

export const DEFAULT_BACKUP_SCHEDULE: BackupScheduleSpec = {
  ...TIMING_DEFAULTS,
  id: 'nomaly-nightly-backup',
  minute: 30,
  input: { scope: 'full' },
};

/** Re-reads and re-hashes the newest backups daily, so damage on disk is found before a recovery needs them. */
export const DEFAULT_BACKUP_VERIFY_SCHEDULE: BackupVerifyScheduleSpec = {
  ...TIMING_DEFAULTS,
  id: 'nomaly-backup-verify',
  hour: 4,
  input: { newest: 3 },
};

function checkTiming(where: string, spec: ScheduleTiming): void {
  const int = (name: keyof ScheduleTiming, min: number, max: number) => {
    const v = spec[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new Error(`${where}.${name} must be an integer from ${min} to ${max}`);
  };
  if (typeof spec.id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(spec.id)) throw new Error(`${where}.id must be 1-100 letters, digits, _ . -`);
  int('hour', 0, 23);
  int('minute', 0, 59);
  int('catchupWindowMinutes', 1, 7 * 24 * 60);
  if (spec.everySeconds !== undefined) int('everySeconds', 1, 366 * 24 * 3600);
}

/** Reads the config file (or the defaults: just the nightly backup), validating every field and workflow input. */
export function readSchedulesFile(file?: string): SchedulesFile {
  let parsed: { backup?: Partial<BackupScheduleSpec>; backupVerify?: Partial<BackupVerifyScheduleSpec>; detections?: Array<Partial<DetectionScheduleSpec>> } = {};
  if (file) {
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`${file}: not readable JSON (${(err as Error).message})`);
    }
  }
  const backup = { ...DEFAULT_BACKUP_SCHEDULE, ...(parsed.backup ?? {}) };
  checkTiming(`${file ?? 'defaults'}: backup`, backup);
  validateBackupInput(backup.input);
  let backupVerify: BackupVerifyScheduleSpec | undefined;
  if (!file || parsed.backupVerify !== undefined) {
    backupVerify = { ...DEFAULT_BACKUP_VERIFY_SCHEDULE, ...(parsed.backupVerify ?? {}) };
    checkTiming(`${file ?? 'defaults'}: backupVerify`, backupVerify);
    validateVerifyBackupsInput(backupVerify.input);
  }
  if (parsed.detections !== undefined && !Array.isArray(parsed.detections)) throw new Error(`${file}: detections must be a list`);
  const detections = (parsed.detections ?? []).map((raw, i) => {
    const spec = { ...TIMING_DEFAULTS, ...raw } as DetectionScheduleSpec;
    checkTiming(`${file}: detections[${i}]`, spec);
    // A run's window is the day (or hour) before, on the same clock as the schedule's.
    if (spec.input?.source !== undefined && spec.input.timeZone === undefined) spec.input = { ...spec.input, timeZone: spec.timezone };
    validateDetectBatchInput(spec.input);
    return spec;
  });
  return { backup, backupVerify, detections };
}

function scheduleOptions(spec: ScheduleTiming, workflow: ReturnType<typeof workflowAction>): ScheduleOptions {
  return {
    scheduleId: spec.id,
    spec:
      spec.everySeconds !== undefined
        ? { intervals: [{ every: spec.everySeconds * 1000 }] }
        : { calendars: [{ hour: spec.hour, minute: spec.minute }], timezone: spec.timezone },
    action: {
      type: 'startWorkflow',
      ...workflow,
      taskQueue: TASK_QUEUES.control,
      workflowId: `${spec.id}-run`, // the server appends the scheduled time: one id per run
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: `${spec.catchupWindowMinutes} minutes` },
    state: { paused: spec.paused, note: 'installed by nomaly schedules apply' },
  };
}

/** Creates the schedule, or updates it in place when it exists. */
async function applySchedule(client: Client, options: ScheduleOptions, paused: boolean): Promise<'created' | 'updated'> {
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(options.scheduleId).update((previous) => ({
    ...previous,
    spec: options.spec,
    action: options.action,
    policies: { ...previous.policies, ...options.policies },
    state: { ...previous.state, paused },
  }));
  return 'updated';
}

export function applyBackupSchedule(client: Client, spec: BackupScheduleSpec): Promise<'created' | 'updated'> {
  return applySchedule(client, scheduleOptions(spec, workflowAction('backup', [spec.input])), spec.paused);
}

export function applyBackupVerifySchedule(client: Client, spec: BackupVerifyScheduleSpec): Promise<'created' | 'updated'> {
  return applySchedule(client, scheduleOptions(spec, workflowAction('verifyBackups', [spec.input])), spec.paused);
}

export function applyDetectionSchedule(client: Client, spec: DetectionScheduleSpec): Promise<'created' | 'updated'> {
  return applySchedule(client, scheduleOptions(spec, workflowAction('detectBatch', [spec.input])), spec.paused);
}

/** Applies the whole file: the backup schedule, the backup re-check and every detection schedule. */
export async function applySchedulesFile(client: Client, schedules: SchedulesFile): Promise<Array<{ id: string; what: 'created' | 'updated'; when: string }>> {
  const when = (s: ScheduleTiming) =>
    s.everySeconds !== undefined ? `every ${s.everySeconds}s` : `daily at ${String(s.hour).padStart(2, '0')}:${String(s.minute).padStart(2, '0')} ${s.timezone}`;
  const results = [{ id: schedules.backup.id, what: await applyBackupSchedule(client, schedules.backup), when: when(schedules.backup) }];
  if (schedules.backupVerify) {
    results.push({ id: schedules.backupVerify.id, what: await applyBackupVerifySchedule(client, schedules.backupVerify), when: when(schedules.backupVerify) });
  }
  for (const spec of schedules.detections) results.push({ id: spec.id, what: await applyDetectionSchedule(client, spec), when: when(spec) });
  return results;
}

/** One line of `nomaly schedules list`. */
export interface ScheduleListing {
  id: string;
  workflowType: string;
  paused: boolean;
  nextRun: string;
}

/** Every schedule with the workflow it starts, its state and its next run. */
export async function listSchedules(client: Client): Promise<ScheduleListing[]> {
  const found: ScheduleListing[] = [];
  for await (const s of client.schedule.list()) {
    found.push({
      id: s.scheduleId,
      workflowType: s.action?.type === 'startWorkflow' ? s.action.workflowType : '-',
      paused: s.state.paused,
      nextRun: s.info.nextActionTimes[0]?.toISOString() ?? '-',
    });
  }
  return found;
}

/**
 * The backfill input for a detection schedule over a source: its model, source, period and zone
 * over `range`. Anything else (another workflow, a detection of an uploaded dataset) is refused
 * with an error that names the schedule.
 */
export function scheduleBackfillInput(
  scheduleId: string,
  action: ScheduleDescriptionAction,
  range: Pick<DetectBackfillInput, 'from' | 'to' | 'maxConcurrentWindows'>,
): DetectBackfillInput {
  if (action.type !== 'startWorkflow' || action.workflowType !== 'detectBatch') {
    throw new Error(`schedule ${scheduleId} starts ${action.workflowType ?? 'no workflow'}, not detectBatch: only a detection schedule over a source can be backfilled window by window`);
  }
  const input = (action.args?.[0] ?? {}) as DetectBatchInput;
  if (input.source === undefined) {
    throw new Error(`schedule ${scheduleId} scores the uploaded dataset ${input.datasetId ?? '(none)'}, not a source: there are no past windows to backfill`);
  }
  return {
    model: input.model,
    source: input.source,
    from: range.from,
    to: range.to,
    ...(input.period !== undefined ? { period: input.period } : {}),
    ...(input.timeZone !== undefined ? { timeZone: input.timeZone } : {}),
    ...(range.maxConcurrentWindows !== undefined ? { maxConcurrentWindows: range.maxConcurrentWindows } : {}),
    ...(input.chunkRows !== undefined ? { chunkRows: input.chunkRows } : {}),
    ...(input.maxConcurrentChunks !== undefined ? { maxConcurrentChunks: input.maxConcurrentChunks } : {}),
    // The windows a backfill scores land in the same table as the schedule's nightly runs.
    ...(input.sink !== undefined ? { sink: input.sink } : {}),
  };
}
