/**
 * Operator commands over the admin API: withdraw, approve, kick, faults, the journal, reset.
 * Declared in commands/admin.ts.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ShiftctlError } from '../errors.js';
import { isRead } from '../protocol/names.js';
import type { JournalEntry, ShiftDetailView } from '../protocol/schemas.js';
import { clientFrom } from './client.js';
import type { ClientFlags } from './client-options.js';
import { type FaultFlags, faultSettings } from './fault-options.js';
import { io } from './io.js';
import { chalkFor } from './output.js';

function printJson(value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`);
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

export interface FaultCommandFlags extends ClientFlags, FaultFlags {
  refuse?: number;
  off?: boolean;
}

export interface LogFlags extends ClientFlags {
  emp?: number;
  shift?: number;
  kind?: 'push' | 'request';
  limit: number;
  follow?: boolean;
  interval: number;
  /** With --follow, GET requests too. */
  reads?: boolean;
}

/** The journal's reads: a follower's own polling, never printed while following. */
const JOURNAL_READ = 'GET /api/admin/journal';

export async function withdraw(shiftId: number, flags: ClientFlags): Promise<void> {
  const shift = await clientFrom(flags).api.withdraw(shiftId);
  if (flags.json) printJson(shiftJson(shift));
  else io.stdout.write(`Withdrew shift ${shiftId}. Holders: ${holdersLine(shift) || 'none'}\n`);
}

export async function approve(shiftId: number, empId: number, flags: ClientFlags): Promise<void> {
  const shift = await clientFrom(flags).api.approve(shiftId, empId);
  if (flags.json) printJson(shiftJson(shift));
  else
    io.stdout.write(`Approved: shift ${shiftId} is assigned to ${shift.assigned_to.join(', ')}.\n`);
}

export async function kick(empId: number, flags: ClientFlags): Promise<void> {
  const result = await clientFrom(flags).api.kick(empId);
  if (flags.json) printJson(result);
  else io.stdout.write(`Cut ${result.disconnected} connection(s) of employee ${empId}.\n`);
}

export async function fault(flags: FaultCommandFlags): Promise<void> {
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
  io.stdout.write(
    `push latency ${view.push_latency_ms} ms, HTTP latency ${view.http_latency_ms} ms, drop rate ${view.drop_rate}, ${view.refusing_connections_until ? `refusing connections until ${view.refusing_connections_until}` : 'accepting connections'}\n`,
  );
}

export async function log(flags: LogFlags): Promise<void> {
  const api = clientFrom(flags).api;
  const out = io.stdout;
  const c = chalkFor(out);
  const filter = { emp_id: flags.emp, shift_id: flags.shift, kind: flags.kind };
  // Following, GET requests are left out, as the dashboard's journal leaves them out unless
  // asked: the follower's own polling (a line each --interval) would bury what happens. With
  // --reads they show, but for the journal's reads, the polling itself.
  const shown = (e: JournalEntry): boolean =>
    !flags.follow ||
    !isRead(e) ||
    (flags.reads === true && !(e.kind === 'request' && e.name === JOURNAL_READ));
  const print = (all: JournalEntry[]): void => {
    const entries = all.filter(shown);
    if (flags.json) {
      for (const e of entries) printJson(e);
      return;
    }
    for (const e of entries) {
      const who = [e.emp_id ? `emp ${e.emp_id}` : '', e.shift_id ? `shift ${e.shift_id}` : '']
        .filter(Boolean)
        .join(' ');
      const ok = e.outcome === 'sent' || e.outcome.startsWith('2');
      // The outcome is padded only when something follows it: no line ends in blanks.
      const outcome = who ? e.outcome.padEnd(9) : e.outcome;
      out.write(
        `${c.dim(e.time)} ${e.kind.padEnd(7)} ${e.name.padEnd(44)} ${(ok ? c.green : c.yellow)(outcome)}${who ? ` ${who}` : ''}\n`,
      );
    }
  };
  // With --follow, Ctrl-C is a clean stop (exit 0) from the start, even while the first page
  // is on its way.
  let stop = false;
  const onSignal = (): void => {
    stop = true;
  };
  if (flags.follow) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  let entries = await api.journal({ ...filter, limit: flags.limit });
  print(entries);
  if (!flags.follow) return;
  let last = entries.at(-1)?.id ?? 0;
  while (!stop) {
    await delay(flags.interval);
    entries = await api.journal({ ...filter, after_id: last, limit: 1000 });
    print(entries);
    last = entries.at(-1)?.id ?? last;
  }
}

export async function reset(flags: ClientFlags): Promise<void> {
  const result = await clientFrom(flags).api.reset();
  if (flags.json) printJson(result);
  else io.stdout.write('Reset: the server holds no shifts, offers or journal entries now.\n');
}
