/**
 * How the CLI prints tables and numbers: every column as wide as its widest cell (a 7-digit row
 * number must not push the columns after it out of line), numbers right-aligned.
 */
export interface TableColumn {
  header: string;
  /** Numbers read best right-aligned; text left-aligned (the default). */
  align?: 'left' | 'right';
}

export function renderTable(columns: TableColumn[], rows: string[][], indent = ''): string[] {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    indent +
    cells
      .map((cell, i) => (columns[i].align === 'right' ? cell.padStart(widths[i]) : i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ');
  return [line(columns.map((c) => c.header)), ...rows.map(line)];
}

/** An integer as an integer (50000, not 50000.0000); anything else to 4 decimals. */
export function formatMetric(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}
