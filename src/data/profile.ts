/**
 * What registration stores about a dataset, computed batch by batch in one pass: each column's
 * role and type, and per column min, max, mean and null count (for the label also the count of
 * 1s), so the registry can show a dataset without reading it again.
 */
import { checkColumns } from './columnRules';
import type { DatasetTable } from './table';

export type ColumnRole = 'feature' | 'label' | 'id';

export interface ColumnProfile {
  name: string;
  role: ColumnRole;
  /** `number` for features and the label; `text` for the id column. */
  type: 'number' | 'text';
  /** null for the id column, and for a feature whose every value is missing. */
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Missing cells: a feature's missing values (missingValues.ts), empty id cells; a label cell is never missing, or the file is refused. */
  nullCount: number;
  /** Label column: rows labelled 1. */
  positives?: number;
}

export interface DatasetProfile {
  header: string[];
  featureColumns: string[];
  labelColumn: string | null;
  idColumn: string | null;
  rows: number;
  columns: ColumnProfile[];
}

export class DatasetProfiler {
  private header?: string[];
  private featureColumns: string[] = [];
  private labelColumn: string | null = null;
  private idColumn: string | null = null;
  private rows = 0;
  private min = new Float64Array(0);
  private max = new Float64Array(0);
  private sum = new Float64Array(0);
  private nulls = new Float64Array(0);
  private positives = 0;
  private idNulls = 0;

  /** Adds a batch of rows; the first one's header must be within the column rules (columnRules.ts). */
  add(table: DatasetTable): void {
    if (!this.header) {
      checkColumns(table.header);
      this.header = table.header;
      this.featureColumns = table.featureColumns;
      this.labelColumn = table.labelColumn ?? null;
      this.idColumn = table.idColumn ?? null;
      const d = table.featureColumns.length;
      this.min = new Float64Array(d).fill(Infinity);
      this.max = new Float64Array(d).fill(-Infinity);
      this.sum = new Float64Array(d);
      this.nulls = new Float64Array(d);
    }
    const { rows, cols, data } = table.features;
    const { min, max, sum, nulls } = this;
    for (let r = 0, o = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++, o++) {
        const v = data[o];
        if (v !== v) {
          nulls[c]++; // a missing value: NaN
          continue;
        }
        if (v < min[c]) min[c] = v;
        if (v > max[c]) max[c] = v;
        sum[c] += v;
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
      if (f >= 0) {
        const present = this.rows - this.nulls[f];
        return {
          name,
          role: 'feature',
          type: 'number',
          min: present > 0 ? this.min[f] : null,
          max: present > 0 ? this.max[f] : null,
          mean: present > 0 ? this.sum[f] / present : null,
          nullCount: this.nulls[f],
        };
      }
      if (name === this.labelColumn) {
        return { name, role: 'label', type: 'number', min: this.positives < this.rows ? 0 : 1, max: this.positives > 0 ? 1 : 0, mean: this.rows ? this.positives / this.rows : null, nullCount: 0, positives: this.positives };
      }
      return { name, role: 'id', type: 'text', min: null, max: null, mean: null, nullCount: this.idNulls };
    });
    return { header, featureColumns: this.featureColumns, labelColumn: this.labelColumn, idColumn: this.idColumn, rows: this.rows, columns };
  }
}
