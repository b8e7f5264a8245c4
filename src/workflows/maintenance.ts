import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { MaintenanceActivities, RemovedModel } from '../activities/maintenanceActivities';
import { TASK_QUEUES } from '../config/taskQueues';
import { invalidInput } from '../api/inputs';

/** A removal is per model and idempotent; after ten tries the failure goes to the workflow, and the next weekly run starts over. */
const steps = proxyActivities<MaintenanceActivities>({
  taskQueue: TASK_QUEUES.control,
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
});

export interface MaintenanceInput {
  /** Remove models created more than this many days ago (default 30) that are neither active nor used by a job younger than that. */
  retentionDays?: number;
}

export interface MaintenanceResult {
  retentionDays: number;
  cutoff: string;
  removedModels: RemovedModel[];
}

export const MAINTENANCE_DEFAULTS = { retentionDays: 30 } as const;

export function validateMaintenanceInput(raw: unknown): Required<MaintenanceInput> {
  const w = 'maintenance';
  const input = (raw ?? {}) as Record<string, unknown>;
  if (typeof input !== 'object' || Array.isArray(input)) invalidInput(w, '(input)', 'must be one JSON object, e.g. {"retentionDays": 30}');
  for (const key of Object.keys(input)) if (key !== 'retentionDays') invalidInput(w, key, 'is not a known field (known: retentionDays)');
  const days = input.retentionDays ?? MAINTENANCE_DEFAULTS.retentionDays;
  if (typeof days !== 'number' || !Number.isFinite(days) || days < 0 || days > 36500) {
    invalidInput(w, 'retentionDays', `must be a number of days from 0 to 36500, got ${JSON.stringify(days)}`);
  }
  return { retentionDays: days };
}

/** Removes old inactive models, artifacts and rows together, and reports what it removed. */
export async function maintenance(rawInput: MaintenanceInput = {}): Promise<MaintenanceResult> {
  const input = validateMaintenanceInput(rawInput);
  const now = new Date(workflowInfo().startTime).toISOString();
  const { cutoff, removed } = await steps.removeExpiredModels({ retentionDays: input.retentionDays, now });
  return { retentionDays: input.retentionDays, cutoff, removedModels: removed };
}
