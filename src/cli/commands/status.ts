/** `shiftctl status`: the declaration; the operator's view is made by ../status.ts. */
import type { Command } from 'commander';
import { type ClientFlags, withClientOptions } from '../client-options.js';

export function registerStatus(program: Command): void {
  withClientOptions(
    program
      .command('status')
      .description('show connected employees, pending offers per employee and open shifts'),
  )
    .addHelpText(
      'after',
      `
Employees come from GET /api/connections: everyone connected or holding an open offer. Open
shifts come from the admin API (GET /api/admin/shifts?status=open); a server without it gets
a note on stderr and no shift list. OFFERED counts the employees a shift was offered to,
WAITING those who have not answered yet. Requests refused at the gate (a missing or bad token,
forbidden, rate-limited) are counted by error code, since they are not journalled.

With --json, one object a line:
  {"type":"employee","emp_id":123,"connected":true,"devices":2,"pending":3}
  {"type":"shift","shift_id":456,"date":"2026-01-20",...,"status":"open","offers":{...}}
  {"type":"refused","code":"E_AUTH_REQUIRED","count":12}

Examples:
  $ shiftctl status
  $ shiftctl status --json | jq 'select(.type == "employee" and .connected)'`,
    )
    .action(async (flags: ClientFlags) => {
      const { status } = await import('../status.js');
      await status(flags);
    });
}
