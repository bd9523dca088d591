/** Plain-text tables for a terminal; JSON lines for everything else. */
import { printable } from '../client/card.js';
import type { Stream } from './output.js';

export interface Column<T> {
  title: string;
  value(row: T): string;
}

/** Aligned columns with a header, one row a line. Empty cells show as `-`. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => printable(c.value(row)) || '-'));
  const widths = columns.map((c, i) =>
    Math.max(c.title.length, ...cells.map((r) => (r[i] ?? '').length)),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(columns.map((c) => c.title.toUpperCase())), ...cells.map(line)].join('\n')}\n`;
}

/** Writes each item as one JSON line. */
export function writeJsonLines(out: Stream, items: readonly unknown[]): void {
  out.write(items.map((item) => `${JSON.stringify(item)}\n`).join(''));
}
