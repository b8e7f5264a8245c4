/**
 * A pinned source behind the format seam: the objects a job scores (of a prefix in a lake, or a
 * query's extract), each with the ETag and size (and, for text, the sha256) it had when the job
 * pinned it. The snapshot itself is a small JSON object, content-addressed in the platform's
 * datasets bucket; a job holds only its key and sha256, so every chunk and every retry reads the
 * same list. Planning cuts each large object at its own format's boundaries (row groups, indexed
 * byte ranges) and groups runs of small objects, in pinned order, into one chunk of about
 * `chunkRows` rows (at most MAX_OBJECTS_PER_CHUNK objects), so a prefix of thousands of tiny files
 * is not thousands of tiny chunks. The chunk list is written beside the snapshot; the workflow
 * carries one reference to it.
 */
import { DatasetFormatError, DatasetMismatchError } from '../datasetError';
import type { ObjectStore } from '../../storage/objectStore';
import { sourcePlanKey } from '../../storage/keys';
import { Matrix } from '../../scoring/matrix';
import type { ChunkList, ChunkSpec } from './chunks';
import type { ChunkBlock, ChunkRead, ChunkReadCaches, DatasetFormat, StoredDataset } from './format';
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

/** Rows [rowStart, rowEnd) of one part, where its own format's chunk spec puts them. */
export interface PlannedPiece {
  part: number;
  rowStart: number;
  rowEnd: number;
  from: number;
  to: number;
  shared: ChunkSpec['shared'];
}

/** A chunk of one part (the only shape before grouping), or whole small parts in pinned order. */
export type PlannedChunk = PlannedPiece | { pieces: PlannedPiece[] };

/**
 * The most objects one chunk groups: bounds the plan entry a chunk reads and the objects it
 * checks and fetches, whatever the rows per object.
 */
export const MAX_OBJECTS_PER_CHUNK = 1000;

/**
 * The chunks of a snapshot from each part's own pieces (in pinned order): a part cut into several
 * pieces keeps them as its chunks; a part its format keeps whole (one piece) joins the small
 * parts before it until the group would pass `chunkRows` rows or `maxObjects` parts. Returns
 * the chunks and their row bounds across the snapshot.
 */
