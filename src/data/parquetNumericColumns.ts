/**
 * The fast path for flat numeric Parquet columns: a column chunk's pages decoded straight into
 * one Float64Array per column, with no JS value per cell (hyparquet builds arrays of numbers and
 * assembles OPTIONAL columns value by value; for wide numeric data that is most of a read).
 *
 * It decodes only what it can decode exactly as hyparquet would: physical DOUBLE, FLOAT, INT32
 * or INT64 with no logical type other than a signed integer, REQUIRED or OPTIONAL (never nested),
 * DATA_PAGE and DATA_PAGE_V2 pages in PLAIN or dictionary encoding, RLE definition levels,
 * uncompressed, Snappy, gzip or Brotli. A column it cannot decode, or whose bytes it finds
 * malformed, is declined, and the caller reads it with hyparquet as before: the same values, and
 * the same errors, with or without this path.
 *
 * Columns asked for as another cell type (cellValues.ts) decode into their numbers here too: a
 * `category` column of BYTE_ARRAY strings (PLAIN or dictionary-encoded; a dictionary's codes are
 * hashed once per entry) into category codes, a `timestamp` column of INT32 DATE or INT64
 * TIMESTAMP millis/micros into epoch milliseconds (micros truncated toward zero, as hyparquet
 * does). Nanosecond timestamps (beyond a double's exact integers), INT96 and every other
 * combination are declined to hyparquet.
 */
import { endianness } from 'node:os';
import { parquetSchema, snappyUncompress } from 'hyparquet';
import type { AsyncBuffer, ColumnMetaData, Compressors, FileMetaData, SchemaElement } from 'hyparquet';
import { DatasetFormatError } from './datasetError';
import { categoryCodeOfBytes, type FeatureCellType } from './cellValues';
import { categoryTextOf } from './typedCells';
import {
  ENCODING_PLAIN,
  ENCODING_PLAIN_DICTIONARY,
  ENCODING_RLE,
  ENCODING_RLE_DICTIONARY,
  PAGE_DATA,
  PAGE_DATA_V2,
  PAGE_DICTIONARY,
  readPageHeader,
} from './parquetPageHeader';

/** A column's values: typed when it has no nulls, else numbers with null where the file has none. */
export type NumericColumnValues = Float64Array | Array<number | null>;

export interface NumericColumnsRead {
  values: Map<string, NumericColumnValues>;
  /** Requested columns this path does not decode (type, encoding, or bytes it will not vouch for), with why. */
  declined: Map<string, string>;
}

type NumericType = 'DOUBLE' | 'FLOAT' | 'INT32' | 'INT64' | 'BYTE_ARRAY';
const VALUE_BYTES: Record<Exclude<NumericType, 'BYTE_ARRAY'>, number> = { DOUBLE: 8, FLOAT: 4, INT32: 4, INT64: 8 };

/** A timestamp column's stored unit; the decoded values are converted to milliseconds. */
type TimeUnit = 'days' | 'millis' | 'micros';

interface ColumnSpec {
  name: string;
  type: NumericType;
  optional: boolean;
  /** Timestamp columns: the unit the file stores. */
  unit?: TimeUnit;
  /** Category columns: code → text of the values met, when the caller asked for it. */
  texts?: Map<number, string>;
}

/** What the caller wants besides plain numbers: columns of other cell types, and the texts of category codes. */
export interface TypedColumns {
  cellTypes?: ReadonlyMap<string, FeatureCellType>;
  categoryText?: Map<number, string>;
}

/** Codecs decoded here; SNAPPY by hyparquet's decoder, the others by the caller's `compressors` (node:zlib). */
const CODECS = new Set(['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI']);
/** Column-chunk encodings (values and levels) the page decoder knows. */
const ENCODINGS = new Set(['PLAIN', 'PLAIN_DICTIONARY', 'RLE_DICTIONARY', 'RLE']);
/** Signed integer annotations hyparquet leaves as plain numbers; every other annotation converts values. */
const PLAIN_INTEGER_TYPES = new Set(['INT_8', 'INT_16', 'INT_32', 'INT_64']);
/** Bit-packed runs are unpacked in 31-bit integers: wider dictionary indices (16M entries) are declined. */
const MAX_INDEX_BITS = 24;
/** Ranges of neighbouring column chunks are fetched together across gaps this small, up to a run this big (as hyparquet does). */
const GAP_BYTES = 1 << 13;
const RUN_BYTES = 1 << 21;
/** Pages are copied byte for byte into Float64Array memory, so they must share the platform's byte order. */
const LITTLE_ENDIAN = endianness() === 'LE';

