import { ApplicationFailure } from '@temporalio/common';
import { BACKUP_ERRORS, deliverable, failFastOnPermanent, MAX_ACTIVITY_RESULT_BYTES } from '../../../src/activities/failures';
import { BackupIntegrityError } from '../../../src/backup/backupIntegrityError';
import { PgToolMissingError } from '../../../src/backup/pgTools';
import { DatasetFormatError } from '../../../src/data/datasetError';
import { EncryptionError } from '../../../src/storage/encryption';
import { ChecksumMismatchError, ObjectMissingError, ObjectUnreadableError } from '../../../src/storage/objectStore';

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

describe('failFastOnPermanent with the backup errors', () => {
  it.each([
    ['BackupIntegrityError', new BackupIntegrityError('backup object b/k is corrupt')],
    ['EncryptionError', new EncryptionError('b/k was encrypted with key id 1')],
    ['PgToolMissingError', new PgToolMissingError('no pg_restore of PostgreSQL 16 or newer found')],
  ])('fails a %s at once, under its own name', async (type, error) => {
    await expect(failFastOnPermanent(() => Promise.reject(error), BACKUP_ERRORS)).rejects.toMatchObject({ nonRetryable: true, type, message: error.message });
  });

  it.each([
    ['missing', new ObjectMissingError('backups', 'backups/b1/platform.dump')],
    ['unreadable', new ObjectUnreadableError('backups', 'backups/b1/platform.dump', 3, 'status 503')],
  ])('reports an object of a backup that is %s as the backup\'s damage', async (_what, error) => {
    await expect(failFastOnPermanent(() => Promise.reject(error), BACKUP_ERRORS)).rejects.toMatchObject({
      nonRetryable: true,
      type: 'BackupIntegrityError',
      message: error.message,
    });
  });

  it('retries a checksum mismatch of a freshly written object: writing it again fixes it', async () => {
    const mismatch = new ChecksumMismatchError('models', 'm/v1.nmly', 'aa', 'bb');
    await expect(failFastOnPermanent(() => Promise.reject(mismatch), BACKUP_ERRORS)).rejects.toBe(mismatch);
  });

  it('keeps each list to its room: an unreadable dataset retries, a dataset error in a backup step retries', async () => {
    const unreadable = new ObjectUnreadableError('datasets', 'sha256/ab/x.csv', 3, 'status 503');
    await expect(failFastOnPermanent(() => Promise.reject(unreadable))).rejects.toBe(unreadable);
    const format = new DatasetFormatError('line 2: bad');
    await expect(failFastOnPermanent(() => Promise.reject(format), BACKUP_ERRORS)).rejects.toBe(format);
  });
});
