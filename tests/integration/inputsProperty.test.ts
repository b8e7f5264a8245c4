import fc from 'fast-check';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { TASK_QUEUES } from '../../src/config/taskQueues';
import { validateDetectionAlert } from '../../src/api/alertInput';
import { validateBackupInput, validateDisasterRecoveryInput, validateVerifyBackupsInput } from '../../src/api/backupInputs';
import { MAX_DATASET_NAME_CHARS, validateDetectBatchInput, validateRegisterDatasetInput, validateTrainModelInput } from '../../src/api/inputs';
import { validateMaintenanceInput } from '../../src/workflows/maintenance';
import { validateDetectBackfillInput } from '../../src/api/backfillInput';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';
import { sweepPlatform } from './platformSweep';

/**
 * Every workflow, started as the Web UI starts it (its type name and one JSON argument), with
 * generated inputs that are each invalid for a known reason: not an object, a missing or
 * unknown field, a field of the wrong type, an over-long or malformed string, a huge or
 * negative number, nested junk. Each must fail the workflow within 5 s with a non-retryable
 * InvalidInput failure (no failed workflow task, no activity), and a sweep of every bucket and
 * table before and after must find nothing left behind.
 *
 * Every case is first checked against the same validator the client runs: a case it accepts
 * is a generator bug or a validation hole, and fails the test without being started (a valid
 * backup or recovery input would really run).
 */

const CASES_PER_WORKFLOW = 30;
const WITHIN_MS = 5000;

type Defect = 'not an object' | 'missing field' | 'unknown field' | 'wrong type' | 'bad string' | 'huge number' | 'nested junk';
interface Case {
  defect: Defect;
  input: unknown;
}

type Kind = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'any';
interface WorkflowSpec {
  type: string;
  validate: (raw: unknown) => unknown;
  /** A valid input (never started itself): each case breaks it in one way. */
  valid: Record<string, unknown>;
  required: string[];
  fields: Record<string, Kind>;
  /** Strings that each field refuses (empty, over-long, malformed). */
  badStrings?: Record<string, fc.Arbitrary<string>>;
  /** null means "the default" for workflows whose whole input is optional. */
  nullIsValid?: boolean;
}

const SHA = 'a'.repeat(64);
const junkText = fc.string({ minLength: 1, maxLength: 40 });
const overLong = (min: number) => fc.string({ minLength: min, maxLength: min * 3 }).map((s) => `x${s}`.padEnd(min + 1, 'x'));
/** Never a valid identifier: a space, or longer than any limit. */
const malformed = fc.oneof(fc.constant(''), junkText.map((s) => `bad ${s}`), overLong(1000));
/** Finite (JSON has no NaN or Infinity) and outside every numeric field's range. */
const hugeNumber = fc.oneof(fc.double({ min: 1e16, max: 1e308, noNaN: true }), fc.double({ min: -1e308, max: -1, noNaN: true }), fc.constant(Number.MAX_VALUE));
const nestedJunk = fc.oneof(
  fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(fc.array(fc.jsonValue(), { maxLength: 4 }), fc.object({ maxDepth: 3 })), { minKeys: 1, maxKeys: 4 }),
  fc.array(fc.jsonValue({ maxDepth: 4 }), { minLength: 1, maxLength: 6 }),
);

/** A value of any JSON kind but `kind` (and not null: several optional fields read null as "default"). */
function wrongTypeFor(kind: Kind): fc.Arbitrary<unknown> {
  const byKind: Record<Exclude<Kind, 'any'>, fc.Arbitrary<unknown>> = {
    string: junkText,
    number: fc.integer(),
    boolean: fc.boolean(),
    object: fc.object({ maxDepth: 2 }),
    array: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  };
  return fc.oneof(...Object.entries(byKind).filter(([k]) => k !== kind).map(([, arbitrary]) => arbitrary));
}

