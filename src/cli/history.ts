/** `shiftctl history <emp_id>`: an employee's past offers and what became of each, newest first. */
import type { ChalkInstance } from 'chalk';
import type { HistoryItem } from '../protocol/schemas.js';
import { clientFrom } from './client.js';
import type { ClientFlags } from './client-options.js';
import { localDateTime, priorityOf, timeRange, writeTable } from './format.js';
import { io } from './io.js';
import { chalkFor } from './output.js';
import { type Column, writeJsonLines } from './table.js';

export interface HistoryFlags extends ClientFlags {
  limit: number;
}

function columns(c: ChalkInstance): Column<HistoryItem>[] {
  // Still to act on: yellow; won: green; closed either way: dim. Any other outcome is plain.
  const paint: Partial<Record<string, (s: string) => string>> = {
    open: c.yellow,
    assigned: c.green,
    taken: c.dim,
    rejected: c.dim,
    expired: c.dim,
    withdrawn: c.dim,
  };
  return [
    { title: 'shift', value: (o) => String(o.shift_id) },
    { title: 'priority', value: priorityOf },
    { title: 'date', value: (o) => o.date },
    { title: 'time', value: timeRange },
    { title: 'location', value: (o) => o.location_name ?? '' },
    { title: 'sent', value: (o) => localDateTime(o.sent_at) },
    { title: 'response', value: (o) => o.response ?? '' },
    // The last column is never padded, so colour cannot upset the alignment.
    { title: 'outcome', value: (o) => paint[o.outcome]?.(o.outcome) ?? o.outcome },
  ];
}

export async function history(empId: number, flags: HistoryFlags): Promise<void> {
  const out = io.stdout;
  const items = await clientFrom(flags).api.history(empId, flags.limit);
  if (flags.json) {
    writeJsonLines(out, items);
  } else if (items.length === 0) {
    io.stderr.write(`No offers for employee ${empId} yet.\n`);
  } else {
    writeTable(out, items, columns(chalkFor(out)));
  }
}
