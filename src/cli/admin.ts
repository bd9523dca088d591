/** Operator commands over the admin API: withdraw, approve, kick, faults, the journal, reset. */
import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import { ShiftctlError } from '../errors.js';
import type { JournalEntry, ShiftDetailView } from '../protocol/schemas.js';
import { type ClientFlags, clientFrom, withClientOptions } from './client-options.js';
import { type FaultFlags, faultSettings, withFaultOptions } from './fault-options.js';
import { chalkFor, type Stream } from './output.js';
import { durationSeconds, integerIn, oneOf } from './parse.js';

const id = integerIn(1, Number.MAX_SAFE_INTEGER);
const out: Stream = process.stdout;

function printJson(value: unknown): void {
  out.write(`${JSON.stringify(value)}\n`);
}

/**
 * A shift as `withdraw --json` and `approve --json` print it: the admin API's shift with `id`
 * as `shift_id`, the name every other command's output (and the protocol) gives a shift's id.
 */
export type ShiftJson = { shift_id: number } & Omit<ShiftDetailView, 'id'>;

function shiftJson({ id, ...rest }: ShiftDetailView): ShiftJson {
  return { shift_id: id, ...rest };
}

function holdersLine(shift: ShiftDetailView): string {
  return shift.holders.map((h) => `${h.emp_id}:${h.outcome}`).join(' ');
}

export function registerAdmin(program: Command): void {
  withClientOptions(
    program
      .command('withdraw')
      .description("withdraw a shift: its open offers close and holders are told 'withdrawn'")
      .argument('<shift_id>', 'shift id', id),
  )
    .addHelpText('after', '\nExample:\n  $ shiftctl withdraw 1004')
    .action(async (shiftId: number, flags: ClientFlags) => {
      const shift = await clientFrom(flags).api.withdraw(shiftId);
      if (flags.json) printJson(shiftJson(shift));
      else out.write(`Withdrew shift ${shiftId}. Holders: ${holdersLine(shift) || 'none'}\n`);
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
      const shift = await clientFrom(flags).api.approve(shiftId, empId);
      if (flags.json) printJson(shiftJson(shift));
      else
        out.write(`Approved: shift ${shiftId} is assigned to ${shift.assigned_to.join(', ')}.\n`);
    });

  withClientOptions(
    program
      .command('kick')
      .description('cut every connection of an employee, as a network drop would')
      .argument('<emp_id>', 'employee id', id),
  )
    .addHelpText('after', '\nExample:\n  $ shiftctl kick 123')
    .action(async (empId: number, flags: ClientFlags) => {
      const result = await clientFrom(flags).api.kick(empId);
      if (flags.json) printJson(result);
      else out.write(`Cut ${result.disconnected} connection(s) of employee ${empId}.\n`);
    });

  interface FaultCommandFlags extends ClientFlags, FaultFlags {
    refuse?: number;
    off?: boolean;
  }
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
      const asked = { ...faultSettings(flags), refuse_connections_seconds: flags.refuse };
      if (flags.off && Object.values(asked).some((v) => v !== undefined)) {
        throw new ShiftctlError(
          'E_USAGE',
          '--off turns every fault off; give it alone, or leave it out to set faults.',
        );
      }
      const settings = flags.off
        ? { push_latency_ms: 0, http_latency_ms: 0, drop_rate: 0, refuse_connections_seconds: 0 }
        : asked;
      const changes = Object.values(settings).some((v) => v !== undefined);
      const api = clientFrom(flags).api;
      const view = await api.faults(changes ? settings : undefined);
      if (flags.json) {
        printJson(view);
        return;
      }
      out.write(
        `push latency ${view.push_latency_ms} ms, HTTP latency ${view.http_latency_ms} ms, drop rate ${view.drop_rate}, ${view.refusing_connections_until ? `refusing connections until ${view.refusing_connections_until}` : 'accepting connections'}\n`,
      );
    });

  interface LogFlags extends ClientFlags {
    emp?: number;
    shift?: number;
    kind?: 'push' | 'request';
    limit: number;
    follow?: boolean;
    interval: number;
  }
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
    .addHelpText(
      'after',
      '\nExamples:\n  $ shiftctl log --emp 123\n  $ shiftctl log --follow --kind push',
    )
    .action(async (flags: LogFlags) => {
      const api = clientFrom(flags).api;
      const c = chalkFor(out);
      const filter = { emp_id: flags.emp, shift_id: flags.shift, kind: flags.kind };
      const print = (entries: JournalEntry[]): void => {
        if (flags.json) {
          for (const e of entries) printJson(e);
          return;
        }
        for (const e of entries) {
          const who = [e.emp_id ? `emp ${e.emp_id}` : '', e.shift_id ? `shift ${e.shift_id}` : '']
            .filter(Boolean)
            .join(' ');
          const ok = e.outcome === 'sent' || e.outcome.startsWith('2');
          out.write(
            `${c.dim(e.time)} ${e.kind.padEnd(7)} ${e.name.padEnd(44)} ${(ok ? c.green : c.yellow)(e.outcome.padEnd(9))} ${who}\n`,
          );
        }
      };
      let entries = await api.journal({ ...filter, limit: flags.limit });
      print(entries);
      if (!flags.follow) return;
      let last = entries.at(-1)?.id ?? 0;
      let stop = false;
      const onSignal = (): void => {
        stop = true;
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      while (!stop) {
        await delay(flags.interval);
        entries = await api.journal({ ...filter, after_id: last, limit: 1000 });
        print(entries);
        last = entries.at(-1)?.id ?? last;
      }
    });

  withClientOptions(
    program
      .command('reset')
      .description('delete every shift, offer and journal entry on the server'),
  )
    .addHelpText('after', '\nExample:\n  $ shiftctl reset')
    .action(async (flags: ClientFlags) => {
      const result = await clientFrom(flags).api.reset();
      if (flags.json) printJson(result);
      else out.write('Reset: the server holds no shifts, offers or journal entries now.\n');
    });
}