/** The page decoder meets something it does not decode (hyparquet may): the column is declined. */
class Unsupported extends Error {}

/** Bytes that do not hold what their headers say, in column `spec.name`. */
function corrupt(spec: ColumnSpec, message: string): DatasetFormatError {
  return new DatasetFormatError(`column "${spec.name}": ${message}`, undefined, spec.name);
}

/** The column's decoding spec, or why this path leaves it to hyparquet. */
function columnSpec(element: SchemaElement | undefined, name: string, cellType: FeatureCellType = 'number'): ColumnSpec | string {
  if (!element) return 'not a top-level column';
  if (!LITTLE_ENDIAN) return 'big-endian platform';
  if (element.repetition_type !== 'REQUIRED' && element.repetition_type !== 'OPTIONAL') return `repetition ${element.repetition_type}`;
  const optional = element.repetition_type === 'OPTIONAL';
  if (cellType === 'category') {
    const text = element.type === 'BYTE_ARRAY' && (element.converted_type === undefined || element.converted_type === 'UTF8') && (element.logical_type === undefined || element.logical_type.type === 'STRING');
    return text ? { name, type: 'BYTE_ARRAY', optional } : `a category column of ${element.type} ${element.logical_type?.type ?? element.converted_type ?? ''}`.trim();
  }
  if (cellType === 'timestamp') {
    const unit = timeUnit(element);
    return unit ? { name, type: element.type as NumericType, optional, unit } : `a timestamp column of ${element.type} ${element.logical_type?.type ?? element.converted_type ?? ''}`.trim();
  }
  const type = element.type;
  if (type !== 'DOUBLE' && type !== 'FLOAT' && type !== 'INT32' && type !== 'INT64') return `physical type ${type}`;
  if (element.repetition_type !== 'REQUIRED' && element.repetition_type !== 'OPTIONAL') return `repetition ${element.repetition_type}`;
  const converted = element.converted_type;
  if (converted !== undefined && !PLAIN_INTEGER_TYPES.has(converted)) return `converted type ${converted}`;
  const logical = element.logical_type;
  if (logical !== undefined && !(logical.type === 'INTEGER' && logical.isSigned)) return `logical type ${logical.type}`;
  return { name, type, optional };
}

/** The unit of a DATE (INT32) or TIMESTAMP (INT64) column this path converts, by its logical or converted type. */
function timeUnit(element: SchemaElement): TimeUnit | undefined {
  const logical = element.logical_type;
  if (element.type === 'INT32') return logical?.type === 'DATE' || (logical === undefined && element.converted_type === 'DATE') ? 'days' : undefined;
  if (element.type !== 'INT64') return undefined;
  if (logical?.type === 'TIMESTAMP') return logical.unit === 'MILLIS' ? 'millis' : logical.unit === 'MICROS' ? 'micros' : undefined;
  if (logical !== undefined) return undefined;
  return element.converted_type === 'TIMESTAMP_MILLIS' ? 'millis' : element.converted_type === 'TIMESTAMP_MICROS' ? 'micros' : undefined;
}

/** A timestamp column's decoded values (NaN where null) to epoch milliseconds, in place. */
function toMillis(values: Float64Array, unit: TimeUnit): void {
  if (unit === 'days') for (let i = 0; i < values.length; i++) values[i] *= 86_400_000;
  else if (unit === 'micros') for (let i = 0; i < values.length; i++) values[i] = Math.trunc(values[i] / 1000);
}

function chunkDeclined(meta: ColumnMetaData | undefined, filePath: string | undefined, spec: ColumnSpec): string | undefined {
  if (!meta) return 'no column metadata';
  if (filePath) return 'column chunk in another file';
  if (meta.type !== spec.type) return `chunk type ${meta.type} differs from the schema's ${spec.type}`;
  if (!CODECS.has(meta.codec)) return `codec ${meta.codec}`;
  const other = meta.encodings.find((e) => !ENCODINGS.has(e));
  if (other) return `encoding ${other}`;
  return undefined;
}

/** The byte range of a column chunk, dictionary page included (as hyparquet reads it). */
function chunkRange(meta: ColumnMetaData): { start: number; end: number } {
  const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
  return { start, end: start + Number(meta.total_compressed_size) };
}