function casesFor(spec: WorkflowSpec): fc.Arbitrary<Case> {
  const names = Object.keys(spec.fields);
  const known = new Set(names);
  const topLevel = fc.oneof(junkText, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }));
  const arbitraries: Array<fc.Arbitrary<Case>> = [
    (spec.nullIsValid ? topLevel : fc.oneof(topLevel, fc.constant(null))).map((input) => ({ defect: 'not an object', input })),
    fc
      .tuple(fc.string({ minLength: 1, maxLength: 30 }).filter((k) => !known.has(k) && k !== '__proto__'), fc.jsonValue({ maxDepth: 3 }))
      .map(([key, value]) => ({ defect: 'unknown field', input: { ...spec.valid, [key]: value } })),
    fc
      .constantFrom(...names)
      .filter((name) => spec.fields[name] !== 'any')
      .chain((name) => wrongTypeFor(spec.fields[name]).map((value) => ({ defect: 'wrong type' as Defect, input: { ...spec.valid, [name]: value } }))),
  ];
  if (spec.required.length > 0) {
    arbitraries.push(
      fc.constantFrom(...spec.required).map((name) => {
        const { [name]: _dropped, ...rest } = spec.valid;
        return { defect: 'missing field', input: rest };
      }),
      // A required field given as null is as missing as an absent one.
      fc.constantFrom(...spec.required).map((name) => ({ defect: 'missing field', input: { ...spec.valid, [name]: null } })),
    );
  }
  const badStrings = Object.entries(spec.badStrings ?? {});
  if (badStrings.length > 0) {
    arbitraries.push(
      fc.constantFrom(...badStrings).chain(([name, values]) => values.map((value) => ({ defect: 'bad string' as Defect, input: { ...spec.valid, [name]: value } }))),
    );
  }
  const numbers = names.filter((n) => spec.fields[n] === 'number');
  if (numbers.length > 0) {
    arbitraries.push(fc.constantFrom(...numbers).chain((name) => hugeNumber.map((value) => ({ defect: 'huge number' as Defect, input: { ...spec.valid, [name]: value } }))));
  }
  const objects = names.filter((n) => spec.fields[n] === 'object');
  if (objects.length > 0) {
    arbitraries.push(fc.constantFrom(...objects).chain((name) => nestedJunk.map((value) => ({ defect: 'nested junk' as Defect, input: { ...spec.valid, [name]: value } }))));
  }
  // What the server receives is JSON: compare the local check with exactly that.
  return fc.oneof(...arbitraries).map((c) => ({ ...c, input: JSON.parse(JSON.stringify(c.input)) as unknown }));
}

const alert = {
  jobId: 'detect-x',
  model: 'cardio@1',
  datasetId: 'ds_0123456789abcdef',
  rows: 100,
  anomalies: 20,
  anomalyRate: 0.2,
  alertAnomalyRateAbove: 0.1,
  report: 'nomaly-results/jobs/detect-x/report.html',
};

const SPECS: WorkflowSpec[] = [
  {
    type: 'registerDataset',
    validate: validateRegisterDatasetInput,
    valid: { name: 'prop.csv', objectKey: `sha256/aa/${SHA}.csv`, sha256: SHA, format: 'csv' },
    required: ['name', 'objectKey', 'sha256'],
    fields: { name: 'string', objectKey: 'string', sha256: 'string', format: 'string' },
    badStrings: { name: fc.oneof(fc.constant(''), overLong(MAX_DATASET_NAME_CHARS)), objectKey: malformed, sha256: malformed, format: malformed },
  },
  {
    type: 'trainModel',
    validate: validateTrainModelInput,
    valid: {
      datasetId: 'ds_0123456789abcdef', modelName: 'prop-model', algorithm: 'isolation-forest', params: { nTrees: 10 }, featureColumns: ['f0'], exclude: ['f1'],
      schema: { f0: 'category' }, timestamps: 'cyclic', timeZone: 'UTC', contamination: 0.1, standardize: 'none', missing: 'median', seed: 1, maxTrainRows: 1000,
    },
    required: ['datasetId', 'modelName'],
    fields: {
      datasetId: 'string', modelName: 'string', algorithm: 'string', params: 'object', featureColumns: 'array', exclude: 'array', schema: 'object', timestamps: 'string', timeZone: 'string',
      contamination: 'number', standardize: 'string', missing: 'string', seed: 'number', maxTrainRows: 'number',
    },
    badStrings: { datasetId: malformed, modelName: fc.oneof(malformed, overLong(100).map((s) => s.replace(/[^a-z]/gi, 'm'))), algorithm: malformed, standardize: malformed, missing: malformed, timestamps: malformed, timeZone: malformed },
  },
  {
    type: 'detectBatch',
    validate: validateDetectBatchInput,
    valid: { model: 'prop-model@1', datasetId: 'ds_0123456789abcdef', chunkRows: 1000, maxConcurrentChunks: 2, alertAnomalyRateAbove: 0.5, chunksPerRun: 10, exportCsv: false },
    required: ['model', 'datasetId'],
    // A continuation of any kind is refused in a run the job did not continue into.
    fields: { model: 'string', datasetId: 'string', chunkRows: 'number', maxConcurrentChunks: 'number', alertAnomalyRateAbove: 'number', chunksPerRun: 'number', exportCsv: 'boolean', continuation: 'object' },
    badStrings: { model: fc.oneof(malformed, overLong(100).map((s) => s.replace(/[^a-z]/gi, 'm'))), datasetId: malformed },
  },
  {
    type: 'detectBackfill',
    validate: validateDetectBackfillInput,
    valid: {
      model: 'prop-model@1',
      source: { kind: 'objects', connection: 'lake', bucket: 'prop-lake', prefix: 'dt={date}/', format: 'parquet' },
      from: '2026-11-01',
      to: '2026-11-03',
      period: 'day',
      timeZone: 'UTC',
      maxConcurrentWindows: 2,
      chunkRows: 1000,
      maxConcurrentChunks: 2,
    },
    required: ['model', 'source', 'from', 'to'],
    fields: { model: 'string', source: 'object', from: 'string', to: 'string', period: 'string', timeZone: 'string', maxConcurrentWindows: 'number', chunkRows: 'number', maxConcurrentChunks: 'number' },
    badStrings: { model: malformed, from: malformed, to: malformed, period: malformed, timeZone: malformed },
  },
  {
    type: 'backup',
    validate: validateBackupInput,
    valid: {},
    required: [],
    fields: { scope: 'string', retention: 'boolean', retentionDays: 'number', modelBackupsKeep: 'number', options: 'object' },
    badStrings: { scope: malformed },
    nullIsValid: true,
  },
  {
    type: 'disasterRecovery',
    validate: validateDisasterRecoveryInput,
    valid: { scope: 'database', backupId: 'bk-20261122-005757-01a200c2' },
    required: ['scope'],
    fields: { scope: 'string', backupId: 'string', options: 'object' },
    badStrings: { scope: malformed, backupId: malformed },
  },
  {
    type: 'verifyBackups',
    validate: validateVerifyBackupsInput,
    valid: {},
    required: [],
    fields: { backupId: 'string', newest: 'number', options: 'object' },
    badStrings: { backupId: malformed },
    nullIsValid: true,
  },
  {
    type: 'maintenance',
    validate: validateMaintenanceInput,
    valid: {},
    required: [],
    fields: { retentionDays: 'number' },
    nullIsValid: true,
  },
  {
    type: 'sendAlert',
    validate: validateDetectionAlert,
    valid: alert,
    required: Object.keys(alert),
    fields: { jobId: 'string', model: 'string', datasetId: 'string', rows: 'number', anomalies: 'number', anomalyRate: 'number', alertAnomalyRateAbove: 'number', report: 'string' },
    badStrings: { jobId: fc.oneof(fc.constant(''), overLong(1000)), model: malformed, datasetId: malformed, report: malformed },
  },
];

