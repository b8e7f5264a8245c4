/**
 * The model file format (version 1). Any Detector's state becomes one self-checking blob:
 *
 *   offset  size  field
 *   0       4     magic "NMLY"
 *   4       2     format version, uint16 LE (1)
 *   6       2     reserved, 0
 *   8       8     total file length in bytes, uint64 LE (tells a truncated file from a corrupt one)
 *   16      4     header length H, uint32 LE
 *   20      H     UTF-8 JSON header: {algorithm, nFeatures, threshold, params, sections:[{name, dtype, length}],
 *                 settings?: {name: string}, children?: [header, ...]}
 *   ...           zero padding to a multiple of 8
 *   ...           each section's raw little-endian elements, each starting 8-byte aligned, zero padded
 *   end-32  32    SHA-256 of every byte before it
 *
 * A file may carry attachments beside its detector (the root header's `attachments`, same shape
 * as `sections`, laid out after every detector section): what the platform keeps with a model
 * but the detector does not use to score, such as calibration scores (src/scoring/modelFile.ts).
 * A file without them has no such key, so its bytes are what they were before attachments.
 *
 * Composite detectors (pipeline, ensemble) nest: a header entry may carry `children`, each a
 * header entry of the same shape (at most MAX_MODEL_DEPTH levels), and `settings` (string
 * values, e.g. a standardiser kind). Sections are laid out depth first: a node's own sections,
 * then each child's in order. A plain detector's header has neither key, so its files are
 * byte-for-byte what they were before composites existed. An unknown algorithm anywhere in the
 * tree is reported as 'unknown-algorithm', naming where it sits.
 *
 * The checksum is verified before the version is interpreted, so a damaged version field is
 * reported as corruption and a genuine file from a newer build as an unsupported version.
 * Encoding is deterministic: the same detector always yields the same bytes.
 */
import { createHash } from 'node:crypto';
import { Detector, DetectorState, SectionArray, StateSection } from './detector';
import { DetectorFactory, findDetectorFactory, supportedAlgorithms } from './registry';

export const MODEL_FORMAT_VERSION = 1;

const MAGIC = [0x4e, 0x4d, 0x4c, 0x59]; // "NMLY"
const PREFIX_BYTES = 20;
const CHECKSUM_BYTES = 32;
const ALIGN = 8;

export type ModelCodecErrorReason =
  | 'not-a-model'
  | 'truncated'
  | 'corrupt'
  | 'unsupported-version'
  | 'unknown-algorithm'
  | 'invalid';

/** A model file that cannot be read (or a detector state that cannot be written). */
export class ModelCodecError extends Error {
  constructor(
    message: string,
    readonly reason: ModelCodecErrorReason,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ModelCodecError';
  }
}

type SectionConstructor = { new (buffer: ArrayBuffer, byteOffset: number, length: number): SectionArray; readonly BYTES_PER_ELEMENT: number };

const DTYPES: Readonly<Record<string, SectionConstructor>> = {
  float64: Float64Array,
  float32: Float32Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
};