/**
 * Rows [rowStart, rowEnd) of the numeric `columns` this path can decode; the others come back in
 * `declined`. Fetches each overlapping row group's chunks of those columns by range reads.
 */
export async function readNumericColumns(
  file: AsyncBuffer,
  metadata: FileMetaData,
  columns: string[],
  rowStart: number,
  rowEnd: number,
  compressors: Compressors,
  typed: TypedColumns = {},
): Promise<NumericColumnsRead> {
  const declined = new Map<string, string>();
  const values = new Map<string, NumericColumnValues>();
  if (columns.length === 0 || rowEnd <= rowStart) {
    for (const c of columns) declined.set(c, 'nothing to read');
    return { values, declined };
  }
  const elements = new Map(parquetSchema(metadata).children.filter((c) => c.children.length === 0).map((c) => [c.element.name, c.element]));

  // The row groups overlapping the range, and each one's chunk per column name.
  const groups: Array<{ start: number; rows: number; chunks: Map<string, { meta?: ColumnMetaData; filePath?: string }> }> = [];
  let groupStart = 0;
  for (const group of metadata.row_groups) {
    const rows = Number(group.num_rows);
    if (groupStart < rowEnd && groupStart + rows > rowStart) {
      const chunks = new Map(group.columns.map((c) => [c.meta_data?.path_in_schema.join('.') ?? '', { meta: c.meta_data, filePath: c.file_path }]));
      groups.push({ start: groupStart, rows, chunks });
    }
    groupStart += rows;
  }

  if (rowStart < 0 || groupStart < rowEnd) {
    // Rows the row groups do not hold: hyparquet's reader says what the file lacks.
    for (const c of columns) declined.set(c, `rows ${rowStart + 1}-${rowEnd} are not all in the file's ${groupStart} rows`);
    return { values, declined };
  }
  const specs: ColumnSpec[] = [];
  for (const name of columns) {
    const spec = columnSpec(elements.get(name), name, typed.cellTypes?.get(name));
    if (typeof spec === 'string') {
      declined.set(name, spec);
      continue;
    }
    if (spec.type === 'BYTE_ARRAY') spec.texts = typed.categoryText;
    const why = groups.map((g) => (g.chunks.has(name) ? chunkDeclined(g.chunks.get(name)!.meta, g.chunks.get(name)!.filePath, spec) : 'no column chunk')).find((w) => w !== undefined);
    if (why) declined.set(name, why);
    else specs.push(spec);
  }
  if (specs.length === 0) return { values, declined };

  // One fetch per run of neighbouring chunks, all in flight together.
  const wanted = groups.flatMap((g) => specs.map((s) => chunkRange(g.chunks.get(s.name)!.meta!)));
  const fetched = await fetchRanges(file, wanted);
  const chunkBytes = (gi: number, si: number): Uint8Array => fetched[gi * specs.length + si];

  for (const [si, spec] of specs.entries()) {
    const out = new Float64Array(rowEnd - rowStart);
    const nulls: NullMask = { mask: undefined };
    try {
      for (const [gi, g] of groups.entries()) {
        const meta = g.chunks.get(spec.name)!.meta!;
        const bytes = chunkBytes(gi, si);
        const from = Math.max(rowStart - g.start, 0);
        const to = Math.min(rowEnd - g.start, g.rows);
        decodeColumnChunk(bytes, { spec, codec: meta.codec, compressors, groupRows: g.rows }, from, to, out, g.start - rowStart, nulls);
      }
    } catch (err) {
      // Unsupported pages, malformed bytes (ours, a decompressor's): hyparquet reads the column
      // instead, so what the file holds, or the error it is, stays exactly what it was.
      declined.set(spec.name, (err as Error).message);
      continue;
    }
    if (spec.unit) toMillis(out, spec.unit);
    values.set(spec.name, nulls.mask ? withNulls(out, nulls.mask) : out);
  }
  return { values, declined };
}

