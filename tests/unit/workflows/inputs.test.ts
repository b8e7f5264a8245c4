import { ApplicationFailure } from '@temporalio/common';
import { chunkRange, planChunks } from '../../../src/workflows/chunkPlan';
import { supportedAlgorithms } from '../../../src/scoring/registry';
import { ALGORITHMS, defaultChunkRows, validateDetectBatchInput, validateRegisterDatasetInput, validateTrainModelInput } from '../../../src/workflows/inputs';

function failureOf(work: () => unknown): ApplicationFailure {
  try {
    work();
  } catch (err) {
    return err as ApplicationFailure;
  }
  throw new Error('expected a failure');
}

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
    });
  });

  it.each([
    [() => validateTrainModelInput(null), '"(input)" must be one JSON object'],
    [() => validateTrainModelInput([]), '"(input)" must be one JSON object'],
    [() => validateTrainModelInput({ datasetId: 'ds_0123456789abcdef', modelName: 'm', nTrees: 10 }), '"nTrees" is not a known field'],
    [() => validateTrainModelInput({ datasetId: 'ds_0123456789abcdef', modelName: 'm', params: [1] }), '"params" must be a JSON object'],
    [() => validateTrainModelInput({ datasetId: 'ds_0123456789abcdef', modelName: 'm', standardize: 'minmax' }), '"standardize" "minmax" is not one of none, zscore, robust'],
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

describe('algorithm list', () => {
  it('offers every detector of the scoring core (the pipeline is the standardize field)', () => {
    expect([...ALGORITHMS].sort()).toEqual(supportedAlgorithms().filter((a) => a !== 'pipeline').sort());
  });
});

describe('chunk planning', () => {
  it('covers every row exactly once with contiguous ranges', () => {
    const plan = planChunks(1831, 400, 1000);
    expect(plan).toEqual({ chunkRows: 400, chunks: 5 });
    const ranges = Array.from({ length: plan.chunks }, (_, i) => chunkRange(plan, 1831, i));
    expect(ranges[0]).toEqual({ rowStart: 0, rowEnd: 400 });
    expect(ranges[4]).toEqual({ rowStart: 1600, rowEnd: 1831 });
    expect(ranges.reduce((n, r) => n + r.rowEnd - r.rowStart, 0)).toBe(1831);
  });

  it('picks about 50 chunks of 50,000 to 200,000 rows when the input names no size', () => {
    expect(defaultChunkRows(1831)).toBe(50_000);
    expect(defaultChunkRows(1_000_000)).toBe(50_000);
    expect(defaultChunkRows(5_000_000)).toBe(100_000);
    expect(defaultChunkRows(5_000_001)).toBe(100_001);
    expect(defaultChunkRows(10_000_000)).toBe(200_000);
    expect(defaultChunkRows(100_000_000)).toBe(200_000);
  });

  it('grows the chunk size so a job never exceeds the chunk cap', () => {
    expect(planChunks(10_000_000, 1000, 1000)).toEqual({ chunkRows: 10_000, chunks: 1000 });
    expect(planChunks(10_000_001, 1000, 1000)).toEqual({ chunkRows: 10_001, chunks: 1000 });
    expect(planChunks(0, 1000, 1000).chunks).toBe(0);
  });
});
