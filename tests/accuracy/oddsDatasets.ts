/**
 * The ODDS datasets of tests/accuracy/data (see its README): features f0..f{d-1} and a 0/1
 * label (1 = anomaly) per row, read into a Matrix and a label array.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Matrix } from '../../src/scoring';

export const ODDS_DATA_DIR = path.join(__dirname, 'data');

/** The eight ODDS datasets the accuracy tests use. */
export const ODDS_DATASETS = ['cardio', 'glass', 'ionosphere', 'pendigits', 'pima', 'satellite', 'shuttle', 'wbc'] as const;
export type OddsDatasetName = (typeof ODDS_DATASETS)[number];

export interface OddsDataset {
  readonly name: OddsDatasetName;
  readonly X: Matrix;
  /** 1 for an anomaly, 0 for an inlier. */
  readonly labels: Uint8Array;
}

export function loadOddsDataset(name: OddsDatasetName): OddsDataset {
  const text = fs.readFileSync(path.join(ODDS_DATA_DIR, `${name}.csv`), 'utf8');
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const header = lines[0].split(',');
  const cols = header.length - 1;
  if (header[cols] !== 'label' || header.slice(0, cols).some((h, i) => h !== `f${i}`)) {
    throw new Error(`${name}.csv: expected header f0..f${cols - 1},label, got ${lines[0]}`);
  }
  const rows = lines.length - 1;
  const data = new Float64Array(rows * cols);
  const labels = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const fields = lines[r + 1].split(',');
    if (fields.length !== cols + 1) throw new Error(`${name}.csv line ${r + 2}: ${fields.length} fields, expected ${cols + 1}`);
    for (let c = 0; c < cols; c++) {
      const v = Number(fields[c]);
      if (!Number.isFinite(v)) throw new Error(`${name}.csv line ${r + 2}: bad number "${fields[c]}"`);
      data[r * cols + c] = v;
    }
    const label = Number(fields[cols]);
    if (label !== 0 && label !== 1) throw new Error(`${name}.csv line ${r + 2}: label "${fields[cols]}" is not 0 or 1`);
    labels[r] = label;
  }
  return { name, X: new Matrix(rows, cols, data), labels };
}
