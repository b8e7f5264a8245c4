/** Task queues are part of the public contract: the UI and the temporal CLI name them. No imports: workflows use this too. */
export const TASK_QUEUES = { control: 'nomaly-control', scoring: 'nomaly-scoring' } as const;
