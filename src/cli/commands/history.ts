/** `shiftctl history <emp_id>`: the declaration; the listing is in ../history.ts. */
import type { Command } from 'commander';
import { withClientOptions } from '../client-options.js';
import type { HistoryFlags } from '../history.js';
import { integerIn } from '../parse.js';

const DEFAULT_LIMIT = 50;

export function registerHistory(program: Command): void {
  withClientOptions(
    program
      .command('history')
      .description("list an employee's offers, newest first, with what became of each")
      .argument('<emp_id>', 'employee id', integerIn(1, Number.MAX_SAFE_INTEGER))
      .option(
        '--limit <n>',
        'at most this many offers (1-1000)',
        integerIn(1, 1000),
        DEFAULT_LIMIT,
      ),
  )
    .addHelpText(
      'after',
      `
SENT is local time. OUTCOME is open (not answered yet), requested (accepted, waiting for an
operator's approval), assigned, taken (someone else got the shift), rejected, expired (not
answered before its deadline) or withdrawn (the shift was withdrawn). With --json, each offer is
printed as the server sent it, one a line.

Examples:
  $ shiftctl history 123 --limit 10
  $ shiftctl history 123 --json | jq -r 'select(.outcome == "assigned") | .shift_id'`,
    )
    .action(async (empId: number, flags: HistoryFlags) => {
      const { history } = await import('../history.js');
      await history(empId, flags);
    });
}
