/** `shiftctl listen <emp_id>`: the declaration; the session and its views are in ../listen.ts. */
import { type Command, Option } from 'commander';
import { DEFAULT_MAX_RETRIES } from '../../client/backoff.js';
import { withClientOptions } from '../client-options.js';
import type { ListenFlags } from '../listen.js';
import { integerIn, oneOf } from '../parse.js';

const AUTO = { accept: 'accepted', reject: 'rejected' } as const;

export function registerListen(program: Command): void {
  withClientOptions(
    program
      .command('listen')
      .description('connect as an employee, like the app: show offers, answer them, reconnect')
      .argument('<emp_id>', 'employee id', integerIn(1, Number.MAX_SAFE_INTEGER)),
  )
    .addOption(
      new Option('--auto <answer>', 'answer every offer without asking: accept or reject')
        .choices(['accept', 'reject'])
        // Replaces the check .choices() makes (it stays for --help): a usage error, exit 2.
        .argParser((v) => AUTO[oneOf(['accept', 'reject'] as const)(v)]),
    )
    .option(
      '--delay <ms>',
      'with --auto, wait this long before answering',
      integerIn(0, 3_600_000),
      0,
    )
    .option('--once', 'exit after the first offer is handled')
    .option(
      '--no-bell',
      'do not ring the terminal bell on a new offer (once; three times for an urgent one)',
    )
    .option(
      '--max-retries <n>',
      'reconnect attempts before giving up (2, 4, 8, 16, then 30 s apart)',
      integerIn(0, 1000),
      DEFAULT_MAX_RETRIES,
    )
    .addHelpText(
      'after',
      `
Keys at the prompt: a accept, r reject, s skip for now (it stays pending). Ctrl-C quits.
An urgent offer goes ahead of the normal ones waiting, with an URGENT mark on its card.
Without a terminal on stdin (and without --auto) offers are printed, never prompted.

Examples:
  $ shiftctl listen 123
  $ shiftctl listen 123 --url https://staging.example.com --token "$TOKEN"
  $ shiftctl listen 124 --auto accept --delay 200 --json`,
    )
    .action(async (empId: number, flags: ListenFlags) => {
      const { listen } = await import('../listen.js');
      process.exitCode = await listen(empId, flags);
    });
}
