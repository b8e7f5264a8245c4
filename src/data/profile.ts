/**
 * What registration stores about a dataset, computed batch by batch in one pass: each column's
 * role and type (schemaInference.ts), and per column min, max, mean and null count (for the
 * label also the count of 1s; for categories the cardinality and top values; for timestamps
 * the first and last instant), so the registry can show a dataset without reading it again.
 */
import type { FeatureCellType } from './cellValues';
import { checkColumns } from './columnRules';
import { readCellType, type ColumnType } from './schemaInference';
import type { DatasetTable } from './table';

export type { ColumnType } from './schemaInference';

/** `excluded`: a text column, not a feature (its `note` says why). */
export type ColumnRole = 'feature' | 'label' | 'id' | 'excluded';

export interface ColumnProfile {
  name: string;
  role: ColumnRole;
  /** The feature's type; `number` for the label, `text` for the id column and excluded columns. */
  type: ColumnType;
  /** Numbers (epoch milliseconds for a timestamp); null for ids, categories, text, and a feature whose every value is missing. */
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Missing cells: a feature's missing values (missingValues.ts), empty id cells; a label cell is never missing, or the file is refused. */
  nullCount: number;
  /** Label column: rows labelled 1. */
  positives?: number;
  /** Category and text columns: distinct values (a lower bound when `cardinalityAtLeast`: counting stops at MAX_TRACKED_DISTINCT). */
  cardinality?: number;
  cardinalityAtLeast?: boolean;
  /** Category columns: the most frequent values, most frequent first (at most TOP_VALUES). */
  topValues?: Array<{ value: string; count: number }>;
  /** Timestamp columns: the first and last instant, ISO 8601 in UTC. */
  minTime?: string | null;
  maxTime?: string | null;
  /** Why a column is excluded, or what is odd about it (every value missing). */
  note?: string;
}

export interface DatasetProfile {
  header: string[];
  /** The columns a model may take as features: every column but the label, the id and text columns. */
  featureColumns: string[];
  labelColumn: string | null;
  idColumn: string | null;
  rows: number;
  columns: ColumnProfile[];
  /** The feature columns that are not numbers, and how they are read (cellValues.ts); a column not named is a number. */
  cellTypes: Record<string, FeatureCellType>;
}

/** Distinct values counted exactly per column, at most: beyond it the count says "at least". */
export const MAX_TRACKED_DISTINCT = 100_000;
export const TOP_VALUES = 10;

/**
 * The cell types of a stored profile's features: from each column's type, so a profile written
 * before types existed (every feature `number`) reads as all numbers.
 */
export function cellTypesOf(columns: readonly Pick<ColumnProfile, 'name' | 'role' | 'type'>[]): Record<string, FeatureCellType> {
  // fromEntries defines own properties: a column named __proto__ is a key like any other.
  return Object.fromEntries(columns.filter((c) => c.role === 'feature' && readCellType(c.type) !== 'number').map((c) => [c.name, readCellType(c.type)]));
}

/** Distinct codes with their counts, bounded; the texts only of the codes a profile shows. */
class DistinctCounter {
  readonly counts = new Map<number, number>();
  readonly texts = new Map<number, string>();
  full = false;

  constructor(private readonly keepTexts: boolean) {}

  add(code: number, texts: ReadonlyMap<number, string> | undefined): void {
    const n = this.counts.get(code);
    if (n !== undefined) this.counts.set(code, n + 1);
    else if (this.counts.size < MAX_TRACKED_DISTINCT) {
      this.counts.set(code, 1);
      if (this.keepTexts) this.texts.set(code, texts?.get(code) ?? String(code));
    } else this.full = true;
  }

  top(): Array<{ value: string; count: number }> {
    return [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, TOP_VALUES).map(([code, count]) => ({ value: this.texts.get(code) ?? String(code), count }));
  }
}

/** ISO 8601 of epoch milliseconds, or null beyond what a Date holds (±100,000,000 days). */
function isoTime(ms: number): string | null {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : null;
}

export class DatasetProfiler {
  private header?: string[];
  private featureColumns: string[] = [];
  private labelColumn: string | null = null;
  private idColumn: string | null = null;
  private rows = 0;
  private types: ColumnType[] = [];
  private min = new Float64Array(0);
  private max = new Float64Array(0);
  private sum = new Float64Array(0);
  private nulls = new Float64Array(0);
  /** Per feature: a value that is not whole / not 0 or 1 was seen (an integer or boolean column is then a number). */
  private fractional = new Uint8Array(0);
  private nonBinary = new Uint8Array(0);
  private distinct: Array<DistinctCounter | undefined> = [];
  private positives = 0;
  private idNulls = 0;

