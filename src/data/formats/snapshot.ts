/**
 * A pinned source behind the format seam: the objects a job scores (of a prefix in a lake, or a
 * query's extract), each with the ETag and size (and, for text, the sha256) it had when the job
 * pinned it. The snapshot itself is a small JSON object, content-addressed in the platform's
 * datasets bucket; a job holds only its key and sha256, so every chunk and every retry reads the
 * same list. Planning cuts each object at its own format's boundaries and writes the chunk list
 * beside the snapshot (a chunk never spans objects); the workflow carries one reference to it.
 */
import { DatasetFormatError, DatasetMismatchError } from '../datasetError';
import type { ObjectStore } from '../../storage/objectStore';
import { sourcePlanKey } from '../../storage/keys';
import type { ChunkList, ChunkSpec } from './chunks';
import type { ChunkReadCaches, DatasetFormat, StoredDataset } from './format';
import { isDatasetFormat, SNAPSHOT_FORMAT, type DatasetFormatName } from './names';

export { SNAPSHOT_FORMAT };

export interface SnapshotPart {
  /** `platform` (the platform's MinIO) or a connection configured on the workers. */
  connection: string;
  bucket: string;
  key: string;
  format: DatasetFormatName;
  size: number;
  etag: string;
  /** What the part's row index and caches are keyed by: the bytes' sha256 for text (hashed while pinning), else a digest of where and which version. */
  identity: string;
  rows: number;
}

export interface SourceSnapshot {
  parts: SnapshotPart[];
  rows: number;
  /** The first part's columns (each part's own are checked when a chunk reads it). */
  columns: string[];
}

/** How a worker reaches a connection's store (the platform's own for `platform`). */
export type StoreOf = (connection: string) => ObjectStore;

/** A snapshot as StoredDataset: where it is, and how to reach its parts and keep their indexes. */
export interface StoredSnapshot extends StoredDataset {
  storeOf: StoreOf;
  /** Where the parts' row indexes live (lakes are read-only to Nomaly). */
  indexes: { store: ObjectStore; bucket: string };
}

interface PlannedChunk {
  part: number;
  rowStart: number;
  rowEnd: number;
  from: number;
  to: number;
  shared: ChunkSpec['shared'];
}

interface SnapshotPlan {
  snapshotSha256: string;
  chunks: PlannedChunk[];
}

function asSnapshot(dataset: StoredDataset): StoredSnapshot {
  const snapshot = dataset as Partial<StoredSnapshot>;
  if (!snapshot.storeOf || !snapshot.indexes) throw new Error('a source snapshot is read with storeOf and indexes');
  return dataset as StoredSnapshot;
}

export async function loadSnapshot(dataset: StoredDataset): Promise<SourceSnapshot> {
  const bytes = await dataset.store.getVerifiedBytes(dataset.bucket, dataset.key, dataset.sha256);
  const snapshot = JSON.parse(bytes.toString('utf8')) as SourceSnapshot;
  for (const part of snapshot.parts) {
    if (!isDatasetFormat(part.format)) throw new DatasetMismatchError(`snapshot ${dataset.key} names an unknown format "${part.format}"`);
  }
  return snapshot;
}

/** A part as its own format reads it: the object in its store, its index kept with the platform's. */
export function partDataset(snapshot: StoredSnapshot, part: SnapshotPart): StoredDataset {
  return { store: snapshot.storeOf(part.connection), bucket: part.bucket, key: part.key, sha256: part.identity, indexes: snapshot.indexes };
}

/** Where a part is, for messages: `lake:events/dt=2026-12-03/part-0.parquet`. */
export function partName(part: Pick<SnapshotPart, 'connection' | 'bucket' | 'key'>): string {
  return `${part.connection}:${part.bucket}/${part.key}`;
}

/**
 * The part still holds the bytes the job pinned: the same ETag and size. A rewritten object
 * fails its chunk, naming it, rather than mixing two versions of the data in one job.
 */