/** The bytes of each range, in the order asked; neighbouring ranges are fetched together, all runs in flight at once. */
async function fetchRanges(file: AsyncBuffer, wanted: Array<{ start: number; end: number }>): Promise<Uint8Array[]> {
  const order = wanted.map((_, i) => i).sort((a, b) => wanted[a].start - wanted[b].start || wanted[a].end - wanted[b].end);
  const runs: Array<{ start: number; end: number; members: number[] }> = [];
  for (const i of order) {
    const w = wanted[i];
    const last = runs[runs.length - 1];
    if (last && w.start <= last.end + GAP_BYTES && Math.max(last.end, w.end) - last.start <= RUN_BYTES) {
      last.end = Math.max(last.end, w.end);
      last.members.push(i);
    } else runs.push({ start: w.start, end: w.end, members: [i] });
  }
  const buffers = await Promise.all(runs.map((r) => file.slice(r.start, r.end)));
  const out: Uint8Array[] = new Array(wanted.length);
  runs.forEach((run, r) => {
    const buffer = buffers[r] as ArrayBuffer;
    for (const i of run.members) {
      // A short read (past the end of the file) leaves the chunk short: decoding declines it.
      const from = Math.min(wanted[i].start - run.start, buffer.byteLength);
      out[i] = new Uint8Array(buffer, from, Math.min(wanted[i].end - run.start, buffer.byteLength) - from);
    }
  });
  return out;
}

function withNulls(values: Float64Array, mask: Uint8Array): Array<number | null> {
  const out: Array<number | null> = new Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = mask[i] ? null : values[i];
  return out;
}

interface NullMask {
  /** 1 where the row is null; allocated at the first null. */
  mask: Uint8Array | undefined;
}

interface ChunkContext {
  spec: ColumnSpec;
  codec: string;
  compressors: Compressors;
  groupRows: number;
}

/**
 * Decodes rows [from, to) of one column chunk (`bytes`, from its first page) into
 * out[outBase + row] for each row of the row group. Throws Unsupported for what it does not
 * decode, DatasetFormatError for bytes that do not hold what the headers say.
 */
export function decodeColumnChunk(bytes: Uint8Array, chunk: ChunkContext, from: number, to: number, out: Float64Array, outBase: number, nulls: NullMask): void {
  const { spec } = chunk;
  let dictionary: Float64Array | undefined;
  let offset = 0;
  let row = 0;
  while (row < to) {
    if (offset >= bytes.length) throw corrupt(spec, `the column chunk ends after ${row} of its ${chunk.groupRows} rows`);
    const { header, dataOffset } = readPageHeader(bytes, offset);
    const end = dataOffset + header.compressedSize;
    if (end > bytes.length) throw corrupt(spec, `a page of ${header.compressedSize} bytes runs past the end of its column chunk`);
    const body = bytes.subarray(dataOffset, end);
    offset = end;

    if (header.type === PAGE_DICTIONARY) {
      if (header.encoding !== ENCODING_PLAIN && header.encoding !== ENCODING_PLAIN_DICTIONARY) throw new Unsupported(`dictionary page encoding ${header.encoding}`);
      const page = decompress(chunk, body, header.uncompressedSize);
      dictionary = plainNumbers(page, header.numValues, spec);
      continue;
    }
    if (header.type !== PAGE_DATA && header.type !== PAGE_DATA_V2) throw new Unsupported(`page type ${header.type}`);
    const count = header.numValues;
    if (count < 0) throw corrupt(spec, `a data page without its value count`);
    if (header.type === PAGE_DATA_V2 && header.numRows !== count) throw corrupt(spec, `a flat column's page holds ${count} values in ${header.numRows} rows`);
    if (row + count <= from) {
      row += count; // wholly before the range: not even decompressed
      continue;
    }

    let page: Uint8Array;
    let levels: Uint8Array | undefined;
    if (header.type === PAGE_DATA) {
      page = decompress(chunk, body, header.uncompressedSize);
      let at = 0;
      if (spec.optional) {
        if (header.definitionLevelEncoding !== ENCODING_RLE) throw new Unsupported(`definition level encoding ${header.definitionLevelEncoding}`);
        if (page.length < 4) throw corrupt(spec, `a data page too short for its definition levels`);
        const length = page[0] | (page[1] << 8) | (page[2] << 16) | (page[3] << 24);
        if (length < 0 || 4 + length > page.length) throw corrupt(spec, `definition levels of ${length} bytes in a page of ${page.length}`);
        levels = definitionLevels(page.subarray(4, 4 + length), count, spec);
        at = 4 + length;
      }
      page = page.subarray(at);
    } else {
      const repLength = header.repetitionLevelsLength ?? 0;
      const defLength = header.definitionLevelsLength ?? 0;
      if (repLength !== 0) throw corrupt(spec, `a flat column's page has repetition levels`);
      if (defLength < 0 || defLength > body.length) throw corrupt(spec, `definition levels of ${defLength} bytes in a page of ${body.length}`);
      if (spec.optional) levels = definitionLevels(body.subarray(0, defLength), count, spec);
      const data = body.subarray(defLength);
      page = header.isCompressed === false ? data : decompress(chunk, data, header.uncompressedSize - defLength);
    }

    const defined = levels ? countOnes(levels) : count;
    if (header.type === PAGE_DATA_V2 && header.numNulls !== undefined && header.numNulls !== count - defined) {
      throw corrupt(spec, `a page says ${header.numNulls} nulls, its definition levels ${count - defined}`);
    }
    const a = Math.max(from - row, 0);
    const b = Math.min(to - row, count);
    const base = outBase + row;
    if (defined === count && header.encoding === ENCODING_PLAIN && spec.type === 'DOUBLE') {
      // The common case: the window's doubles are the page's bytes, copied as they are.
      if (page.length < count * 8) throw corrupt(spec, `a page of ${count} doubles holds only ${page.length} bytes`);
      new Uint8Array(out.buffer, out.byteOffset + (base + a) * 8, (b - a) * 8).set(page.subarray(a * 8, b * 8));
    } else {
      const pageValues = pageNumbers(page, header.encoding, defined, spec, dictionary);
      if (defined === count) out.set(pageValues.subarray(a, b), base + a);
      else scatter(pageValues, levels!, a, b, out, base, nulls);
    }
    row += count;
  }
}

