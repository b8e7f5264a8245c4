import type { Logger } from 'pino';
import type { NomalyConfig } from '../config';
import type { Orm } from '../db/orm';
import type { ObjectStore } from '../storage/objectStore';
import type { ScoringMetrics } from '../observability/metrics';

/** What activities are built from; the worker creates these once per process. */
export interface ActivityDeps {
  config: NomalyConfig;
  orm: Orm;
  store: ObjectStore;
  logger: Logger;
  metrics: ScoringMetrics;
}
