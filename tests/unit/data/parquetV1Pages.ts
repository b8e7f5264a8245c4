/**
 * Test support: the same Parquet file with version 1 data pages (DATA_PAGE) instead of
 * DATA_PAGE_V2. hyparquet-writer writes only v2 pages; most other writers (pyarrow, Spark) write
 * v1 by default, so the readers must be tested on both. The rewrite keeps every value and the
 * dictionary pages as they are, moves the levels into the (compressed) page body as v1 does, and
 * rewrites the footer's offsets and sizes (the offset indexes, now stale, are dropped).
 */
import { gunzipSync, gzipSync } from 'node:zlib';

// ---- Thrift compact protocol, type-preserving (enough for a footer and page headers) ----

type Value = boolean | bigint | number | Uint8Array | Field[] | List;
interface Field {
  id: number;
  type: number;
  value: Value;
}
interface List {
  elementType: number;
  items: Value[];
}

const BOOL_TRUE = 1;
const BOOL_FALSE = 2;
const LIST = 9;
const STRUCT = 12;

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public at = 0,
  ) {}
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.bytes[this.at++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  zigzag(): bigint {
    const n = this.varint();
    return n & 1n ? -(n >> 1n) - 1n : n >> 1n;
  }
  value(type: number): Value {
    switch (type) {
      case BOOL_TRUE:
      case BOOL_FALSE:
        return this.bytes[this.at++] === BOOL_TRUE;
      case 3:
        return this.bytes[this.at++];
      case 4:
      case 5:
      case 6:
        return this.zigzag();
      case 7: {
        const v = this.bytes.slice(this.at, this.at + 8);
        this.at += 8;
        return v;
      }
      case 8: {
        const n = Number(this.varint());
        const v = this.bytes.slice(this.at, this.at + n);
        this.at += n;
        return v;
      }
      case LIST:
      case 10: {
        const head = this.bytes[this.at++];
        const size = head >> 4 === 15 ? Number(this.varint()) : head >> 4;
        const elementType = head & 0x0f;
        return { elementType, items: Array.from({ length: size }, () => this.value(elementType)) };
      }
      case STRUCT:
        return this.struct();
      default:
        throw new Error(`thrift type ${type} not handled by this test helper`);
    }
  }
  struct(): Field[] {
    const fields: Field[] = [];
    let id = 0;
    for (;;) {
      const head = this.bytes[this.at++];
      const type = head & 0x0f;
      if (type === 0) return fields;
      id = head >> 4 ? id + (head >> 4) : Number(this.zigzag());
      const value = type === BOOL_TRUE || type === BOOL_FALSE ? type === BOOL_TRUE : this.value(type);
      fields.push({ id, type, value });
    }
  }
}

