import { SEARCH_ATTRIBUTES } from '../api/searchAttributes';

/** The workflows a person starts (all but detectBatch's sendAlert child); `nomaly jobs --type` accepts these. */
export const JOB_TYPES = ['trainModel', 'detectBatch', 'backup', 'disasterRecovery', 'maintenance', 'registerDataset', 'verifyBackups', 'detectBackfill'] as const;

export interface JobFilter {
  type?: string;
  model?: string;
  dataset?: string;
  /** Our own job status search attribute: running, completed, failed, cancelled, awaiting-operator, … */
  status?: string;
}

/** Values go into a visibility query between quotes: letters, digits and a few separators only. */
const SAFE_VALUE = /^[A-Za-z0-9_.@:-]{1,200}$/;

/**
 * The Temporal visibility query for a job filter (the same text works in the Web UI's search
 * box and in `temporal workflow list --query`). Refuses a value it could not quote safely instead of building a query around it.
 */
export function jobListQuery(filter: JobFilter): string {
  const clauses: string[] = [];
  const add = (field: string, value: string | undefined, name: string): void => {
    if (value === undefined) return;
    if (!SAFE_VALUE.test(value)) {
      throw new Error(`--${name} ${JSON.stringify(value)}: use letters, digits and _ . @ : - only`);
    }
    clauses.push(`${field} = "${value}"`);
  };
  if (filter.type !== undefined && !(JOB_TYPES as readonly string[]).includes(filter.type)) {
    throw new Error(`--type ${JSON.stringify(filter.type)} is not one of ${JOB_TYPES.join(', ')}`);
  }
  add('WorkflowType', filter.type, 'type');
  add(SEARCH_ATTRIBUTES.model.name, filter.model?.split('@')[0], 'model');
  add(SEARCH_ATTRIBUTES.dataset.name, filter.dataset, 'dataset');
  add(SEARCH_ATTRIBUTES.jobStatus.name, filter.status, 'status');
  if (filter.type === undefined) clauses.push(`WorkflowType IN (${JOB_TYPES.map((t) => `"${t}"`).join(', ')})`);
  // No ORDER BY: the dev server's SQL visibility refuses it; its own order is running jobs
  // first, then the most recently closed.
  return clauses.join(' AND ');
}