  /** `types`: the inferred types of the feature columns (schemaInference.ts); a column not named is a number. */
  constructor(private readonly schema: Readonly<Record<string, ColumnType>> = {}) {}

  /** Adds a batch of rows; the first one's header must be within the column rules (columnRules.ts). */
  add(table: DatasetTable): void {
    if (!this.header) {
      checkColumns(table.header);
      this.header = table.header;
      this.featureColumns = table.featureColumns;
      this.labelColumn = table.labelColumn ?? null;
      this.idColumn = table.idColumn ?? null;
      const d = table.featureColumns.length;
      this.types = table.featureColumns.map((name) => this.schema[name] ?? 'number');
      this.min = new Float64Array(d).fill(Infinity);
      this.max = new Float64Array(d).fill(-Infinity);
      this.sum = new Float64Array(d);
      this.nulls = new Float64Array(d);
      this.fractional = new Uint8Array(d);
      this.nonBinary = new Uint8Array(d);
      this.distinct = this.types.map((t) => (t === 'category' || t === 'text' ? new DistinctCounter(t === 'category') : undefined));
    }
    const { rows, cols, data } = table.features;
    const { min, max, sum, nulls, fractional, nonBinary } = this;
    for (let c = 0; c < cols; c++) {
      const counter = this.distinct[c];
      for (let r = 0, o = c; r < rows; r++, o += cols) {
        const v = data[o];
        if (v !== v) {
          nulls[c]++; // a missing value: NaN
          continue;
        }
        if (counter) {
          counter.add(v, table.categoryText);
          continue;
        }
        if (v < min[c]) min[c] = v;
        if (v > max[c]) max[c] = v;
        sum[c] += v;
        if (v !== Math.floor(v)) fractional[c] = 1;
        if (v !== 0 && v !== 1) nonBinary[c] = 1;
      }
    }
    if (table.labels) for (let i = 0; i < table.labels.length; i++) this.positives += table.labels[i];
    if (table.ids) for (const id of table.ids) if (id.trim() === '') this.idNulls++;
    this.rows += rows;
  }

  result(): DatasetProfile {
    const header = this.header ?? [];
    const columns: ColumnProfile[] = header.map((name) => {
      const f = this.featureColumns.indexOf(name);
      if (f >= 0) return this.featureProfile(name, f);
      if (name === this.labelColumn) {
        return { name, role: 'label', type: 'number', min: this.positives < this.rows ? 0 : 1, max: this.positives > 0 ? 1 : 0, mean: this.rows ? this.positives / this.rows : null, nullCount: 0, positives: this.positives };
      }
      return { name, role: 'id', type: 'text', min: null, max: null, mean: null, nullCount: this.idNulls };
    });
    return {
      header,
      featureColumns: columns.filter((c) => c.role === 'feature').map((c) => c.name),
      labelColumn: this.labelColumn,
      idColumn: this.idColumn,
      rows: this.rows,
      columns,
      cellTypes: cellTypesOf(columns),
    };
  }

  private featureProfile(name: string, f: number): ColumnProfile {
    const nullCount = this.nulls[f];
    const present = this.rows - nullCount;
    const counter = this.distinct[f];
    let type = this.types[f];
    if (counter) {
      const profile: ColumnProfile = { name, role: 'feature', type, min: null, max: null, mean: null, nullCount, cardinality: counter.counts.size };
      if (counter.full) profile.cardinalityAtLeast = true;
      if (type === 'text') return { ...profile, role: 'excluded', note: 'free text (too many distinct values for a category): not a feature' };
      profile.topValues = counter.top();
      return profile;
    }
    // The whole file decides what the sample suggested: a fraction makes an integer column a number, a 2 a boolean one.
    if ((type === 'integer' || type === 'boolean') && this.fractional[f]) type = 'number';
    if (type === 'boolean' && this.nonBinary[f]) type = 'integer';
    const profile: ColumnProfile = {
      name,
      role: 'feature',
      type,
      min: present > 0 ? this.min[f] : null,
      max: present > 0 ? this.max[f] : null,
      mean: present > 0 && type !== 'timestamp' ? this.sum[f] / present : null,
      nullCount,
    };
    if (type === 'timestamp') {
      profile.minTime = present > 0 ? isoTime(this.min[f]) : null;
      profile.maxTime = present > 0 ? isoTime(this.max[f]) : null;
    }
    if (present === 0 && this.rows > 0) profile.note = 'every value is missing';
    return profile;
  }
}
