/**
 * Pins the objects under a source's prefix: each object's key, size and ETag, its rows and
 * columns (Parquet: from its footer by range reads; text: from a row index built in one
 * streaming pass that also hashes the bytes). After this, every chunk reads exactly these
 * versions or fails naming the object that changed.
 */
import { createHash } from 'node:crypto';
import { DatasetFormatError } from '../data/datasetError';
import { datasetFormat } from '../data/formats';
import { FORMAT_EXTENSIONS, type DatasetFormatName } from '../data/formats/names';
import { partName, type SnapshotPart } from '../data/formats/snapshot';
import { saveCsvIndex } from '../data/rowIndexStore';
import type { ObjectStore } from '../storage/objectStore';
import { globMatches } from '../api/sourceInput';
import { SourceError } from './sourceError';

export interface ObjectsToPin {
  connection: string;
  store: ObjectStore;
  bucket: string;
  /** The prefix with the window's values in it. */
  prefix: string;
  glob?: string;
  format: DatasetFormatName;
}

/** Where the parts' row indexes go: the platform's own bucket (a lake is read-only to Nomaly). */
export interface IndexHome {
  store: ObjectStore;
  bucket: string;
}

/** A file of the format by default (`part-0.parquet`, not `_SUCCESS` or `.crc` files beside it); `glob` replaces that rule. */
function wanted(name: string, format: DatasetFormatName, glob: string | undefined): boolean {
  if (glob !== undefined) return globMatches(glob, name);
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase();
  return ext !== undefined && FORMAT_EXTENSIONS[ext] === format;
}

/** Lists and pins the objects, with the columns every one of them has; none is a valid answer (a window with no data). */
export async function pinObjects(source: ObjectsToPin, indexHome: IndexHome, onProgress: (bytes: number) => void): Promise<{ parts: SnapshotPart[]; columns: string[] }> {
  let listed;
  try {
    listed = await source.store.listObjects(source.bucket, source.prefix);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'NoSuchBucket') throw new SourceError(`bucket "${source.bucket}" does not exist on connection "${source.connection}"`);
    if (code === 'AccessDenied' || code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch') {
      throw new SourceError(`connection "${source.connection}" was refused listing ${source.bucket}/${source.prefix} (${code}): check its credentials and permissions`);
    }
    throw err;
  }
  const objects = listed.filter((o) => !o.key.endsWith('/') && wanted(o.key.slice(o.key.lastIndexOf('/') + 1), source.format, source.glob));
  const parts: SnapshotPart[] = [];
  let columns: string[] | undefined;
  let bytesBefore = 0;
  for (const object of objects) {
    const base = { connection: source.connection, bucket: source.bucket, key: object.key, format: source.format, size: object.size, etag: object.etag };
    const identity = await identityOf(source, base, indexHome, (bytes) => onProgress(bytesBefore + bytes));
    bytesBefore += object.size;
    const opened = await datasetFormat(source.format)
      .open({ store: source.store, bucket: source.bucket, key: object.key, sha256: identity, indexes: indexHome }, () => undefined)
      .catch((err: unknown) => {
        // Name the object: a prefix holds many.
        throw err instanceof DatasetFormatError ? new DatasetFormatError(`${partName(base)}: ${err.message}`, err.line, err.column) : err;
      });
    parts.push({ ...base, identity, rows: opened.rows });
    columns = columns ? columns.filter((c) => opened.columns.includes(c)) : opened.columns;
  }
  return { parts, columns: columns ?? [] };
}

/**
 * Text: the bytes' sha256, hashed in the same pass that builds the row index (saved in the
 * platform's bucket under it). Parquet needs no pass: it is known by where it is and its ETag.
 */
async function identityOf(source: ObjectsToPin, part: Omit<SnapshotPart, 'identity' | 'rows'>, indexHome: IndexHome, onProgress: (bytes: number) => void): Promise<string> {
  const kind = datasetFormat(source.format).rowIndex;
  if (!kind) return createHash('sha256').update(`${part.connection}\n${part.bucket}\n${part.key}\n${part.etag}\n${part.size}`).digest('hex');
  const hash = createHash('sha256');
  const builder = kind.builder();
  let bytes = 0;
  for await (const piece of await source.store.getStream(source.bucket, part.key)) {
    hash.update(piece as Buffer);
    builder.push(piece as Buffer);
    bytes += (piece as Buffer).length;
    onProgress(bytes);
  }
  if (bytes !== part.size) throw new Error(`object ${partName(part)} changed while it was being pinned (${part.size} bytes listed, ${bytes} read); pinning again`);
  const sha256 = hash.digest('hex');
  const key = kind.key(sha256);
  if (!(await indexHome.store.stat(indexHome.bucket, key))?.sha256) await saveCsvIndex(indexHome.store, indexHome.bucket, key, builder.finish());
  return sha256;
}
