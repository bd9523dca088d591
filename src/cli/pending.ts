/** `shiftctl pending <emp_id>`: the offers an employee still has to answer (offline recovery). */
import type { ShiftOfferMessage } from '../protocol/schemas.js';
import { clientFrom } from './client.js';
import type { ClientFlags } from './client-options.js';
import { priorityOf, timeRange, writeTable } from './format.js';
import { io } from './io.js';
import { type Column, writeJsonLines } from './table.js';

const COLUMNS: Column<ShiftOfferMessage>[] = [
  { title: 'shift', value: (o) => String(o.shift_id) },
  { title: 'priority', value: priorityOf },
  { title: 'date', value: (o) => o.date },
  { title: 'time', value: timeRange },
  { title: 'location', value: (o) => o.location_name ?? '' },
  { title: 'client', value: (o) => o.client_name ?? '' },
  { title: 'service', value: (o) => o.service_type ?? '' },
];

export async function pending(empId: number, flags: ClientFlags): Promise<void> {
  const out = io.stdout;
  const offers = await clientFrom(flags).api.pending(empId);
  if (flags.json) {
    writeJsonLines(out, offers);
  } else if (offers.length === 0) {
    io.stderr.write(`No pending offers for employee ${empId}.\n`);
  } else {
    writeTable(out, offers, COLUMNS);
  }
}
