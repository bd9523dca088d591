/** `shiftctl status`: the operator's view: who is connected, who holds offers, what is open. */
import { ApiError } from '../errors.js';
import type { ShiftView } from '../protocol/schemas.js';
import { clientFrom } from './client.js';
import type { ClientFlags } from './client-options.js';
import { priorityOf, timeRange, writeTable } from './format.js';
import { io } from './io.js';
import { chalkFor, type Stream } from './output.js';
import { type Column, writeJsonLines } from './table.js';

/** One employee line of `status --json`; `null` where the server did not say. */
export interface EmployeeStatus {
  type: 'employee';
  emp_id: number;
  connected: boolean;
  devices: number | null;
  pending: number | null;
}

/** One open shift line of `status --json`: the admin API's shift, with `id` as `shift_id`. */
export type ShiftStatusLine = { type: 'shift'; shift_id: number } & Omit<ShiftView, 'id'>;

/** One line of `status --json` per error code: requests refused at the gate, not journalled. */
export interface RefusedStatusLine {
  type: 'refused';
  code: string;
  count: number;
}

const count = (n: number | null): string => (n === null ? '' : String(n));

const EMPLOYEE_COLUMNS: Column<EmployeeStatus>[] = [
  { title: 'employee', value: (e) => String(e.emp_id) },
  { title: 'connected', value: (e) => (e.connected ? 'yes' : 'no') },
  { title: 'devices', value: (e) => count(e.devices) },
  { title: 'pending', value: (e) => count(e.pending) },
];

const SHIFT_COLUMNS: Column<ShiftStatusLine>[] = [
  { title: 'shift', value: (s) => String(s.shift_id) },
  { title: 'priority', value: priorityOf },
  { title: 'date', value: (s) => s.date },
  { title: 'time', value: timeRange },
  { title: 'location', value: (s) => s.location_name ?? '' },
  { title: 'service', value: (s) => s.service_type ?? '' },
  { title: 'offered', value: (s) => String(s.offers.total) },
  { title: 'waiting', value: (s) => String(s.offers.open) },
  { title: 'rejected', value: (s) => String(s.offers.rejected) },
];

export async function status(flags: ClientFlags): Promise<void> {
  const out = io.stdout;
  const { api } = clientFrom(flags);
  const connections = await api.connections();
  // Servers without the per-employee list (the seed's) still name who is connected.
  const employees: EmployeeStatus[] = connections.employees
    ? connections.employees.map((e) => ({ type: 'employee', ...e }))
    : connections.active_connections.map((id) => ({
        type: 'employee',
        emp_id: id,
        connected: true,
        devices: null,
        pending: null,
      }));

  const refused: RefusedStatusLine[] = Object.entries(connections.refused_requests ?? {}).map(
    ([code, n]) => ({ type: 'refused', code, count: n }),
  );

  let shifts: ShiftStatusLine[] | undefined;
  try {
    shifts = (await api.shifts('open')).map(({ id, ...rest }) => ({
      type: 'shift',
      shift_id: id,
      ...rest,
    }));
  } catch (err) {
    if (!(err instanceof ApiError && err.httpStatus === 404)) throw err;
    io.stderr.write('Note: this server has no admin API (404), so open shifts are not shown.\n');
  }

  if (flags.json) {
    writeJsonLines(out, [...employees, ...(shifts ?? []), ...refused]);
    return;
  }
  const c = chalkFor(out);
  const connected = employees.filter((e) => e.connected).length;
  out.write(`${c.bold('Employees')} (${connected} connected)\n`);
  if (employees.length > 0) writeTable(out, employees, EMPLOYEE_COLUMNS);
  else out.write('No employee is connected or holds an open offer.\n');
  if (!shifts) {
    writeRefused(out, refused);
    return;
  }
  out.write(`\n${c.bold('Open shifts')} (${shifts.length})\n`);
  if (shifts.length > 0) writeTable(out, shifts, SHIFT_COLUMNS);
  else out.write('No open shifts.\n');
  writeRefused(out, refused);
}

function writeRefused(out: Stream, refused: RefusedStatusLine[]): void {
  if (refused.length === 0) return;
  const counts = refused.map((r) => `${r.code} ${r.count}`).join(', ');
  out.write(`\n${chalkFor(out).bold('Refused requests')} (not journalled): ${counts}\n`);
}
