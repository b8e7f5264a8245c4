import type { ApplicationFailure } from '@temporalio/common';

/** The failure `work` throws; a test fails if it throws none. */
export function failureOf(work: () => unknown): ApplicationFailure {
  try {
    work();
  } catch (err) {
    return err as ApplicationFailure;
  }
  throw new Error('expected a failure');
}
