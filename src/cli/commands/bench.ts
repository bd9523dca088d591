/** `shiftctl bench`: the declaration; the load is run by ../bench.ts. */
import type { Command } from 'commander';
import { SCENARIOS } from '../../bench/scenarios.js';
import type { BenchFlags } from '../bench.js';
import { withClientOptions } from '../client-options.js';
import { integerIn } from '../parse.js';

export function registerBench(program: Command): void {
  withClientOptions(
    program
      .command('bench')
      .description(
        'load a server: connections, offers, answers, a broadcast, a race, a reconnect storm',
      ),
  )
    .option(
      '-n, --connections <n>',
      'employees to connect, one socket each',
      integerIn(1, 100_000),
      1000,
    )
    .option('-m, --offers <n>', 'offers to send (then answer)', integerIn(0, 10_000_000), 5000)
    .option('-c, --concurrency <n>', 'HTTP requests in flight at once', integerIn(1, 10_000), 64)
    .option(
      '--broadcast <n>',
      'employees one shift is broadcast to, at most --connections (default: 1000, or --connections if fewer)',
      integerIn(1, 100_000),
    )
    .option(
      '--race <n>',
      'employees racing for one shift, at most --connections (default: 1000, or --connections if fewer)',
      integerIn(1, 100_000),
    )
    .option('--first-emp <id>', 'first employee id', integerIn(1, 1e12), 100_000)
    .option(
      '--first-shift <id>',
      'first shift id (default: from the clock, so runs never collide)',
      integerIn(1, 1e14),
    )
    .option(
      '--scenarios <list>',
      `comma-separated, from ${SCENARIOS.join(',')}`,
      SCENARIOS.join(','),
    )
    .option(
      '--pid <pid>',
      "the server's process id, to report its memory per connection",
      integerIn(1, 1e9),
    )
    .addHelpText(
      'after',
      `
Against shiftctl, start the server with --no-rate-limit (answers come from one address).
npm run bench runs the whole comparison with the floor server and writes BENCHMARKS.md.

Examples:
  $ shiftctl bench --url http://127.0.0.1:8000 -n 2000 -m 10000
  $ shiftctl bench --scenarios connect,broadcast --broadcast 5000 -n 5000 --pid 4242 --json`,
    )
    .action(async (flags: BenchFlags) => {
      const { bench } = await import('../bench.js');
      await bench(flags);
    });
}
