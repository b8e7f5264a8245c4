/**
 * Pins a source for one window: its objects (with ETags and sizes), or its query's rows
 * extracted once into a Parquet object in the platform's bucket (with its sha256). The result
 * is a snapshot object, content-addressed: the same data pinned twice gives the same sha256,
 * which is how a window already scored on the same data is recognised. For training, its columns'
 * types are inferred from its first rows, as an upload's are at registration (snapshotSchema.ts).
 */
import { rm } from 'node:fs/promises';
import type { NomalyConfig } from '../config';
import type { SnapshotPart, SourceSnapshot, StoreOf } from '../data/formats/snapshot';
import type { ColumnType } from '../data/schemaInference';
import { sourceExtractKey, sourceSnapshotKey } from '../storage/keys';
import { sha256Hex, type ObjectStore } from '../storage/objectStore';
import { queryParameters, type ObjectsSource, type PostgresSource, type SourceSpec } from '../api/sourceInput';
import { expandTemplate, windowValues, type JobWindow } from '../api/window';
import { connectionNamed } from './connections';
import { pinObjects, type IndexHome } from './pinObjects';
import { extractQuery } from './postgresExtract';
import { sniffSnapshotSchema } from './snapshotSchema';
import { SourceError } from './sourceError';
import { PLATFORM_CONNECTION } from './stores';

/** What a job keeps of its pinned source (the parts stay in the snapshot object). */
export interface PinnedSource {
  snapshotKey: string;
  snapshotSha256: string;
  rows: number;
  /** Objects pinned (a query's extract is one). */
  objects: number;
  bytes: number;
  columns: string[];
  /** Where the source was read, with the window's values in it: the prefix, or the query's connection. */
  location: string;
  /**
   * The columns that are not plain numbers and their inferred types (snapshotSchema.ts): what
   * training reads the source as. Only when asked for (training), and absent in histories from
   * before sources had types.
   */
  columnTypes?: Record<string, ColumnType>;
}

export interface PinDeps {
  config: Pick<NomalyConfig, 'connections' | 'buckets'>;
  /** The platform's own store: snapshots, extracts and row indexes go to its datasets bucket. */
  store: ObjectStore;
  storeOf: StoreOf;
}

/**
 * `inferTypes` (training) also infers the columns' types from the first rows: a read a job that
 * scores with a model's own types does not need.
 */
export async function pinSource(
  deps: PinDeps,
  source: SourceSpec,
  window: JobWindow,
  timeZone: string,
  onProgress: (progress: object) => void,
  { inferTypes = false }: { inferTypes?: boolean } = {},
): Promise<PinnedSource> {
  const values = windowValues(window, timeZone);
  const home: IndexHome = { store: deps.store, bucket: deps.config.buckets.datasets };
  const pinned = source.kind === 'objects' ? await pinPrefix(deps, source, values, home, onProgress) : await pinQuery(deps, source, values, home, onProgress);
  const snapshot: SourceSnapshot = { parts: pinned.parts, rows: pinned.parts.reduce((n, p) => n + p.rows, 0), columns: pinned.columns };
  const bytes = Buffer.from(JSON.stringify(snapshot));
  const sha256 = sha256Hex(bytes);
  const stored = await deps.store.putBytes(home.bucket, sourceSnapshotKey(sha256), bytes, 'application/json');
  let columnTypes;
  if (inferTypes) {
    onProgress({ phase: 'inferring column types' });
    columnTypes = await sniffSnapshotSchema(snapshot.parts, snapshot.columns, deps.storeOf, home);
  }
  return {
    snapshotKey: stored.key,
    snapshotSha256: sha256,
    rows: snapshot.rows,
    objects: snapshot.parts.length,
    bytes: snapshot.parts.reduce((n, p) => n + p.size, 0),
    columns: snapshot.columns,
    location: pinned.location,
    ...(columnTypes ? { columnTypes } : {}),
  };
}

async function pinPrefix(deps: PinDeps, source: ObjectsSource, values: ReturnType<typeof windowValues>, home: IndexHome, onProgress: (progress: object) => void) {
  const prefix = expandTemplate(source.prefix, values);
  const store = deps.storeOf(source.connection);
  const { parts, columns } = await pinObjects({ connection: source.connection, store, bucket: source.bucket, prefix, glob: source.glob, format: source.format }, home, (bytes) =>
    onProgress({ phase: 'pinning objects', bytes }),
  );
  return { parts, columns, location: `${source.connection}:${source.bucket}/${prefix}` };
}

/** The query's rows, bound to the window's values, written once as Parquet: every chunk reads that file. */
async function pinQuery(deps: PinDeps, source: PostgresSource, values: ReturnType<typeof windowValues>, home: IndexHome, onProgress: (progress: object) => void) {
  const connection = connectionNamed(deps.config, source.connection, 'postgres');
  let sql;
  try {
    const { text, names } = queryParameters(source.query);
    sql = { text, values: names.map((name) => values[name]) };
  } catch (err) {
    throw new SourceError(`source.query: ${(err as Error).message}`);
  }
  const extract = await extractQuery(connection, sql, { idColumn: source.idColumn, onProgress: (rows) => onProgress({ phase: 'extracting rows', rows }) });
  try {
    const key = sourceExtractKey(extract.sha256);
    const known = await home.store.stat(home.bucket, key);
    if (known?.sha256 !== extract.sha256) await home.store.putFile(home.bucket, key, extract.file, { sha256: extract.sha256, size: extract.size });
    const stored = await home.store.stat(home.bucket, key);
    const part: SnapshotPart = {
      connection: PLATFORM_CONNECTION,
      bucket: home.bucket,
      key,
      format: 'parquet',
      size: extract.size,
      etag: String(stored?.etag ?? '').replace(/"/g, ''),
      identity: extract.sha256,
      rows: extract.rows,
    };
    return { parts: extract.rows > 0 ? [part] : [], columns: extract.columns.map((c) => c.name), location: `${source.connection} (query)` };
  } finally {
    await rm(extract.file, { force: true });
  }
}