class Writer {
  readonly out: number[] = [];
  varint(n: bigint): void {
    while (n >= 0x80n) {
      this.out.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.out.push(Number(n));
  }
  zigzag(n: bigint): void {
    this.varint(n >= 0n ? n << 1n : (-n << 1n) - 1n);
  }
  value(type: number, value: Value): void {
    switch (type) {
      case BOOL_TRUE:
      case BOOL_FALSE:
        this.out.push(value ? BOOL_TRUE : BOOL_FALSE);
        return;
      case 3:
        this.out.push(value as number);
        return;
      case 4:
      case 5:
      case 6:
        this.zigzag(value as bigint);
        return;
      case 7:
        this.out.push(...(value as Uint8Array));
        return;
      case 8:
        this.varint(BigInt((value as Uint8Array).length));
        this.out.push(...(value as Uint8Array));
        return;
      case LIST:
      case 10: {
        const { elementType, items } = value as List;
        if (items.length < 15) this.out.push((items.length << 4) | elementType);
        else {
          this.out.push(0xf0 | elementType);
          this.varint(BigInt(items.length));
        }
        for (const item of items) this.value(elementType, item);
        return;
      }
      case STRUCT:
        this.struct(value as Field[]);
        return;
      default:
        throw new Error(`thrift type ${type} not handled by this test helper`);
    }
  }
  struct(fields: Field[]): void {
    let last = 0;
    for (const { id, type, value } of [...fields].sort((a, b) => a.id - b.id)) {
      const wire = type === BOOL_TRUE || type === BOOL_FALSE ? (value ? BOOL_TRUE : BOOL_FALSE) : type;
      if (id > last && id - last <= 15) this.out.push(((id - last) << 4) | wire);
      else {
        this.out.push(wire);
        this.zigzag(BigInt(id));
      }
      if (type !== BOOL_TRUE && type !== BOOL_FALSE) this.value(type, value);
      last = id;
    }
    this.out.push(0);
  }
}

const field = (fields: Field[], id: number): Field | undefined => fields.find((f) => f.id === id);
const get = (fields: Field[], id: number): Value | undefined => field(fields, id)?.value;
const i32 = (id: number, n: number): Field => ({ id, type: 5, value: BigInt(n) });
const i64 = (id: number, n: number): Field => ({ id, type: 6, value: BigInt(n) });
function set(fields: Field[], f: Field): void {
  const at = fields.findIndex((x) => x.id === f.id);
  if (at >= 0) fields[at] = f;
  else fields.push(f);
}

// ---- codecs the rewrite recompresses with ----

/** A valid Snappy stream of one literal: what a reader must accept, without a Snappy compressor. */
function snappyLiteral(bytes: Uint8Array): Uint8Array {
  const w = new Writer();
  w.varint(BigInt(bytes.length));
  if (bytes.length === 0) return Uint8Array.from(w.out);
  const n = bytes.length - 1;
  w.out.push(63 << 2, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff);
  const out = new Uint8Array(w.out.length + bytes.length);
  out.set(w.out);
  out.set(bytes, w.out.length);
  return out;
}

const CODEC_UNCOMPRESSED = 0;
const CODEC_SNAPPY = 1;
const CODEC_GZIP = 2;

function compress(codec: number, bytes: Uint8Array): Uint8Array {
  if (codec === CODEC_UNCOMPRESSED) return bytes;
  if (codec === CODEC_SNAPPY) return snappyLiteral(bytes);
  if (codec === CODEC_GZIP) return new Uint8Array(gzipSync(bytes));
  throw new Error(`codec ${codec} not handled by this test helper`);
}

function gunzipOrSame(codec: number, bytes: Uint8Array): Uint8Array {
  if (codec === CODEC_UNCOMPRESSED) return bytes;
  if (codec === CODEC_GZIP) return new Uint8Array(gunzipSync(bytes));
  throw new Error('write the v2 file UNCOMPRESSED or GZIP; the v1 file may then be SNAPPY');
}

/**
 * `file` (written with DATA_PAGE_V2 pages, UNCOMPRESSED or GZIP) with v1 pages compressed by
 * `codec` ('SNAPPY' as one literal run), levels RLE-encoded with their 4-byte length as v1 has them.
 */
export function withDataPageV1(file: Uint8Array, codec: 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP'): Uint8Array {
  const newCodec = { UNCOMPRESSED: CODEC_UNCOMPRESSED, SNAPPY: CODEC_SNAPPY, GZIP: CODEC_GZIP }[codec];
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const footerLength = view.getUint32(file.length - 8, true);
  const footer = new Reader(file.subarray(file.length - 8 - footerLength, file.length - 8)).struct();
  const parts: Uint8Array[] = [new TextEncoder().encode('PAR1')];
  let offset = 4;

  for (const group of (get(footer, 4) as List).items as Field[][]) {
    const groupStart = offset;
    for (const chunk of (get(group, 1) as List).items as Field[][]) {
      const meta = get(chunk, 3) as Field[];
      const oldCodec = Number(get(meta, 4));
      const start = Number(get(meta, 11) ?? get(meta, 9));
      const end = start + Number(get(meta, 7));
      const chunkStart = offset;
      let uncompressedTotal = 0;
      let dataPageOffset = -1;
      for (let at = start; at < end; ) {
        const r = new Reader(file, at);
        const header = r.struct();
        const body = file.subarray(r.at, r.at + Number(get(header, 3)));
        at = r.at + body.length;
        let newHeader: Field[];
        let newBody: Uint8Array;
        const type = Number(get(header, 1));
        if (type === 3) {
          const v2 = get(header, 8) as Field[];
          const defLength = Number(get(v2, 5) ?? 0n);
          if (Number(get(v2, 6) ?? 0n) !== 0) throw new Error('flat columns only');
          const values = get(v2, 7) === false ? body.subarray(defLength) : gunzipOrSame(oldCodec, body.subarray(defLength));
          const plain = new Uint8Array((defLength ? 4 + defLength : 0) + values.length);
          if (defLength) {
            new DataView(plain.buffer).setUint32(0, defLength, true);
            plain.set(body.subarray(0, defLength), 4);
          }
          plain.set(values, defLength ? 4 + defLength : 0);
          newBody = compress(newCodec, plain);
          const v1: Field[] = [i32(1, Number(get(v2, 1))), i32(2, Number(get(v2, 4))), i32(3, 3), i32(4, 3)];
          newHeader = [i32(1, 0), i32(2, plain.length), i32(3, newBody.length), { id: 5, type: STRUCT, value: v1 }];
          if (dataPageOffset < 0) dataPageOffset = offset;
        } else if (type === 2) {
          const plain = gunzipOrSame(oldCodec, body);
          newBody = compress(newCodec, plain);
          newHeader = [i32(1, 2), i32(2, plain.length), i32(3, newBody.length), field(header, 7)!];
        } else throw new Error(`page type ${type} not handled by this test helper`);
        const w = new Writer();
        w.struct(newHeader);
        const headerBytes = Uint8Array.from(w.out);
        parts.push(headerBytes, newBody);
        offset += headerBytes.length + newBody.length;
        uncompressedTotal += headerBytes.length + Number(get(newHeader, 2));
      }
      set(meta, i32(4, newCodec));
      set(meta, i64(6, uncompressedTotal));
      set(meta, i64(7, offset - chunkStart));
      set(meta, i64(9, dataPageOffset));
      if (field(meta, 11)) set(meta, i64(11, chunkStart));
      // encoding_stats (13) name v2 pages: dropped, as are the now stale page indexes.
      const kept = meta.filter((f) => f.id !== 13);
      meta.splice(0, meta.length, ...kept);
      const keptChunk = chunk.filter((f) => f.id < 4 || f.id > 7);
      chunk.splice(0, chunk.length, ...keptChunk);
      set(chunk, i64(2, chunkStart));
    }
    set(group, i64(2, offset - groupStart));
    const keptGroup = group.filter((f) => f.id !== 5 && f.id !== 6);
    group.splice(0, group.length, ...keptGroup);
  }
  const w = new Writer();
  w.struct(footer);
  const tail = new Uint8Array(8);
  new DataView(tail.buffer).setUint32(0, w.out.length, true);
  tail.set(new TextEncoder().encode('PAR1'), 4);
  parts.push(Uint8Array.from(w.out), tail);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
