/** `shiftctl pending <emp_id>`: the offers an employee still has to answer (offline recovery). */
import type { Command } from 'commander';
import type { ShiftOfferMessage } from '../protocol/schemas.js';
import { type ClientFlags, clientFrom, withClientOptions } from './client-options.js';
import { timeRange, writeTable } from './format.js';
import type { Stream } from './output.js';
import { integerIn } from './parse.js';
import { type Column, writeJsonLines } from './table.js';

const COLUMNS: Column<ShiftOfferMessage>[] = [
  { title: 'shift', value: (o) => String(o.shift_id) },
  { title: 'date', value: (o) => o.date },
  { title: 'time', value: timeRange },
  { title: 'location', value: (o) => o.location_name ?? '' },
  { title: 'client', value: (o) => o.client_name ?? '' },
  { title: 'service', value: (o) => o.service_type ?? '' },
];

export function registerPending(program: Command): void {
  withClientOptions(
    program
      .command('pending')
      .description("list an employee's open offers, as the app fetches them on start")
      .argument('<emp_id>', 'employee id', integerIn(1, Number.MAX_SAFE_INTEGER)),
  )
    .addHelpText(
      'after',
      `
With --json, each offer is printed as the server sent it, one shift_offer object a line.

Examples:
  $ shiftctl pending 123
  $ shiftctl pending 123 --json --url http://10.0.2.2:8000`,
    )
    .action(async (empId: number, flags: ClientFlags) => {
      await pending(empId, flags);
    });
}

async function pending(empId: number, flags: ClientFlags): Promise<void> {
  const out: Stream = process.stdout;
  const offers = await clientFrom(flags).api.pending(empId);
  if (flags.json) {
    writeJsonLines(out, offers);
  } else if (offers.length === 0) {
    process.stderr.write(`No pending offers for employee ${empId}.\n`);
  } else {
    writeTable(out, offers, COLUMNS);
  }
}
