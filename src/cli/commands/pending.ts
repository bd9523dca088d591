/** `shiftctl pending <emp_id>`: the declaration; the listing is in ../pending.ts. */
import type { Command } from 'commander';
import { type ClientFlags, withClientOptions } from '../client-options.js';
import { integerIn } from '../parse.js';

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
      const { pending } = await import('../pending.js');
      await pending(empId, flags);
    });
}
