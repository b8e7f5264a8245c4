import { ApplicationFailure } from '@temporalio/common';
import { validateDetectBatchInput, type DetectContinuation } from '../../../src/api/inputs';
import { failureOf } from '../../support/failureOf';

const JOB = 'detect-cardio-ds_0123456789abcdef-abc';
const SHA = 'a'.repeat(64);

/** What a run hands to the next when it continues as new (detectBatch.ts). */
function continuation(): DetectContinuation {
  return {
    plan: {
      jobId: JOB,
      modelId: 7,
      modelName: 'cardio',
      modelVersion: 2,
      modelArtifactKey: 'models/cardio/2.nmod',
      modelSha256: SHA,
      datasetId: 'ds_0123456789abcdef',
      datasetKey: `sha256/aa/${SHA}.csv`,
      datasetSha256: SHA,
      featureColumns: ['a', 'b'],
      idColumn: null,
      format: 'csv',
      rows: 1000,
    },
    chunkPlan: { chunkRows: 400, chunks: 3 },
    layout: { headerEnd: 4, dataRows: 1000, chunkStarts: [4, 1000, 2000, 2500], index: { key: `csv-index/${SHA}`, sha256: SHA } },
    nextChunk: 2,
    chunksDone: 2,
    rowsScored: 800,
    anomaliesSoFar: 12,
    scoringStartedAt: 1_700_000_000_000,
  };
}

/** A continuation of a run that planned in the planning activity: a chunk list instead of chunkPlan and layout. */
function listContinuation(): DetectContinuation {
  const { chunkPlan: _plan, layout: _layout, ...rest } = continuation();
  return { ...rest, chunkList: { chunks: 3, rowBounds: [0, 400, 800, 1000], bounds: [4, 1000, 2000, 2500], shared: { headerEnd: 4, index: { key: `csv-index/${SHA}`, sha256: SHA } } } };
}

const input = (c: unknown) => ({ model: 'cardio', datasetId: 'ds_0123456789abcdef', continuation: c });

describe('a detectBatch continuation', () => {
  it.each([[{}], ['x'], [continuation()]])('is refused in any run the job did not continue into (%#)', (c) => {
    const failure = failureOf(() => validateDetectBatchInput(input(c)));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe('detectBatch input: "continuation" is set by detectBatch itself when a long job continues as new; leave it out');
  });

  it('is not offered as a known field to a person who typed an unknown one', () => {
    const failure = failureOf(() => validateDetectBatchInput({ model: 'cardio', datasetId: 'ds_0123456789abcdef', foo: 1 }));
    expect(failure.message).toMatch(/^detectBatch input: "foo" is not a known field \(known: model, datasetId, .*exportCsv, threshold, explain, sink\)$/);
    expect(failure.message).not.toContain('continuation');
  });

  it("is taken in the job's own continued run", () => {
    expect(validateDetectBatchInput(input(continuation()), { continuedJobId: JOB }).continuation).toEqual(continuation());
  });

  const broken: Array<[string, (c: Record<string, any>) => unknown, string]> = [
    ['empty', () => ({}), '"continuation.plan" is missing'],
    ['a string', () => 'x', '"continuation" must be an object'],
    ['null', () => null, '"continuation" must be an object'],
    ['no chunk plan', (c) => ({ ...c, chunkPlan: undefined }), '"continuation.chunkList" is missing'],
    ['another job', (c) => ({ ...c, plan: { ...c.plan, jobId: 'other' } }), `"continuation.plan.jobId" must be this job's id`],
    ['an extra field', (c) => ({ ...c, chunks: 3 }), '"continuation" has an unknown field "chunks"'],
    ['rows as text', (c) => ({ ...c, plan: { ...c.plan, rows: '1000' } }), '"continuation.plan.rows" must be an integer'],
    ['a cursor past the end', (c) => ({ ...c, nextChunk: 4 }), '"continuation.nextChunk" must be an integer from 0 to 3'],
    ['chunks that do not cover the rows', (c) => ({ ...c, chunkPlan: { chunkRows: 400, chunks: 2 } }), '"continuation.chunkPlan.chunks" must be 3'],
    ['too few chunk starts', (c) => ({ ...c, layout: { ...c.layout, chunkStarts: [4, 1000] } }), '"continuation.layout.chunkStarts" must list 4 byte offsets'],
    ['chunk starts going back', (c) => ({ ...c, layout: { ...c.layout, chunkStarts: [4, 1000, 900, 2500] } }), '"continuation.layout.chunkStarts[2]" must be an integer from 1000'],
    ['no feature columns', (c) => ({ ...c, plan: { ...c.plan, featureColumns: [] } }), '"continuation.plan.featureColumns" must be a non-empty list'],
    ['a bad digest', (c) => ({ ...c, plan: { ...c.plan, modelSha256: 'zz' } }), '"continuation.plan.modelSha256" is not valid'],
    ['more anomalies than rows', (c) => ({ ...c, anomaliesSoFar: 801 }), '"continuation.anomaliesSoFar" must be an integer from 0 to 800'],
  ];
  it.each(broken)('that is malformed (%s) fails the run non-retryably, naming the field', (_, mutate, message) => {
    const failure = failureOf(() => validateDetectBatchInput(input(mutate(continuation() as unknown as Record<string, unknown>)), { continuedJobId: JOB }));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('InvalidInput');
    expect(failure.message).toContain(message);
  });

  it("takes a chunk list, the shape planning returns, in the job's own continued run", () => {
    expect(validateDetectBatchInput(input(listContinuation()), { continuedJobId: JOB }).continuation).toEqual(listContinuation());
  });

  const brokenLists: Array<[string, (c: Record<string, any>) => unknown, string]> = [
    ['a list beside a chunk plan', (c) => ({ ...c, chunkPlan: { chunkRows: 400, chunks: 3 } }), '"continuation.chunkList" comes without chunkPlan and layout'],
    ['too few row bounds', (c) => ({ ...c, chunkList: { ...c.chunkList, rowBounds: [0, 400, 1000] } }), '"continuation.chunkList.rowBounds" must list 4 row numbers'],
    ['rows that do not end at the dataset\'s', (c) => ({ ...c, chunkList: { ...c.chunkList, rowBounds: [0, 400, 800, 900] } }), '"continuation.chunkList.rowBounds[3]" must be the dataset\'s 1000 rows'],
    ['an empty chunk', (c) => ({ ...c, chunkList: { ...c.chunkList, rowBounds: [0, 400, 400, 1000] } }), '"continuation.chunkList.rowBounds[2]" must be an integer from 401'],
    ['bounds going back', (c) => ({ ...c, chunkList: { ...c.chunkList, bounds: [4, 1000, 900, 2500] } }), '"continuation.chunkList.bounds[2]" must be an integer from 1000'],
    ['an unknown shared field', (c) => ({ ...c, chunkList: { ...c.chunkList, shared: { x: 1 } } }), '"continuation.chunkList.shared" has an unknown field "x"'],
    ['more chunks than any job has', (c) => ({ ...c, chunkList: { ...c.chunkList, chunks: 20_001 } }), '"continuation.chunkList.chunks" must be an integer from 0 to 20000'],
  ];
  it.each(brokenLists)('with a malformed chunk list (%s) fails the run non-retryably, naming the field', (_, mutate, message) => {
    const failure = failureOf(() => validateDetectBatchInput(input(mutate(listContinuation() as unknown as Record<string, unknown>)), { continuedJobId: JOB }));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(message);
  });
});
