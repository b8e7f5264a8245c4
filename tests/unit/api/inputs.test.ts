import { ApplicationFailure } from '@temporalio/common';
import { supportedAlgorithms } from '../../../src/scoring/registry';
import { validateDetectionAlert } from '../../../src/api/alertInput';
import { validateBackupInput, validateDisasterRecoveryInput } from '../../../src/api/backupInputs';
import { ALGORITHMS, validateDetectBatchInput, validateRegisterDatasetInput, validateTrainModelInput } from '../../../src/api/inputs';
import { validateMaintenanceInput } from '../../../src/workflows/maintenance';
import { failureOf } from '../../support/failureOf';


describe('workflow input validation', () => {
  it('fills defaults and keeps only given training parameters', () => {
    expect(validateTrainModelInput({ datasetId: 'ds_0123456789abcdef', modelName: 'm', params: { seed: 4 }, contamination: 0.2 })).toEqual({
      datasetId: 'ds_0123456789abcdef',
      modelName: 'm',
      algorithm: 'isolation-forest',
      featureColumns: undefined,
      params: { seed: 4, contamination: 0.2 },
      standardize: 'none',
      seed: 0,
      maxTrainRows: undefined,
      source: null,
      threshold: null,
    });
    expect(validateDetectBatchInput({ model: 'm@3', datasetId: 'ds_0123456789abcdef' })).toEqual({
      model: 'm@3',
      datasetId: 'ds_0123456789abcdef',
      chunkRows: null, // chosen from the dataset's rows once they are known
      maxConcurrentChunks: 4,
      alertAnomalyRateAbove: null,
      chunksPerRun: 500,
      exportCsv: false,
      continuation: undefined,
      source: null,
      window: null,
      period: 'day',
      timeZone: 'UTC',
      threshold: null,
      explain: null,
      sink: null,
    });
  });

  it('a job over a source: exactly one of datasetId and source, and window fields only with a source', () => {
    const source = { kind: 'objects', connection: 'lake', bucket: 'events', prefix: 'dt={date}/', format: 'parquet' };
    expect(validateDetectBatchInput({ model: 'm', source, window: { start: '2026-12-03', end: '2026-12-04' }, timeZone: 'Europe/Paris', period: 'hour' })).toMatchObject({
      datasetId: null,
      source,
      window: { start: '2026-12-03T00:00:00.000Z', end: '2026-12-04T00:00:00.000Z' },
      period: 'hour',
      timeZone: 'Europe/Paris',
    });
    const refusal = (input: object) => {
      try {
        validateDetectBatchInput(input);
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(refusal({ model: 'm' })).toContain('"datasetId" is required (an uploaded dataset), unless "source"');
    expect(refusal({ model: 'm', datasetId: 'ds_0123456789abcdef', source })).toContain('"source" and "datasetId" go one at a time');
    expect(refusal({ model: 'm', datasetId: 'ds_0123456789abcdef', window: { start: '2026-12-03', end: '2026-12-04' } })).toContain('"window" applies to a job over a source only');
    expect(refusal({ model: 'm', source, period: 'week' })).toContain('"period" "week" is not one of hour, day');
    expect(refusal({ model: 'm', source, timeZone: 'Mars/Olympus' })).toContain('timeZone');
    expect(refusal({ model: 'm', source: { ...source, password: 'pw-123' } })).not.toContain('pw-123');
  });

  it.each([
    [() => validateTrainModelInput(null), '"(input)" must be one JSON object'],
    [() => validateTrainModelInput([]), '"(input)" must be one JSON object'],
    [() => validateTrainModelInput({ datasetId: 'ds_0123456789abcdef', modelName: 'm', nTrees: 10 }), '"nTrees" is not a known field'],
    [() => validateTrainModelInput({ datasetId: 'ds_0123456789abcdef', modelName: 'm', params: [1] }), '"params" must be a JSON object'],
    [() => validateTrainModelInput({ datasetId: 'ds_0123456789abcdef', modelName: 'm', standardize: 'minmax' }), '"standardize" "minmax" is not one of none, zscore, robust'],
    [() => validateTrainModelInput({ datasetId: 'ds_0123456789abcdef', modelName: 'm', missing: 'mean' }), '"missing" "mean" is not one of median, zero, reject'],
    [() => validateTrainModelInput({ datasetId: 'ds_0123456789abcdef', modelName: 'm', contamination: 0.9 }), '"contamination" must be a number from 0.0001 to 0.5, got 0.9'],
    [() => validateTrainModelInput({ datasetId: 'ds_0123456789abcdef', modelName: 'm', algorithm: 'svm' }), '"algorithm" "svm" is not a known algorithm'],
    [() => validateTrainModelInput({ datasetId: 'ds_0123456789abcdef', modelName: '../x' }), '"modelName" "../x" is not valid'],
    [() => validateTrainModelInput({ datasetId: 'ds_0123456789abcdef', modelName: 'm', featureColumns: [] }), '"featureColumns" must be a non-empty list'],
    [() => validateDetectBatchInput({ model: 'm@0', datasetId: 'ds_0123456789abcdef' }), '"model" "m@0" is not valid'],
    [() => validateDetectBatchInput({ model: 'm', datasetId: 'dataset-1' }), '"datasetId" "dataset-1" is not valid'],
    [() => validateDetectBatchInput({ model: 'm', datasetId: 'ds_0123456789abcdef', maxConcurrentChunks: 0 }), '"maxConcurrentChunks" must be an integer from 1 to 100'],
    [() => validateDetectBatchInput({ model: 'm', datasetId: 'ds_0123456789abcdef', alertAnomalyRateAbove: 2 }), '"alertAnomalyRateAbove" must be a number from 0 to 1, got 2'],
    [() => validateDetectBatchInput({ model: 'm', datasetId: 'ds_0123456789abcdef', exportCsv: 'yes' }), '"exportCsv" must be true or false, got "yes"'],
    [() => validateRegisterDatasetInput({ name: 'x', objectKey: '../etc/passwd', sha256: 'a'.repeat(64) }), '"objectKey" "../etc/passwd" is refused: a dataset\'s key must be "sha256/aa/'],
    [() => validateRegisterDatasetInput({ name: 'x', objectKey: 'k.csv', sha256: 'abc' }), '"sha256" "abc" is not valid'],
  ])('rejects bad input non-retryably, naming the field (%#)', (work, message) => {
    const failure = failureOf(work);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('InvalidInput');
    expect(failure.message).toContain(message);
  });
});

describe('detector options in a training input', () => {
  const base = { datasetId: 'ds_0123456789abcdef', modelName: 'm' };

  it.each([
    [{ params: { nTrees: -5 } }, 'params.nTrees', 'isolation-forest: option "nTrees" must be an integer in [1, 10000]; got -5'],
    [{ params: { nTress: 200 } }, 'params.nTress', 'unknown option "nTress"'],
    [{ algorithm: 'ensemble', params: { members: [] } }, 'params.members', 'option "members" must be an array of 1 to 32 detectors'],
    [{ algorithm: 'ensemble' }, 'params.members', 'got undefined'],
    [{ algorithm: 'ensemble', params: { members: [{ algorithm: 'pca' }, { algorithm: 'isolation-forest', options: { nTrees: 0 } }] } }, 'params.members[1].options.nTrees', 'members[1] ("isolation-forest")'],
    [{ algorithm: 'ensemble', params: { members: [{ algorithm: 'svm' }] } }, 'params.members[0].algorithm', 'unknown algorithm "svm"'],
    [{ algorithm: 'knn', params: { nNeighbors: 50, maxTrainRows: 50 } }, 'params.nNeighbors', 'must be less than option "maxTrainRows"'],
    [{ algorithm: 'hbos', standardize: 'zscore', params: { nBins: 'ten' } }, 'params.nBins', 'option "nBins" must be'],
    [{ algorithm: 'pca', contamination: 0.2, params: { weighted: 2 } }, 'params.weighted', 'option "weighted" must be an integer in [0, 1]'],
  ])('refuses %j before anything is reserved, naming the option', (extra, field, message) => {
    const failure = failureOf(() => validateTrainModelInput({ ...base, ...extra }));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('InvalidInput');
    expect(failure.message).toContain(`"${field}" is refused`);
    expect(failure.message).toContain(message);
  });

  it('accepts good options, nested ones included', () => {
    expect(validateTrainModelInput({ ...base, params: { nTrees: 200, sampleSize: 128 } }).params).toEqual({ nTrees: 200, sampleSize: 128 });
    const ensemble = { members: [{ algorithm: 'pca', options: { nComponents: 2 } }, { algorithm: 'knn', options: { nNeighbors: 5 } }], normalization: 'rank' };
    expect(validateTrainModelInput({ ...base, algorithm: 'ensemble', params: ensemble }).params).toEqual(ensemble);
    expect(validateTrainModelInput({ ...base, algorithm: 'lof', seed: 3 }).params).toEqual({ seed: 3 });
  });

  it('skips the detector checks only when told to (runs recorded before the workflow made them)', () => {
    expect(validateTrainModelInput({ ...base, params: { nTrees: -5 } }, { detectorOptions: false }).params).toEqual({ nTrees: -5 });
  });
});

describe('the example a refused non-object input gets', () => {
  // Each workflow's example names its own fields, and only trainModel's names a model to train.
  it.each([
    ['registerDataset', validateRegisterDatasetInput, ['"name"', '"objectKey"', '"sha256"']],
    ['trainModel', validateTrainModelInput, ['"datasetId"', '"modelName"']],
    ['detectBatch', validateDetectBatchInput, ['"model"', '"datasetId"']],
    ['sendAlert', validateDetectionAlert, ['"jobId"', '"anomalyRate"', '"report"']],
    ['backup', validateBackupInput, ['"scope"']],
    ['disasterRecovery', validateDisasterRecoveryInput, ['"scope"', '"backupId"']],
    ['maintenance', validateMaintenanceInput, ['"retentionDays"']],
  ] as Array<[string, (raw: unknown) => unknown, string[]]>)('%s suggests its own input', (workflow, validate, fields) => {
    const failure = failureOf(() => validate([1, 2]));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`${workflow} input: "(input)" must be one JSON object, e.g. {`);
    for (const field of fields) expect(failure.message).toContain(field);
    if (workflow !== 'trainModel') expect(failure.message).not.toContain('"modelName"');
  });
});

describe('algorithm list', () => {
  it('offers every detector of the scoring core (the pipeline is the standardize field, the imputer the missing field, the encoder the column types)', () => {
    expect([...ALGORITHMS].sort()).toEqual(supportedAlgorithms().filter((a) => a !== 'pipeline' && a !== 'impute' && a !== 'encode').sort());
  });
});

describe('options nested past any sense', () => {
  it('are refused as input, not thrown as a plain error that would fail the workflow task', () => {
    let params: Record<string, unknown> = { members: [{ algorithm: 'pca' }] };
    for (let depth = 0; depth < 20_000; depth++) params = { members: [{ algorithm: 'ensemble', options: params }] };
    const failure = failureOf(() => validateTrainModelInput({ datasetId: 'ds_0123456789abcdef', modelName: 'm', algorithm: 'ensemble', params }));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/^trainModel input: "params/);
  });
});
