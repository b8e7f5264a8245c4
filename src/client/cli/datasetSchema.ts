/**
 * How `nomaly datasets show` prints a dataset's schema: one line per column with its type,
 * role, null count, range, and what its type adds (a category's cardinality and top values, a
 * timestamp's first and last instant, why a column is excluded).
 */
import type { ColumnProfile } from '../../data/profile';
import { fixed } from './output';
import { renderTable } from './table';

/** Top values shown per category on one line (the profile keeps up to 10; --json shows them all). */
const SHOWN_TOP_VALUES = 5;

function shownValue(text: string): string {
  return JSON.stringify(text.length > 24 ? `${text.slice(0, 24)}…` : text);
}

/** What a column's type adds, in a few words. */
export function columnDetails(c: ColumnProfile): string {
  const parts: string[] = [];
  if (c.cardinality !== undefined) parts.push(`${c.cardinalityAtLeast ? '≥ ' : ''}${c.cardinality} distinct`);
  if (c.topValues?.length) parts.push(`top ${c.topValues.slice(0, SHOWN_TOP_VALUES).map((t) => `${shownValue(t.value)} ${t.count}`).join(', ')}`);
  if (c.type === 'timestamp' && c.minTime !== undefined) parts.push(`${c.minTime ?? '-'} … ${c.maxTime ?? '-'}`);
  if (c.positives !== undefined) parts.push(`${c.positives} labelled 1`);
  if (c.note) parts.push(c.note);
  return parts.join('; ');
}

/** The schema as table lines. */
export function schemaLines(columns: readonly ColumnProfile[]): string[] {
  const numeric = (c: ColumnProfile) => c.type !== 'timestamp' && c.type !== 'category' && c.type !== 'text';
  return renderTable(
    [
      { header: 'column' },
      { header: 'type' },
      { header: 'role' },
      { header: 'nulls', align: 'right' },
      { header: 'min', align: 'right' },
      { header: 'max', align: 'right' },
      { header: 'mean', align: 'right' },
      { header: 'details' },
    ],
    columns.map((c) => [
      c.name,
      c.type ?? 'number',
      c.role,
      String(c.nullCount),
      numeric(c) ? fixed(c.min) : '-',
      numeric(c) ? fixed(c.max) : '-',
      numeric(c) ? fixed(c.mean) : '-',
      columnDetails(c),
    ]),
  );
}
