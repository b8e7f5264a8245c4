import { ApplicationFailure } from '@temporalio/common';
import { deliverable, failFastOnPermanent, MAX_ACTIVITY_RESULT_BYTES } from '../../../src/activities/failures';
import { DatasetFormatError } from '../../../src/data/datasetError';

describe('activity results that could not be delivered fail at once', () => {
  it('passes a result under the limit through unchanged', () => {
    const result = { id: 'ds_1', columns: Array.from({ length: 1000 }, (_, i) => `column_${i}`) };
    expect(deliverable('registerDatasetFile', result)).toBe(result);
  });

  it('refuses a result over the limit, non-retryably, with its size', () => {
    const result = { columns: Array.from({ length: 100_000 }, (_, i) => `column_${i}`) };
    let failure: unknown;
    try {
      deliverable('registerDatasetFile', result);
    } catch (err) {
      failure = err;
    }
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ nonRetryable: true, type: 'ResultTooLarge' });
    expect((failure as Error).message).toMatch(new RegExp(`^registerDatasetFile: the result is \\d+ KiB, over the ${MAX_ACTIVITY_RESULT_BYTES / 1024} KiB`));
  });
});

describe('failFastOnPermanent', () => {
  it('turns a permanent error into a non-retryable failure with its message and type', async () => {
    await expect(failFastOnPermanent(() => Promise.reject(new DatasetFormatError('line 2: bad')))).rejects.toMatchObject({
      nonRetryable: true,
      type: 'DatasetFormatError',
      message: 'line 2: bad',
    });
  });

  it('lets anything else through to be retried', async () => {
    const transient = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    await expect(failFastOnPermanent(() => Promise.reject(transient))).rejects.toBe(transient);
  });
});