describe('every workflow refuses malformed input at once and leaves nothing behind', () => {
  let p: TestPlatform;
  const counts: Record<string, Partial<Record<Defect, number>>> = {};
  beforeAll(async () => {
    p = await startTestPlatform(['control']);
  });
  afterAll(async () => {
    // The counts a report can quote: cases started per workflow and defect.
    console.log(`inputsProperty cases:\n${Object.entries(counts).map(([type, byDefect]) => `  ${type}: ${JSON.stringify(byDefect)}`).join('\n')}`);
    await p?.stop();
  });

  it.each(SPECS.map((spec) => [spec.type, spec] as const))('%s', async (type, spec) => {
    counts[type] = {};
    const before = await sweepPlatform(p);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(casesFor(spec), async ({ defect, input }) => {
        // Refused by the client's own check first: an accepted case is never started.
        expect(() => spec.validate(input)).toThrow(ApplicationFailure);
        const started = Date.now();
        const handle = await p.client.temporal.workflow.start(type, {
          taskQueue: TASK_QUEUES.control,
          workflowId: `prop-${type}-${run++}-${started.toString(36)}`,
          args: [input],
        });
        const outcome = await Promise.race([
          handle.result().then(() => 'completed', (err: unknown) => err),
          new Promise((resolve) => setTimeout(() => resolve(`still running after ${WITHIN_MS} ms`), WITHIN_MS)),
        ]);
        if (typeof outcome === 'string') await handle.terminate('inputsProperty: not refused in time').catch(() => undefined);
        expect({ defect, input, outcome: typeof outcome === 'string' ? outcome : 'failed' }).toEqual({ defect, input, outcome: 'failed' });
        expect(Date.now() - started).toBeLessThan(WITHIN_MS);
        expect(outcome).toBeInstanceOf(WorkflowFailedError);
        const failure = (outcome as WorkflowFailedError).cause as ApplicationFailure;
        expect(failure).toBeInstanceOf(ApplicationFailure);
        expect({ nonRetryable: failure.nonRetryable, type: failure.type }).toEqual({ nonRetryable: true, type: 'InvalidInput' });
        expect(failure.message.startsWith(`${type} input: "`)).toBe(true);
        const events = ((await handle.fetchHistory()).events ?? []).map((e) => String(e.eventType));
        expect(events.filter((e) => e === 'EVENT_TYPE_WORKFLOW_TASK_FAILED' || e === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED' || e === 'EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED')).toEqual([]);
        counts[type][defect] = (counts[type][defect] ?? 0) + 1;
      }),
      { numRuns: CASES_PER_WORKFLOW, endOnFailure: true },
    );
    expect(await sweepPlatform(p)).toEqual(before);
  });
});
