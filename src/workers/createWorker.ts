import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createControlActivities, createScoringActivities, type ActivityDeps } from '../activities';
import { TASK_QUEUES } from '../config/taskQueues';

export type WorkerKind = 'control' | 'scoring';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** A prebuilt workflow bundle (scripts build one); without it the worker bundles src/workflows at start. */
  workflowBundlePath?: string;
  identity?: string;
}

/**
 * The control worker runs every workflow plus the I/O activities; the scoring worker runs the
 * CPU activities only. Both stop gracefully: a stopping worker gets time to finish its activity.
 */
export async function createWorker(kind: WorkerKind, deps: ActivityDeps, options: CreateWorkerOptions): Promise<Worker> {
  const common: Partial<WorkerOptions> = {
    connection: options.connection,
    namespace: options.namespace,
    ...(options.identity ? { identity: options.identity } : {}),
    shutdownGraceTime: '30 seconds',
  };
  if (kind === 'control') {
    return Worker.create({
      ...common,
      taskQueue: TASK_QUEUES.control,
      activities: createControlActivities(deps),
      ...(options.workflowBundlePath
        ? { workflowBundle: { codePath: options.workflowBundlePath } }
        : { workflowsPath: require.resolve('../workflows') }),
    });
  }
  return Worker.create({
    ...common,
    taskQueue: TASK_QUEUES.scoring,
    activities: createScoringActivities(deps),
    maxConcurrentActivityTaskExecutions: deps.config.scoring.maxConcurrentActivities,
  });
}
