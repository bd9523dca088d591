/** Small pieces of output shared by the client commands: times, tables, server refusals. */
import { localTimestamp } from '../client/session.js';
import type { ApiError } from '../errors.js';
import { chalkFor, type Stream } from './output.js';
import { type Column, renderTable } from './table.js';

/** `09:00-17:00`: a shift's start and end as the tables show them. */
export function timeRange(shift: { start_time: string; end_time: string }): string {
  return `${shift.start_time}-${shift.end_time}`;
}

/** `urgent` or `normal`: an offer without a priority (any server's but shiftctl's) is normal. */
export function priorityOf(shift: { priority?: string | null | undefined }): string {
  return shift.priority ?? 'normal';
}

/** An ISO-8601 time from the server as local `YYYY-MM-DD HH:MM`; anything unparsable as given. */
export function localDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return localTimestamp(date).slice(0, 16).replace('T', ' ');
}

/** Writes a table to `out`, with its header line in bold when `out` takes colour. */
export function writeTable<T>(
  out: Stream,
  rows: readonly T[],
  columns: readonly Column<T>[],
): void {
  const [header = '', ...lines] = renderTable(rows, columns).split('\n');
  out.write([chalkFor(out).bold(header), ...lines].join('\n'));
}

/** `409 E_SHIFT_TAKEN`, or just `409` from a server that sends no code. */
export function statusAndCode(err: ApiError): string {
  return err.serverCode ? `${err.httpStatus} ${err.serverCode}` : String(err.httpStatus);
}
