import { NativeConnection, Worker, type ActivityInterceptorsFactory, type WorkerOptions } from '@temporalio/worker';
import { createControlActivities, createScoringActivities, type ActivityDeps } from '../activities';
import { withoutStatementText } from '../activities/failures';
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
 * Every activity, whatever it calls: a PostgreSQL error leaves as a failure naming its SQLSTATE
 * (non-retryable for data exceptions and constraint violations), never quoting the statement
 * with its values, which can exceed Temporal's failure size and hold users' data.
 */
const databaseErrorsTranslated: ActivityInterceptorsFactory = () => ({
  inbound: {
    async execute(input, next) {
      try {
        return await next(input);
      } catch (err) {
        throw withoutStatementText(err);
      }
    },
  },
});

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
    interceptors: { activity: [databaseErrorsTranslated] },
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
