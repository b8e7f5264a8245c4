/**
 * What the client checks before a dataset's bytes go to MinIO (extension, emptiness, size, name,
 * the file's signature), and how a refusal reads: a non-retryable ApplicationFailure naming the file.
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/client';
import { DatasetFormatError } from '../data/datasetError';
import { wrongFileSignature } from '../data/fileSignature';
import { formatFromFileName, isGzipName } from '../data/readDataset';
import { datasetKey } from '../storage/keys';
import { sha256OfFile } from '../storage/objectStore';
import { validateRegisterDatasetInput, type RegisterDatasetWorkflowInput } from '../api/inputs';

/** The registerDataset input for a local file, with its hash and size; throws an upload refusal when the file cannot be a dataset. */
export async function checkedUpload(file: string, name: string | undefined, maxBytes: number): Promise<{ input: RegisterDatasetWorkflowInput; sha256: string; size: number }> {
  const format = refusedUnless(file, () => formatFromFileName(file));
  const { sha256, size } = await sha256OfFile(file);
  if (size === 0) throw uploadRefused(file, 'empty file (0 bytes)');
  if (size > maxBytes) {
    throw uploadRefused(file, `${size} bytes is over the dataset size limit of ${maxBytes} bytes (raise NOMALY_MAX_DATASET_BYTES to accept it)`);
  }
  const wrongSignature = wrongFileSignature(format, ...(await fileEnds(file, size)), isGzipName(file));
  if (wrongSignature) throw uploadRefused(file, wrongSignature);
  const input = refusedUnless(file, () =>
    validateRegisterDatasetInput({ name: name ?? path.basename(file), objectKey: datasetKey(sha256, format), sha256, format }),
  );
  return { input, sha256, size };
}

export function uploadRefused(file: string, problem: string, type = 'DatasetRefused'): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${file}: ${problem}`, type);
}

/** `check()`'s value; a refusal it throws (a bad extension, an invalid input) becomes an upload refusal. */
function refusedUnless<T>(file: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof DatasetFormatError) throw ApplicationFailure.nonRetryable(err.message, err.name);
    if (err instanceof ApplicationFailure && err.nonRetryable) throw uploadRefused(file, err.message, err.type ?? undefined);
    throw err;
  }
}

/** The innermost ApplicationFailure of a failed workflow, when no retry can fix it. */
export function nonRetryableRoot(err: unknown): ApplicationFailure | undefined {
  let found: ApplicationFailure | undefined;
  for (let e = err as { cause?: unknown } | undefined; e && typeof e === 'object'; e = e.cause as typeof e) {
    if (e instanceof ApplicationFailure) found = e;
  }
  return found?.nonRetryable ? found : undefined;
}

/** A file's first and last four bytes: its format's signature. */
async function fileEnds(file: string, size: number): Promise<[Buffer, Buffer]> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(4, size));
    const tail = Buffer.alloc(Math.min(4, size));
    await handle.read(head, 0, head.length, 0);
    await handle.read(tail, 0, tail.length, size - tail.length);
    return [head, tail];
  } finally {
    await handle.close();
  }
}
