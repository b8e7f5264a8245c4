/**
 * A detection job's scores as Parquet: the same columns as scores.csv (row, the dataset's id
 * column when it has one, score, is_anomaly, p_value, explanation), typed (INT32, STRING, DOUBLE,
 * BOOLEAN, DOUBLE nullable, JSON nullable), Snappy compressed, in row groups of ROW_GROUP_ROWS
 * rows so a reader can fetch part of it.
 *
 * `explanation` is the stored array itself, `[{feature, value, contribution, percentile}, …]`, in
 * a string column annotated JSON rather than the CSV's compact text: Parquet is the export for
 * programs, so it keeps every digit, the value and the percentile, and readers that know the
 * annotation (DuckDB, hyparquet) hand back structured values while the rest see a JSON string.
 * Both are null on rows that are not anomalies.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { FlaggedRow, ScoresCsvSource } from './scoresCsv';

const ROW_GROUP_ROWS = 1_000_000;

/** Writes the Parquet file and returns its size and sha256. Holds the job's ids and the file in memory (the scores already are). */
export async function writeScoresParquet(file: string, { scores, anomalies, ids }: ScoresCsvSource): Promise<{ size: number; sha256: string }> {
  const rows = new Int32Array(scores.length);
  const flags: boolean[] = new Array(scores.length);
  const pValues: Array<number | null> = new Array(scores.length);
  const explanations: Array<FlaggedRow['explanation']> = new Array(scores.length);
  const flaggedRows = await anomalies(0, scores.length); // the whole file is in memory anyway
  for (let row = 0; row < scores.length; row++) {
    rows[row] = row;
    const flagged = flaggedRows.get(row);
    flags[row] = flagged !== undefined;
    pValues[row] = flagged?.pValue ?? null;
    explanations[row] = flagged?.explanation ?? null;
  }
  const columnData: Parameters<typeof parquetWriteBuffer>[0]['columnData'] = [{ name: 'row', data: rows, type: 'INT32', nullable: false }];
  if (ids) columnData.push({ name: ids.column, data: await allIds(ids.batches, scores.length), type: 'STRING', nullable: false });
  columnData.push(
    { name: 'score', data: scores, type: 'DOUBLE', nullable: false },
    { name: 'is_anomaly', data: flags, type: 'BOOLEAN', nullable: false },
    { name: 'p_value', data: pValues, type: 'DOUBLE', nullable: true },
    { name: 'explanation', data: explanations, type: 'JSON', nullable: true },
  );
  const bytes = new Uint8Array(parquetWriteBuffer({ columnData, rowGroupSize: ROW_GROUP_ROWS }));
  await writeFile(file, bytes);
  return { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Every id cell, which must be exactly one per score: any other count means the dataset is not the one scored. */
async function allIds(batches: AsyncIterable<string[]>, expected: number): Promise<string[]> {
  const ids: string[] = [];
  for await (const batch of batches) {
    for (const id of batch) ids.push(id);
    if (ids.length > expected) break;
  }
  if (ids.length !== expected) throw new Error(`the dataset has ${ids.length > expected ? 'more' : 'fewer'} id cells than the job has scores (${expected})`);
  return ids;
}