function dtypeOf(data: SectionArray): string | undefined {
  for (const [name, type] of Object.entries(DTYPES)) {
    if (data.constructor === type) return name;
  }
  return undefined;
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses each element's bytes in place; only needed on big-endian hosts. */
function swapBytes(bytes: Uint8Array, elementSize: number): void {
  if (HOST_IS_LITTLE_ENDIAN || elementSize === 1) return;
  for (let i = 0; i < bytes.length; i += elementSize) bytes.subarray(i, i + elementSize).reverse();
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

function sha256(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest();
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

interface HeaderSection {
  readonly name: string;
  readonly dtype: string;
  readonly length: number;
}

/** One detector's header entry; a composite's children nest recursively. */
interface ModelHeader {
  readonly algorithm: string;
  readonly nFeatures: number;
  readonly threshold: number;
  readonly params: Record<string, number>;
  readonly sections: HeaderSection[];
  readonly settings?: Record<string, string>;
  readonly children?: ModelHeader[];
  /** Root only: sections kept beside the detector. */
  readonly attachments?: HeaderSection[];
}

/** Composites nest a few levels (an ensemble of pipelines); anything deeper is a crafted file. */
export const MAX_MODEL_DEPTH = 8;

/** Where a node sits in the tree, for messages: '' for the root, else e.g. ' (in children[1].children[0])'. */
function whereIs(path: string): string {
  return path === '' ? '' : ` (in ${path})`;
}

function childPath(path: string, index: number): string {
  return `${path === '' ? '' : `${path}.`}children[${index}]`;
}

function checkState(state: DetectorState, path = '', depth = 0): void {
  const invalid = (why: string): never => {
    throw new ModelCodecError(`cannot encode model: ${why}${whereIs(path)}`, 'invalid');
  };
  if (depth >= MAX_MODEL_DEPTH) invalid(`detectors are nested more than ${MAX_MODEL_DEPTH} levels deep`);
  if (typeof state.algorithm !== 'string' || state.algorithm === '') invalid('algorithm name is empty');
  if (!Number.isSafeInteger(state.nFeatures) || state.nFeatures < 0) invalid(`nFeatures is ${state.nFeatures}`);
  // JSON cannot carry NaN/Infinity, and -0 would come back as 0: both would break round trips.
  if (!Number.isFinite(state.threshold) || Object.is(state.threshold, -0)) invalid(`threshold is ${state.threshold}`);
  for (const [name, value] of Object.entries(state.params)) {
    if (!Number.isFinite(value) || Object.is(value, -0)) invalid(`param "${name}" is ${value}`);
  }
  for (const [name, value] of Object.entries(state.settings ?? {})) {
    if (name === '') invalid('a setting has an empty name');
    if (typeof value !== 'string') invalid(`setting "${name}" is not a string`);
  }
  const names = new Set<string>();
  for (const section of state.sections) {
    if (typeof section.name !== 'string' || section.name === '') invalid('a section has an empty name');
    if (names.has(section.name)) invalid(`section "${section.name}" appears twice`);
    names.add(section.name);
    if (dtypeOf(section.data) === undefined) invalid(`section "${section.name}" has an unsupported array type`);
  }
  (state.children ?? []).forEach((child, i) => checkState(child, childPath(path, i), depth + 1));
}

/**
 * The header entry for a state. Keys come in a fixed order and `settings`/`children` appear only
 * when non-empty, so a plain detector's header (and bytes) is exactly what it was before
 * composites existed.
 */
function headerOf(state: DetectorState): ModelHeader {
  const settings = state.settings ?? {};
  const children = state.children ?? [];
  return {
    algorithm: state.algorithm,
    nFeatures: state.nFeatures,
    threshold: state.threshold,
    params: { ...state.params },
    sections: state.sections.map((s) => ({ name: s.name, dtype: dtypeOf(s.data) as string, length: s.data.length })),
    ...(Object.keys(settings).length > 0 ? { settings: { ...settings } } : {}),
    ...(children.length > 0 ? { children: children.map(headerOf) } : {}),
  };
}

/** Every section in file order: a node's own, then each child's (depth first, pre-order). */
function sectionsInOrder(state: DetectorState, into: StateSection[] = []): StateSection[] {
  into.push(...state.sections);
  for (const child of state.children ?? []) sectionsInOrder(child, into);
  return into;
}

export function encodeModel(detector: Detector, attachments: StateSection[] = []): Uint8Array {
  const state = detector.toState();
  checkState(state);
  checkState({ algorithm: 'attachments', nFeatures: 0, threshold: 0, params: {}, sections: attachments });
  const header: ModelHeader = {
    ...headerOf(state),
    ...(attachments.length > 0 ? { attachments: attachments.map((s) => ({ name: s.name, dtype: dtypeOf(s.data) as string, length: s.data.length })) } : {}),
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const allSections = [...sectionsInOrder(state), ...attachments];

  const offsets: number[] = [];
  let cursor = alignUp(PREFIX_BYTES + headerBytes.length);
  for (const section of allSections) {
    offsets.push(cursor);
    cursor = alignUp(cursor + section.data.byteLength);
  }
  const total = cursor + CHECKSUM_BYTES;

  const out = new Uint8Array(total); // zero-filled, so padding is deterministic
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint16(4, MODEL_FORMAT_VERSION, true);
  view.setUint16(6, 0, true);
  view.setBigUint64(8, BigInt(total), true);
  view.setUint32(16, headerBytes.length, true);
  out.set(headerBytes, PREFIX_BYTES);
  allSections.forEach((section, i) => {
    const { data } = section;
    const target = out.subarray(offsets[i], offsets[i] + data.byteLength);
    target.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    swapBytes(target, data.BYTES_PER_ELEMENT);
  });
  out.set(sha256(out.subarray(0, total - CHECKSUM_BYTES)), total - CHECKSUM_BYTES);
  return out;
}

function checkHeaderNode(raw: unknown, path: string, depth: number): ModelHeader {
  const invalid = (why: string): never => {
    throw new ModelCodecError(`model file header is invalid: ${why}${whereIs(path)}`, 'invalid');
  };
  if (depth >= MAX_MODEL_DEPTH) invalid(`detectors are nested more than ${MAX_MODEL_DEPTH} levels deep`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return invalid('not a JSON object');
  const h = raw as Record<string, unknown>;
  if (typeof h.algorithm !== 'string') invalid('"algorithm" is not a string');
  if (typeof h.nFeatures !== 'number' || !Number.isSafeInteger(h.nFeatures) || h.nFeatures < 0) {
    invalid('"nFeatures" is not a non-negative integer');
  }
  if (typeof h.threshold !== 'number') invalid('"threshold" is not a number');
  if (typeof h.params !== 'object' || h.params === null || Array.isArray(h.params)) invalid('"params" is not an object');
  for (const [name, value] of Object.entries(h.params as Record<string, unknown>)) {
    if (typeof value !== 'number') invalid(`param "${name}" is not a number`);
  }
  if (h.settings !== undefined) {
    if (typeof h.settings !== 'object' || h.settings === null || Array.isArray(h.settings)) invalid('"settings" is not an object');
    for (const [name, value] of Object.entries(h.settings as Record<string, unknown>)) {
      if (typeof value !== 'string') invalid(`setting "${name}" is not a string`);
    }
  }
  checkSectionList(h.sections, 'section', invalid);
  if (h.attachments !== undefined) {
    if (depth > 0) invalid('"attachments" belong to the root only');
    checkSectionList(h.attachments, 'attachment', invalid);
  }
  if (h.children !== undefined) {
    if (!Array.isArray(h.children)) invalid('"children" is not an array');
    (h.children as unknown[]).forEach((child, i) => checkHeaderNode(child, childPath(path, i), depth + 1));
  }
  return h as unknown as ModelHeader;
}

function checkSectionList(list: unknown, kind: string, invalid: (why: string) => never): void {
  if (!Array.isArray(list)) invalid(`"${kind}s" is not an array`);
  for (const s of list as unknown[]) {
    const section = s as Partial<HeaderSection> | null;
    if (typeof section !== 'object' || section === null || typeof section.name !== 'string') {
      invalid(`a ${kind} has no name`);
    }
    const name = (section as HeaderSection).name;
    if (typeof section?.dtype !== 'string' || !Object.prototype.hasOwnProperty.call(DTYPES, section.dtype)) {
      invalid(`${kind} "${name}" has an unknown dtype`);
    }
    if (typeof section?.length !== 'number' || !Number.isSafeInteger(section.length) || section.length < 0) {
      invalid(`${kind} "${name}" has an invalid length`);
    }
  }
}

function parseHeader(bytes: Uint8Array): ModelHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new ModelCodecError('model file header is not valid UTF-8 JSON', 'invalid', { cause: error });
  }
  return checkHeaderNode(raw, '', 0);
}

/** Fails with 'unknown-algorithm' if any node, root or nested, names an algorithm this build lacks. */
function checkAlgorithms(header: ModelHeader, path: string): void {
  if (!findDetectorFactory(header.algorithm)) {
    throw new ModelCodecError(
      `model uses algorithm "${header.algorithm}"${whereIs(path)}, which this build does not support ` +
        `(supported: ${supportedAlgorithms().join(', ')})`,
      'unknown-algorithm',
    );
  }
  (header.children ?? []).forEach((child, i) => checkAlgorithms(child, childPath(path, i)));
}

export function decodeModel(bytes: Uint8Array): Detector {
  return decodeModelWithAttachments(bytes).detector;
}

/** The detector and the attachments kept beside it (empty for a file that has none). */
export function decodeModelWithAttachments(bytes: Uint8Array): { detector: Detector; attachments: Map<string, SectionArray> } {
  const actual = bytes.length;
  for (let i = 0; i < MAGIC.length; i++) {
    if (i >= actual) {
      throw new ModelCodecError(
        `model file is truncated: expected at least ${PREFIX_BYTES + CHECKSUM_BYTES} bytes, got ${actual}`,
        'truncated',
      );
    }
    if (bytes[i] !== MAGIC[i]) {
      throw new ModelCodecError(
        `not a Nomaly model file: expected it to start with "NMLY", found bytes ${hex(bytes.subarray(0, 4))}`,
        'not-a-model',
      );
    }
  }
  if (actual < PREFIX_BYTES + CHECKSUM_BYTES) {
    throw new ModelCodecError(
      `model file is truncated: expected at least ${PREFIX_BYTES + CHECKSUM_BYTES} bytes, got ${actual}`,
      'truncated',
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(8, true);
  if (declared > BigInt(actual)) {
    throw new ModelCodecError(`model file is truncated: expected ${declared} bytes, got ${actual}`, 'truncated');
  }
  if (declared < BigInt(actual)) {
    throw new ModelCodecError(
      `model file has ${BigInt(actual) - declared} unexpected bytes after its end (expected ${declared} bytes, got ${actual})`,
      'corrupt',
    );
  }
  const body = bytes.subarray(0, actual - CHECKSUM_BYTES);
  const stored = bytes.subarray(actual - CHECKSUM_BYTES);
  const computed = sha256(body);
  if (!Buffer.from(computed).equals(Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength))) {
    throw new ModelCodecError(
      `model file is corrupt: SHA-256 checksum mismatch (stored ${hex(stored)}, computed ${hex(computed)})`,
      'corrupt',
    );
  }
  const version = view.getUint16(4, true);
  if (version !== MODEL_FORMAT_VERSION) {
    throw new ModelCodecError(
      `unsupported model format version ${version}: this build reads format version ${MODEL_FORMAT_VERSION}`,
      'unsupported-version',
    );
  }

  const headerLength = view.getUint32(16, true);
  if (PREFIX_BYTES + headerLength > body.length) {
    throw new ModelCodecError('model file header is invalid: header length runs past the end', 'invalid');
  }
  const header = parseHeader(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength));

  let cursor = alignUp(PREFIX_BYTES + headerLength);
  /** The next sections of the file, in the order encodeModel wrote them. */
  const readSections = (list: HeaderSection[], path: string): StateSection[] => {
    const sections: StateSection[] = [];
    const names = new Set<string>();
    for (const { name, dtype, length } of list) {
      if (names.has(name)) {
        throw new ModelCodecError(`model file header is invalid: section "${name}" appears twice${whereIs(path)}`, 'invalid');
      }
      names.add(name);
      const type = DTYPES[dtype];
      const byteLength = length * type.BYTES_PER_ELEMENT;
      if (cursor + byteLength > body.length) {
        throw new ModelCodecError(`model file header is invalid: section "${name}" runs past the end${whereIs(path)}`, 'invalid');
      }
      // Copy into a fresh buffer: the input may sit at any alignment and the caller may reuse it.
      // (Uint8Array's slice, not Buffer's: Buffer#slice is a view into a possibly pooled buffer.)
      const copy = Uint8Array.prototype.slice.call(bytes, cursor, cursor + byteLength);
      swapBytes(copy, type.BYTES_PER_ELEMENT);
      sections.push({ name, data: new type(copy.buffer, 0, length) });
      cursor = alignUp(cursor + byteLength);
    }
    return sections;
  };
  // Reads one node's sections, then its children's.
  const readNode = (node: ModelHeader, path: string): DetectorState => {
    const sections = readSections(node.sections, path);
    const children = (node.children ?? []).map((child, i) => readNode(child, childPath(path, i)));
    return {
      algorithm: node.algorithm,
      nFeatures: node.nFeatures,
      threshold: node.threshold,
      params: Object.freeze({ ...node.params }),
      sections,
      ...(node.settings !== undefined ? { settings: Object.freeze({ ...node.settings }) } : {}),
      ...(node.children !== undefined ? { children } : {}),
    };
  };
  const state = readNode(header, '');
  const attachments = new Map(readSections(header.attachments ?? [], 'attachments').map((s) => [s.name, s.data] as const));
  if (cursor !== body.length) {
    throw new ModelCodecError('model file header is invalid: sections do not fill the file', 'invalid');
  }

  checkAlgorithms(header, '');
  const factory = findDetectorFactory(header.algorithm) as DetectorFactory;
  try {
    return { detector: factory.fromState(state), attachments };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ModelCodecError(`model file content is invalid: ${why}`, 'invalid', { cause: error });
  }
}
