import { ApplicationFailure } from '@temporalio/common';
import { CsvIndexError } from '../data/csvIndex';
import { DatasetFormatError } from '../data/datasetError';
import { ModelCodecError } from '../scoring/codec';
import { DetectorInputError, DetectorOptionError } from '../scoring/detector';
import { BackupIntegrityError } from '../backup/backupIntegrityError';
import { PgToolMissingError } from '../backup/pgTools';
import { EncryptionError } from '../storage/encryption';
import { ChecksumMismatchError, CorruptRangeError, ObjectMissingError, ObjectUnreadableError } from '../storage/objectStore';

type ErrorClass = new (...args: never[]) => Error;

/** Which errors no retry can fix, and the failure type each is reported as. Everything else retries. */
export interface PermanentErrors {
  /** Reported under their own name. */
  named: ErrorClass[];
  /** Reported under another failure type: the one the workflow and the operator know them by. */
  renamed?: { errors: ErrorClass[]; as: string };
}

/** Datasets, models, detection: bad data, a corrupt file, an invalid option. */
export const ACTIVITY_ERRORS: PermanentErrors = {
  named: [DatasetFormatError, ModelCodecError, DetectorOptionError, DetectorInputError, ChecksumMismatchError, CorruptRangeError, ObjectMissingError, CsvIndexError],
};

/**
 * Backups and recoveries: a damaged backup, a missing or wrong key, pg tools too old to run. An
 * object of a backup that is missing or stays unreadable is the backup's damage, reported as
 * such. A checksum mismatch of a freshly written object is not here: writing it again fixes it.
 */
export const BACKUP_ERRORS: PermanentErrors = {
  named: [BackupIntegrityError, EncryptionError, PgToolMissingError],
  renamed: { errors: [ObjectMissingError, ObjectUnreadableError], as: 'BackupIntegrityError' },
};

/** The failure type a permanent error is reported as, or undefined when a retry may fix it. */
function permanentType(err: unknown, permanent: PermanentErrors): string | undefined {
  if (permanent.named.some((type) => err instanceof type)) return (err as Error).name;
  if (permanent.renamed?.errors.some((type) => err instanceof type)) return permanent.renamed.as;
  return undefined;
}

/**
 * PostgreSQL SQLSTATE classes that no retry fixes: 22 (data exception: a value too long or out
 * of range, a byte the encoding refuses) and 23 (integrity constraint violation). The same
 * statement with the same values fails the same way every time.
 */
const PERMANENT_SQLSTATE_CLASSES = ['22', '23'];

/** What the common SQLSTATEs mean, for messages that must not quote the statement. */
const SQLSTATE_MEANINGS: Record<string, string> = {
  '22001': 'a text value is longer than its column allows',
  '22003': 'a number is out of range for its column',
  '22021': 'text holds a byte the database encoding refuses (e.g. a NUL character)',
  '22P02': 'a value has the wrong type for its column',
  '22P05': 'text holds a character the database cannot store (e.g. \\u0000)',
  '23502': 'a required value is missing (not-null constraint)',
  '23503': 'a referenced row does not exist (foreign-key constraint)',
  '23505': 'a row with the same key already exists (unique constraint)',
  '23514': 'a value breaks a check constraint',
};
const SQLSTATE_CLASS_MEANINGS: Record<string, string> = {
  '22': 'data exception',
  '23': 'integrity constraint violation',
};

/** The fields a PostgreSQL error (from pg, or wrapped by MikroORM, which copies them) carries. */
interface PostgresError {
  code: string;
  severity: string;
  table?: string;
  column?: string;
  constraint?: string;
}

function asPostgresError(err: unknown): PostgresError | undefined {
  const e = err as Partial<PostgresError> | null;
  if (typeof e !== 'object' || e === null) return undefined;
  return typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string' ? (e as PostgresError) : undefined;
}

/**
 * A PostgreSQL error told by its SQLSTATE and the names it carries (table, column, constraint),
 * never by its message: the driver's message starts with the whole statement, values included,
 * which can be larger than Temporal accepts for a failure and can hold users' data.
 */
function databaseFailure(err: PostgresError): ApplicationFailure {
  const where = [err.table && `table "${err.table}"`, err.column && `column "${err.column}"`, err.constraint && `constraint "${err.constraint}"`].filter(Boolean);
  const meaning = SQLSTATE_MEANINGS[err.code] ?? SQLSTATE_CLASS_MEANINGS[err.code.slice(0, 2)];
  const permanent = PERMANENT_SQLSTATE_CLASSES.includes(err.code.slice(0, 2));
  const message = `the database ${permanent ? 'refused' : 'failed'} the statement: SQLSTATE ${err.code}${meaning ? ` (${meaning})` : ''}${where.length ? `, ${where.join(', ')}` : ''}`;
  return permanent ? ApplicationFailure.nonRetryable(message, 'DatabaseRefusedData') : ApplicationFailure.retryable(message, 'DatabaseError');
}

/** A PostgreSQL error as a failure naming its SQLSTATE (see databaseFailure); any other error as it is. */
export function withoutStatementText(err: unknown): unknown {
  const database = asPostgresError(err);
  return database ? databaseFailure(database) : err;
}

export function isPermanent(err: unknown, permanent: PermanentErrors = ACTIVITY_ERRORS): boolean {
  const database = asPostgresError(err);
  if (database) return PERMANENT_SQLSTATE_CLASSES.includes(database.code.slice(0, 2));
  return permanentType(err, permanent) !== undefined;
}

/**
 * The one error translator of activities: runs `work`, turning a permanent error (see
 * `permanent`) into a non-retryable failure with the same message and its type, and any
 * PostgreSQL error into a failure that names its SQLSTATE instead of quoting the statement
 * (non-retryable for data exceptions and constraint violations). It does not heartbeat: wrap
 * `work` in withHeartbeat (./heartbeat) where a long step needs it.
 */
export async function failFastOnPermanent<T>(work: () => Promise<T>, permanent: PermanentErrors = ACTIVITY_ERRORS): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const database = asPostgresError(err);
    if (database) throw databaseFailure(database);
    const type = permanentType(err, permanent);
    if (type !== undefined) throw ApplicationFailure.nonRetryable((err as Error).message, type);
    throw err;
  }
}

/**
 * What an activity may return: its result goes into the workflow's history, where Temporal warns
 * at 512 KB per payload and refuses 2 MB (and gRPC 4 MB). A result past that is never delivered:
 * the attempt times out and is retried for ever, so it fails at once, non-retryably, instead.
 */
export const MAX_ACTIVITY_RESULT_BYTES = 512 * 1024;

/** `result`, when its JSON fits in MAX_ACTIVITY_RESULT_BYTES; else a non-retryable ResultTooLarge failure naming `what`. */
export function deliverable<T>(what: string, result: T, limit = MAX_ACTIVITY_RESULT_BYTES): T {
  const bytes = Buffer.byteLength(JSON.stringify(result) ?? '');
  if (bytes > limit) {
    throw ApplicationFailure.nonRetryable(
      `${what}: the result is ${Math.ceil(bytes / 1024)} KiB, over the ${Math.floor(limit / 1024)} KiB an activity may return through the workflow history`,
      'ResultTooLarge',
    );
  }
  return result;
}

export function notFound(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'NotFound');
}