/** Values [a, b) of a page with nulls: each defined row takes the next value, a null row NaN and a mark. */
function scatter(values: Float64Array, levels: Uint8Array, a: number, b: number, out: Float64Array, base: number, nulls: NullMask): void {
  let k = 0;
  for (let i = 0; i < b; i++) {
    if (levels[i]) {
      if (i >= a) out[base + i] = values[k];
      k++;
    } else if (i >= a) {
      out[base + i] = NaN;
      (nulls.mask ??= new Uint8Array(out.length))[base + i] = 1;
    }
  }
}

function countOnes(levels: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < levels.length; i++) n += levels[i];
  return n;
}

/** The page's `count` non-null values as numbers, from PLAIN bytes or dictionary indices. */
function pageNumbers(page: Uint8Array, encoding: number, count: number, spec: ColumnSpec, dictionary: Float64Array | undefined): Float64Array {
  if (encoding === ENCODING_PLAIN) return plainNumbers(page, count, spec);
  if (encoding !== ENCODING_RLE_DICTIONARY && encoding !== ENCODING_PLAIN_DICTIONARY) throw new Unsupported(`data page encoding ${encoding}`);
  if (!dictionary) throw corrupt(spec, `a dictionary-encoded page without a dictionary page`);
  const values = new Float64Array(count);
  if (count === 0) return values;
  if (page.length < 1) throw corrupt(spec, `a dictionary-encoded page without its index width`);
  const width = page[0];
  if (width > MAX_INDEX_BITS) throw new Unsupported(`dictionary indices of ${width} bits`);
  const indices = new Int32Array(count);
  readHybrid(page, 1, page.length, width, indices, count, spec);
  const size = dictionary.length;
  for (let i = 0; i < count; i++) {
    const index = indices[i];
    if (index >= size) throw corrupt(spec, `dictionary index ${index} past the dictionary's ${size} values`);
    values[i] = dictionary[index];
  }
  return values;
}

/** `count` PLAIN values of the column's physical type as numbers (INT64 rounded as Number(bigint) rounds; strings as category codes). */
function plainNumbers(page: Uint8Array, count: number, spec: ColumnSpec): Float64Array {
  if (spec.type === 'BYTE_ARRAY') return plainCategoryCodes(page, count, spec);
  const size = VALUE_BYTES[spec.type];
  if (count < 0 || page.length < count * size) throw corrupt(spec, `a page of ${count} ${spec.type} values holds only ${page.length} bytes`);
  // Typed views need aligned memory: an unaligned page is copied once.
  const bytes = page.byteOffset % size === 0 ? page : page.slice(0, count * size);
  const { buffer, byteOffset } = bytes;
  if (spec.type === 'DOUBLE') return new Float64Array(buffer, byteOffset, count);
  const out = new Float64Array(count);
  if (spec.type === 'FLOAT') out.set(new Float32Array(buffer, byteOffset, count));
  else if (spec.type === 'INT32') out.set(new Int32Array(buffer, byteOffset, count));
  else {
    // Two 32-bit halves: hi * 2^32 is exact and lo is exact, so their sum rounds once, to nearest even.
    const halves = new Int32Array(buffer, byteOffset, count * 2);
    for (let i = 0; i < count; i++) out[i] = halves[2 * i + 1] * 4294967296 + (halves[2 * i] >>> 0);
  }
  return out;
}

