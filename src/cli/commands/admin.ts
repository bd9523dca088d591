/** The operator commands' declarations: withdraw, approve, kick, fault, log, reset (../admin.ts). */
import type { Command } from 'commander';
import type { FaultCommandFlags, LogFlags } from '../admin.js';
import { type ClientFlags, withClientOptions } from '../client-options.js';
import { withFaultOptions } from '../fault-options.js';
import { durationSeconds, integerIn, oneOf } from '../parse.js';

const id = integerIn(1, Number.MAX_SAFE_INTEGER);

export function registerAdmin(program: Command): void {
  withClientOptions(
    program
      .command('withdraw')
      .description("withdraw a shift: its open offers close and holders are told 'withdrawn'")
      .argument('<shift_id>', 'shift id', id),
  )
    .addHelpText('after', '\nExample:\n  $ shiftctl withdraw 1004')
    .action(async (shiftId: number, flags: ClientFlags) => {
      const { withdraw } = await import('../admin.js');
      await withdraw(shiftId, flags);
    });

  withClientOptions(
    program
      .command('approve')
      .description('approval mode: give a shift to an employee who asked for it')
      .argument('<shift_id>', 'shift id', id)
      .argument('<emp_id>', 'employee id', id),
  )
    .addHelpText('after', '\nExample:\n  $ shiftctl approve 1004 123')
    .action(async (shiftId: number, empId: number, flags: ClientFlags) => {
      const { approve } = await import('../admin.js');
      await approve(shiftId, empId, flags);
    });

  withClientOptions(
    program
      .command('kick')
      .description('cut every connection of an employee, as a network drop would')
      .argument('<emp_id>', 'employee id', id),
  )
    .addHelpText('after', '\nExample:\n  $ shiftctl kick 123')
    .action(async (empId: number, flags: ClientFlags) => {
      const { kick } = await import('../admin.js');
      await kick(empId, flags);
    });

  withFaultOptions(
    withClientOptions(
      program
        .command('fault')
        .description('show or inject faults: push latency, HTTP latency, dropped pushes, refusals'),
    ),
  )
    .option(
      '--refuse <duration>',
      'refuse new connections for this long, e.g. 30s',
      durationSeconds(86_400),
    )
    .option('--off', 'turn every fault off')
    .addHelpText(
      'after',
      '\nExamples:\n  $ shiftctl fault --latency 200ms --drop-rate 0.1\n  $ shiftctl fault --refuse 30s\n  $ shiftctl fault --off',
    )
    .action(async (flags: FaultCommandFlags) => {
      const { fault } = await import('../admin.js');
      await fault(flags);
    });

  withClientOptions(
    program
      .command('log')
      .description('read the journal: every message pushed and every API request'),
  )
    .option('--emp <emp_id>', 'only this employee', id)
    .option('--shift <shift_id>', 'only this shift', id)
    .option('--kind <kind>', 'push or request', oneOf(['push', 'request'] as const))
    .option('--limit <n>', 'how many of the newest entries', integerIn(1, 10_000), 50)
    .option('-f, --follow', 'keep printing new entries until Ctrl-C')
    .option('--interval <ms>', 'with --follow, how often to ask', integerIn(50, 60_000), 500)
    .option(
      '--reads',
      'with --follow, show GET requests too (left out, as on the dashboard; the polling of the journal itself never shows)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ shiftctl log --emp 123\n  $ shiftctl log --follow --kind push',
    )
    .action(async (flags: LogFlags) => {
      const { log } = await import('../admin.js');
      await log(flags);
    });

  withClientOptions(
    program
      .command('reset')
      .description('delete every shift, offer and journal entry on the server'),
  )
    .addHelpText('after', '\nExample:\n  $ shiftctl reset')
    .action(async (flags: ClientFlags) => {
      const { reset } = await import('../admin.js');
      await reset(flags);
    });
}
