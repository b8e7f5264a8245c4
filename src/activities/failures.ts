import { ApplicationFailure } from '@temporalio/common';
import { CsvIndexError } from '../data/csvIndex';
import { DatasetFormatError } from '../data/datasetError';
import { ModelCodecError } from '../scoring/codec';
import { DetectorInputError, DetectorOptionError } from '../scoring/detector';
import { ChecksumMismatchError, CorruptRangeError, ObjectMissingError } from '../storage/objectStore';

/** Errors no retry can fix: bad data, a corrupt file, an invalid option. Everything else retries. */
const PERMANENT: Array<new (...args: never[]) => Error> = [
  DatasetFormatError,
  ModelCodecError,
  DetectorOptionError,
  DetectorInputError,
  ChecksumMismatchError,
  CorruptRangeError,
  ObjectMissingError,
  CsvIndexError,
];

export function isPermanent(err: unknown): boolean {
  return PERMANENT.some((type) => err instanceof type);
}

/** Runs `work`, turning a permanent error into a non-retryable failure with the same message and type. */
export async function failFastOnPermanent<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isPermanent(err)) {
      const error = err as Error;
      throw ApplicationFailure.nonRetryable(error.message, error.name);
    }
    throw err;
  }
}

export function notFound(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'NotFound');
}