/** `count` PLAIN byte arrays (a 4-byte little-endian length, then the bytes) as category codes, hashed where they lie. */
function plainCategoryCodes(page: Uint8Array, count: number, spec: ColumnSpec): Float64Array {
  const out = new Float64Array(count);
  const texts = spec.texts;
  let pos = 0;
  for (let i = 0; i < count; i++) {
    if (pos + 4 > page.length) throw corrupt(spec, `a page of ${count} strings ends after ${i}`);
    const length = (page[pos] | (page[pos + 1] << 8) | (page[pos + 2] << 16) | (page[pos + 3] << 24)) >>> 0;
    const start = pos + 4;
    const end = start + length;
    if (end > page.length) throw corrupt(spec, `a string of ${length} bytes runs past its page`);
    const code = categoryCodeOfBytes(page, start, end);
    if (texts !== undefined && !texts.has(code)) texts.set(code, categoryTextOf(utf8.decode(page.subarray(start, end))));
    out[i] = code;
    pos = end;
  }
  return out;
}

const utf8 = new TextDecoder();

/** Definition levels of a flat OPTIONAL column (max level 1, so one bit each): 1 = a value, 0 = null. */
function definitionLevels(bytes: Uint8Array, count: number, spec: ColumnSpec): Uint8Array {
  const levels = new Uint8Array(count);
  readHybrid(bytes, 0, bytes.length, 1, levels, count, spec);
  for (let i = 0; i < count; i++) if (levels[i] > 1) throw corrupt(spec, `definition level ${levels[i]} in a flat column`);
  return levels;
}

/** The RLE / bit-packed hybrid encoding: `count` values of `width` bits from bytes[pos, end) into `out`. */
function readHybrid(bytes: Uint8Array, pos: number, end: number, width: number, out: Uint8Array | Int32Array, count: number, spec: ColumnSpec): void {
  const mask = width === 0 ? 0 : (1 << width) - 1;
  const valueBytes = (width + 7) >> 3;
  let seen = 0;
  while (seen < count) {
    // run header: an unsigned varint
    let header = 0;
    let scale = 1;
    for (;;) {
      if (pos >= end) throw corrupt(spec, `run-length data ends after ${seen} of ${count} values`);
      const b = bytes[pos++];
      header += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) break;
      scale *= 128;
      if (scale > 2 ** 35) throw corrupt(spec, `a run header longer than 5 bytes`);
    }
    if (header % 2 === 1) {
      // bit-packed: groups of 8 values, least significant bit first
      const values = ((header - 1) / 2) * 8;
      const need = ((header - 1) / 2) * width;
      if (pos + need > end) throw corrupt(spec, `a bit-packed run of ${values} values runs past its data`);
      const take = Math.min(values, count - seen);
      let buffer = 0;
      let bits = 0;
      let p = pos;
      for (let i = 0; i < take; i++) {
        while (bits < width) {
          buffer |= bytes[p++] << bits;
          bits += 8;
        }
        out[seen++] = buffer & mask;
        buffer >>>= width;
        bits -= width;
      }
      pos += need;
    } else {
      const run = header / 2;
      if (pos + valueBytes > end) throw corrupt(spec, `a run's value runs past its data`);
      let value = 0;
      for (let i = 0; i < valueBytes; i++) value += bytes[pos++] * 2 ** (8 * i);
      if (value > mask) throw corrupt(spec, `a run's value ${value} is wider than ${width} bits`);
      const stop = Math.min(seen + run, count);
      out.fill(value, seen, stop);
      seen = stop;
    }
  }
}

function decompress(chunk: ChunkContext, input: Uint8Array, size: number): Uint8Array {
  const { codec } = chunk;
  let page: Uint8Array;
  if (size < 0) throw corrupt(chunk.spec, `a page of ${size} bytes`);
  if (codec === 'UNCOMPRESSED') page = input;
  else if (codec === 'SNAPPY') {
    page = new Uint8Array(size);
    snappyUncompress(input, page);
  } else {
    const decompressor = chunk.compressors[codec as keyof Compressors];
    if (!decompressor) throw new Unsupported(`codec ${codec}`);
    page = decompressor(input, size);
  }
  if (page.length !== size) throw corrupt(chunk.spec, `a page decompressed to ${page.length} bytes, its header says ${size}`);
  return page;
}