export async function checkPartUnchanged(store: ObjectStore, part: SnapshotPart): Promise<void> {
  const now = await store.stat(part.bucket, part.key);
  if (!now) throw new DatasetMismatchError(`object ${partName(part)} was removed after the job pinned it; run the window again to score what is there now`);
  if (now.size !== part.size || (now.etag !== undefined && now.etag.replace(/"/g, '') !== part.etag)) {
    throw new DatasetMismatchError(
      `object ${partName(part)} changed after the job pinned it (ETag ${part.etag}, ${part.size} bytes; now ${now.etag}, ${now.size} bytes); run the window again to score its new contents`,
    );
  }
}

export function snapshotFormat(formatOf: (name: string) => DatasetFormat): DatasetFormat {
  return {
    name: SNAPSHOT_FORMAT as DatasetFormatName,
    read() {
      throw new Error('a source snapshot is read chunk by chunk, never whole');
    },
    // eslint-disable-next-line require-yield
    async *batches() {
      throw new Error('a source snapshot is read chunk by chunk, never as one stream');
    },

    async open(dataset) {
      const snapshot = await loadSnapshot(dataset);
      return { rows: snapshot.rows, columns: snapshot.columns };
    },

    /** Each part cut by its own format; the list itself goes into an object beside the snapshot. */
    async planChunks(dataset, rows, chunkRows, onProgress) {
      const stored = asSnapshot(dataset);
      const snapshot = await loadSnapshot(stored);
      if (snapshot.rows !== rows) throw new DatasetMismatchError(`snapshot ${dataset.key} has ${snapshot.rows} rows, but the job says ${rows}`);
      const chunks: PlannedChunk[] = [];
      const rowBounds = [0];
      let offset = 0;
      for (const [index, part] of snapshot.parts.entries()) {
        if (part.rows === 0) continue;
        const list = await formatOf(part.format).planChunks(partDataset(stored, part), part.rows, chunkRows, onProgress);
        for (let c = 0; c < list.chunks; c++) {
          chunks.push({ part: index, rowStart: list.rowBounds[c], rowEnd: list.rowBounds[c + 1], from: list.bounds[c], to: list.bounds[c + 1], shared: list.shared });
          rowBounds.push(offset + list.rowBounds[c + 1]);
        }
        offset += part.rows;
      }
      const plan: SnapshotPlan = { snapshotSha256: dataset.sha256, chunks };
      const stored_ = await stored.indexes.store.putBytes(stored.indexes.bucket, sourcePlanKey(dataset.sha256, chunkRows), Buffer.from(JSON.stringify(plan)), 'application/json');
      return { chunks: chunks.length, rowBounds, bounds: chunks.map((_, i) => i).concat(chunks.length), shared: { plan: { key: stored_.key, sha256: stored_.sha256 } } };
    },

    /** The chunk's part, checked unchanged, read by the part's format; rows keyed by object and row when there is no id column. */
    async *readChunk(dataset, chunk, read, caches: ChunkReadCaches) {
      const stored = asSnapshot(dataset);
      const snapshot = (await caches.heads.getOrLoad(`snapshot:${dataset.sha256}`, () => loadSnapshot(stored))) as SourceSnapshot;
      const ref = chunk.shared.plan as { key: string; sha256: string };
      const plan = (await caches.heads.getOrLoad(`snapshot-plan:${ref.sha256}`, async () =>
        JSON.parse((await stored.indexes.store.getVerifiedBytes(stored.indexes.bucket, ref.key, ref.sha256)).toString('utf8')),
      )) as SnapshotPlan;
      const planned = plan.chunks[chunk.from];
      if (!planned || planned.rowEnd - planned.rowStart !== chunk.rowEnd - chunk.rowStart) {
        throw new DatasetMismatchError(`chunk ${chunk.from} of snapshot ${dataset.key} is not in its plan ${ref.key}`);
      }
      const part = snapshot.parts[planned.part];
      const partStored = partDataset(stored, part);
      await checkPartUnchanged(partStored.store, part);
      const local: ChunkSpec = { rowStart: planned.rowStart, rowEnd: planned.rowEnd, from: planned.from, to: planned.to, shared: planned.shared };
      let row = planned.rowStart + read.rowsDone;
      try {
        for await (const block of formatOf(part.format).readChunk(partStored, local, read, caches)) {
          const first = row;
          row += block.features.rows;
          yield block.ids || read.columns.idColumn ? block : { ...block, rowKey: (i: number) => `${part.key}#${first + i + 1}` };
        }
      } catch (err) {
        // Name the object: a source has many, and the person fixing it needs to know which.
        if (err instanceof DatasetFormatError) throw new DatasetFormatError(`${partName(part)}: ${err.message}`, err.line, err.column);
        if (err instanceof DatasetMismatchError && !err.message.includes(partName(part))) throw new DatasetMismatchError(`${partName(part)}: ${err.message}`);
        throw err;
      }
    },
  };
}

export type { ChunkList };