export function groupSmallParts(
  parts: Array<{ rows: number; pieces: PlannedPiece[] }>,
  chunkRows: number,
  maxObjects = MAX_OBJECTS_PER_CHUNK,
): { chunks: PlannedChunk[]; rowBounds: number[] } {
  const chunks: PlannedChunk[] = [];
  const rowBounds = [0];
  let group: PlannedPiece[] = [];
  let groupRows = 0;
  const closeGroup = () => {
    if (group.length === 0) return;
    chunks.push(group.length === 1 ? group[0] : { pieces: group });
    rowBounds.push(rowBounds[rowBounds.length - 1] + groupRows);
    group = [];
    groupRows = 0;
  };
  let offset = 0;
  for (const { rows, pieces } of parts) {
    if (pieces.length === 1) {
      if (group.length > 0 && (groupRows + rows > chunkRows || group.length >= maxObjects)) closeGroup();
      group.push(pieces[0]);
      groupRows += rows;
    } else {
      closeGroup();
      for (const piece of pieces) {
        chunks.push(piece);
        rowBounds.push(offset + piece.rowEnd);
      }
    }
    offset += rows;
  }
  closeGroup();
  return { chunks, rowBounds };
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
  const format: DatasetFormat = {
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

    /**
     * Each part cut by its own format; a part its format keeps whole (fewer rows than a chunk) is
     * grouped with the small parts after it, up to `chunkRows` rows and MAX_OBJECTS_PER_CHUNK
     * parts. The list itself goes into an object beside the snapshot.
     */
    async planChunks(dataset, rows, chunkRows, onProgress) {
      const stored = asSnapshot(dataset);
      const snapshot = await loadSnapshot(stored);
      if (snapshot.rows !== rows) throw new DatasetMismatchError(`snapshot ${dataset.key} has ${snapshot.rows} rows, but the job says ${rows}`);
      const parts: Array<{ rows: number; pieces: PlannedPiece[] }> = [];
      for (const [index, part] of snapshot.parts.entries()) {
        if (part.rows === 0) continue;
        const list = await formatOf(part.format).planChunks(partDataset(stored, part), part.rows, chunkRows, onProgress);
        const pieces = Array.from({ length: list.chunks }, (_, c): PlannedPiece => ({
          part: index, rowStart: list.rowBounds[c], rowEnd: list.rowBounds[c + 1], from: list.bounds[c], to: list.bounds[c + 1], shared: list.shared,
        }));
        parts.push({ rows: part.rows, pieces });
      }
      const { chunks, rowBounds } = groupSmallParts(parts, chunkRows);
      const plan: SnapshotPlan = { snapshotSha256: dataset.sha256, chunks };
      const key = sourcePlanKey(dataset.sha256, chunkRows, 'grouped');
      const stored_ = await stored.indexes.store.putBytes(stored.indexes.bucket, key, Buffer.from(JSON.stringify(plan)), 'application/json');
      return { chunks: chunks.length, rowBounds, bounds: chunks.map((_, i) => i).concat(chunks.length), shared: { plan: { key: stored_.key, sha256: stored_.sha256 } } };
    },

    /**
     * The chunk's parts, each checked unchanged and read by its own format; rows keyed by object
     * and row when there is no id column. A chunk of one part passes its format's blocks on as
     * they come; a group of small parts is cut into full blocks of `blockRows` rows across its
     * parts, so a resumed attempt finds its rows by `rowsDone` alone.
     */
    async *readChunk(dataset, chunk, read, caches: ChunkReadCaches) {
      const stored = asSnapshot(dataset);
      const snapshot = (await caches.heads.getOrLoad(`snapshot:${dataset.sha256}`, () => loadSnapshot(stored))) as SourceSnapshot;
      const ref = chunk.shared.plan as { key: string; sha256: string };
      const plan = (await caches.heads.getOrLoad(`snapshot-plan:${ref.sha256}`, async () =>
        JSON.parse((await stored.indexes.store.getVerifiedBytes(stored.indexes.bucket, ref.key, ref.sha256)).toString('utf8')),
      )) as SnapshotPlan;
      const planned = plan.chunks[chunk.from];
      const pieces = planned && ('pieces' in planned ? planned.pieces : [planned]);
      if (!pieces || pieces.reduce((sum, p) => sum + p.rowEnd - p.rowStart, 0) !== chunk.rowEnd - chunk.rowStart) {
        throw new DatasetMismatchError(`chunk ${chunk.from} of snapshot ${dataset.key} is not in its plan ${ref.key}`);
      }
      if (pieces.length === 1) {
        yield* pieceBlocks(stored, snapshot.parts[pieces[0].part], pieces[0], read, caches);
        return;
      }
      yield* groupBlocks(stored, snapshot, pieces, read, caches);
    },
  };
  return format;

  /** One part's rows of a chunk, as its format reads them, after the `read.rowsDone` done. */
  async function* pieceBlocks(stored: StoredSnapshot, part: SnapshotPart, piece: PlannedPiece, read: ChunkRead, caches: ChunkReadCaches): AsyncGenerator<ChunkBlock> {
    const partStored = partDataset(stored, part);
    await checkPartUnchanged(partStored.store, part);
    const local: ChunkSpec = { rowStart: piece.rowStart, rowEnd: piece.rowEnd, from: piece.from, to: piece.to, shared: piece.shared };
    let row = piece.rowStart + read.rowsDone;
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
  }

  /**
   * The rows of a group of small parts after the `read.rowsDone` done, in full blocks of
   * `blockRows` (the last may be short) copied across parts. Parts wholly done are skipped
   * unread; the part the cursor is inside is read from its start and its done rows dropped
   * (a small part is at most one chunk's rows). No `next`: position is rows alone.
   */
  async function* groupBlocks(stored: StoredSnapshot, snapshot: SourceSnapshot, pieces: PlannedPiece[], read: ChunkRead, caches: ChunkReadCaches): AsyncGenerator<ChunkBlock> {
    const cols = read.columns.featureColumns.length;
    const withIds = read.columns.idColumn !== undefined;
    const out = new Float64Array(read.blockRows * cols);
    let filled = 0;
    let ids: string[] = [];
    /** The category texts of the parts read into the block being filled (codes are the texts' hashes: one map serves every part). */
    let texts: Map<number, string> | undefined;
    /** Where each part's rows start in the block being filled: [block row, object key, the object's 0-based row there]. */
    let runs: Array<[number, string, number]> = [];
    const take = (): ChunkBlock => {
      const features = new Matrix(filled, cols, out.subarray(0, filled * cols));
      const keys = runs;
      const block: ChunkBlock = withIds ? { features, ids } : { features, rowKey: (i) => runKey(keys, i) };
      if (texts) block.categoryText = texts;
      filled = 0;
      ids = [];
      runs = [];
      texts = undefined;
      return block;
    };
    let skip = read.rowsDone;
    for (const piece of pieces) {
      const pieceRows = piece.rowEnd - piece.rowStart;
      if (skip >= pieceRows) {
        skip -= pieceRows;
        continue;
      }
      const part = snapshot.parts[piece.part];
      let objectRow = piece.rowStart;
      for await (const block of pieceBlocks(stored, part, piece, { ...read, rowsDone: 0, resumeAt: undefined }, caches)) {
        if (block.categoryText) {
          texts ??= new Map();
          for (const [code, text] of block.categoryText) texts.set(code, text);
        }
        let at = Math.min(skip, block.features.rows);
        skip -= at;
        objectRow += at;
        while (at < block.features.rows) {
          const n = Math.min(block.features.rows - at, read.blockRows - filled);
          out.set(block.features.data.subarray(at * cols, (at + n) * cols), filled * cols);
          if (withIds) {
            if (!block.ids) throw new DatasetMismatchError(`${partName(part)}: no ids read for column "${read.columns.idColumn}"`);
            for (let i = at; i < at + n; i++) ids.push(block.ids[i]);
          } else {
            runs.push([filled, part.key, objectRow]);
          }
          filled += n;
          at += n;
          objectRow += n;
          if (filled === read.blockRows) yield take();
        }
      }
    }
    if (filled > 0) yield take();
  }
}

/** The key of row `i` of a grouped block: `object#row`, 1-based within the object as for a single part. */
function runKey(runs: Array<[number, string, number]>, i: number): string {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (runs[mid][0] <= i) lo = mid;
    else hi = mid - 1;
  }
  const [start, key, firstRow] = runs[lo];
  return `${key}#${firstRow + (i - start) + 1}`;
}

export type { ChunkList };
