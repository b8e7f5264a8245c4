/**
 * A Parquet page header (Thrift compact protocol), read with just the fields a flat column's
 * decoder needs; every other field, statistics included, is skipped by its wire type.
 */

export const PAGE_DATA = 0;
export const PAGE_DICTIONARY = 2;
export const PAGE_DATA_V2 = 3;

export const ENCODING_PLAIN = 0;
export const ENCODING_PLAIN_DICTIONARY = 2;
export const ENCODING_RLE = 3;
export const ENCODING_RLE_DICTIONARY = 8;

export interface PageHeader {
  type: number;
  uncompressedSize: number;
  compressedSize: number;
  /** Values in the page, nulls included (DATA_PAGE, DATA_PAGE_V2, DICTIONARY_PAGE). */
  numValues: number;
  encoding: number;
  /** DATA_PAGE only: how its definition levels are encoded. */
  definitionLevelEncoding?: number;
  /** DATA_PAGE_V2 only. */
  numNulls?: number;
  numRows?: number;
  definitionLevelsLength?: number;
  repetitionLevelsLength?: number;
  isCompressed?: boolean;
}

// Compact protocol wire types.
const T_TRUE = 1;
const T_FALSE = 2;
const T_BYTE = 3;
const T_I16 = 4;
const T_I32 = 5;
const T_I64 = 6;
const T_DOUBLE = 7;
const T_BINARY = 8;
const T_LIST = 9;
const T_SET = 10;
const T_MAP = 11;
const T_STRUCT = 12;

/** Thrown for bytes that are not a page header; the caller says where. */
export class PageHeaderError extends Error {}

class CompactReader {
  constructor(
    private readonly bytes: Uint8Array,
    public offset: number,
  ) {}

  byte(): number {
    if (this.offset >= this.bytes.length) throw new PageHeaderError('page header runs past the end of the column chunk');
    return this.bytes[this.offset++];
  }

  /** An unsigned varint up to 2^53 (page sizes and counts are i32; i64 fields are skipped). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new PageHeaderError('varint longer than 10 bytes');
  }

  i32(): number {
    const n = this.varint();
    // zigzag: n is below 2^32 for a valid i32
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  skip(type: number, depth = 0): void {
    if (depth > 16) throw new PageHeaderError('page header nested too deep');
    switch (type) {
      case T_TRUE:
      case T_FALSE:
        return;
      case T_BYTE:
        this.byte();
        return;
      case T_I16:
      case T_I32:
      case T_I64:
        this.varint();
        return;
      case T_DOUBLE:
        this.advance(8);
        return;
      case T_BINARY:
        this.advance(this.varint());
        return;
      case T_LIST:
      case T_SET: {
        const head = this.byte();
        const size = head >> 4 === 15 ? this.varint() : head >> 4;
        for (let i = 0; i < size; i++) this.skip(head & 0x0f, depth + 1);
        return;
      }
      case T_MAP: {
        const size = this.varint();
        if (size === 0) return;
        const types = this.byte();
        for (let i = 0; i < size; i++) {
          this.skip(types >> 4, depth + 1);
          this.skip(types & 0x0f, depth + 1);
        }
        return;
      }
      case T_STRUCT:
        this.struct(() => false, depth + 1);
        return;
      default:
        throw new PageHeaderError(`unknown Thrift type ${type} in page header`);
    }
  }

  private advance(n: number): void {
    if (this.offset + n > this.bytes.length) throw new PageHeaderError('page header runs past the end of the column chunk');
    this.offset += n;
  }

  /** Reads a struct's fields, handing each (id, type) to `field`, which reads it and returns true, or returns false to skip it. */
  struct(field: (id: number, type: number) => boolean, depth = 0): void {
    let id = 0;
    for (;;) {
      const head = this.byte();
      const type = head & 0x0f;
      if (type === 0) return; // stop
      const delta = head >> 4;
      id = delta === 0 ? this.i32() : id + delta;
      if (!field(id, type)) this.skip(type, depth);
    }
  }
}

/** The page header starting at `offset` in `bytes`, and where the page's data starts. */
export function readPageHeader(bytes: Uint8Array, offset: number): { header: PageHeader; dataOffset: number } {
  const r = new CompactReader(bytes, offset);
  const header: PageHeader = { type: -1, uncompressedSize: -1, compressedSize: -1, numValues: -1, encoding: -1 };
  const i32 = (type: number): number => {
    if (type !== T_I32) throw new PageHeaderError(`page header field of Thrift type ${type} where an i32 belongs`);
    return r.i32();
  };
  r.struct((id, type) => {
    if (id === 1) header.type = i32(type);
    else if (id === 2) header.uncompressedSize = i32(type);
    else if (id === 3) header.compressedSize = i32(type);
    else if (id === 5 && type === T_STRUCT) {
      r.struct((f, t) => {
        if (f === 1) header.numValues = i32(t);
        else if (f === 2) header.encoding = i32(t);
        else if (f === 3) header.definitionLevelEncoding = i32(t);
        else return false;
        return true;
      });
    } else if (id === 7 && type === T_STRUCT) {
      r.struct((f, t) => {
        if (f === 1) header.numValues = i32(t);
        else if (f === 2) header.encoding = i32(t);
        else return false;
        return true;
      });
    } else if (id === 8 && type === T_STRUCT) {
      r.struct((f, t) => {
        if (f === 1) header.numValues = i32(t);
        else if (f === 2) header.numNulls = i32(t);
        else if (f === 3) header.numRows = i32(t);
        else if (f === 4) header.encoding = i32(t);
        else if (f === 5) header.definitionLevelsLength = i32(t);
        else if (f === 6) header.repetitionLevelsLength = i32(t);
        else if (f === 7 && (t === T_TRUE || t === T_FALSE)) header.isCompressed = t === T_TRUE;
        else return false;
        return true;
      });
    } else return false;
    return true;
  });
  if (header.type < 0 || header.uncompressedSize < 0 || header.compressedSize < 0) {
    throw new PageHeaderError(`page header without a valid type or sizes (type ${header.type}, ${header.compressedSize} bytes, ${header.uncompressedSize} uncompressed)`);
  }
  return { header, dataOffset: r.offset };
}
