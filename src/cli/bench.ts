/**
 * `shiftctl bench`: load any server that speaks the contract and report what it sustains.
 * Declared in commands/bench.ts.
 */
import { readFileSync } from 'node:fs';
import { type BenchReport, runBench, SCENARIOS, type ScenarioName } from '../bench/generator.js';
import { ShiftctlError } from '../errors.js';
import { networkWords } from '../network-errors.js';
import { clientFrom } from './client.js';
import type { ClientFlags } from './client-options.js';
import { io } from './io.js';
import type { Stream } from './output.js';
import { renderTable } from './table.js';

export interface BenchFlags extends ClientFlags {
  connections: number;
  offers: number;
  concurrency: number;
  /** Default: 1000, or --connections if fewer. */
  broadcast?: number;
  /** Default: 1000, or --connections if fewer. */
  race?: number;
  firstEmp: number;
  firstShift?: number;
  scenarios: string;
  pid?: number;
}

/** Employees of a broadcast and of a race, unless given. */
const DEFAULT_GROUP = 1000;

export async function bench(flags: BenchFlags): Promise<void> {
  const scenarios = flags.scenarios.split(',').map((s) => s.trim());
  const unknown = scenarios.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
  if (unknown.length > 0) {
    throw new ShiftctlError(
      'E_USAGE',
      `Unknown scenario ${unknown.join(', ')}; use ${SCENARIOS.join(', ')}.`,
    );
  }
  // Each scenario works on what an earlier one left: connections, then delivered offers.
  const missing = scenarios.flatMap((s, i) => {
    const needs = s === 'answers' ? 'offers' : s === 'connect' ? undefined : 'connect';
    return needs && !scenarios.slice(0, i).includes(needs) ? [`${s} needs ${needs} before it`] : [];
  });
  if (missing.length > 0) {
    throw new ShiftctlError(
      'E_USAGE',
      `--scenarios ${flags.scenarios}: ${missing.join('; ')} (e.g. --scenarios connect,offers,answers).`,
    );
  }
  // Left out, --broadcast and --race take 1000 employees or all connected if fewer (`-n 2`
  // alone runs); given, they are the user's and may not exceed --connections.
  const sizes = {
    broadcast: flags.broadcast ?? Math.min(DEFAULT_GROUP, flags.connections),
    race: flags.race ?? Math.min(DEFAULT_GROUP, flags.connections),
  };
  for (const scenario of ['broadcast', 'race'] as const) {
    if (scenarios.includes(scenario) && sizes[scenario] > flags.connections) {
      throw new ShiftctlError(
        'E_USAGE',
        `--${scenario} (${sizes[scenario]}) cannot exceed --connections (${flags.connections}).`,
      );
    }
  }
  if (flags.pid !== undefined) {
    const warning = pidWarning(flags.pid);
    if (warning) io.stderr.write(`shiftctl: warning: ${warning}\n`);
  }
  const { endpoints, token } = clientFrom(flags);
  const report = await runBench({
    wsUrl: endpoints.wsUrl,
    apiUrl: endpoints.apiUrl,
    connections: flags.connections,
    offers: flags.offers,
    concurrency: flags.concurrency,
    broadcast: sizes.broadcast,
    race: sizes.race,
    firstEmpId: flags.firstEmp,
    firstShiftId: flags.firstShift ?? (Date.now() % 1e10) * 10,
    scenarios: scenarios as ScenarioName[],
    pid: flags.pid,
    token,
    progress: (line) => io.stderr.write(`${line}\n`),
  }).catch((err: unknown) => {
    const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
    const code = (err as NodeJS.ErrnoException).code ?? cause?.code ?? '';
    const words = networkWords(code);
    if (!words) throw err;
    throw new ShiftctlError(
      'E_UNREACHABLE',
      `Cannot reach the server at ${endpoints.apiUrl} (${words}). Is it running? Set the address with --url.`,
    );
  });
  printReport(report, flags.json === true, io.stdout);
  for (const line of refusalNotes(report)) io.stderr.write(`${line}\n`);
  if (report.results.some((r) => r.errors > 0)) process.exitCode = 1;
}

/**
 * Why `--pid` may not be the server's process: `npx shiftctl serve ... &` leaves `$!` on npm's
 * wrapper, whose memory and CPU say nothing of the server's.
 */
export function pidWarning(pid: number): string | undefined {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return `--pid ${pid}: no such process here; its memory and CPU are not reported.`;
  }
  if (/(^|[/\s])(npm|npx)([\s-]|$)|npm-cli\.js|npx-cli\.js/.test(cmdline)) {
    return `--pid ${pid} is npm's wrapper (${cmdline.slice(0, 60)}), not the server: start it with node bin/shiftctl.js serve ... & (or a shiftctl put on PATH by npm link) and pass that $!.`;
  }
  return undefined;
}

/** What the server refused, by status and code, with what to do about the usual ones. */
export function refusalNotes(report: BenchReport): string[] {
  const notes: string[] = [];
  for (const r of report.results) {
    const refused = r.refused as Record<string, number> | undefined;
    for (const [what, count] of Object.entries(refused ?? {})) {
      const remedy = what.startsWith('429')
        ? ': the rate limits refused them; bench a shiftctl server started with serve --no-rate-limit'
        : what.startsWith('401') || what.startsWith('403')
          ? ': give --token (an admin token: shiftctl token --admin)'
          : '';
      notes.push(`shiftctl: ${r.scenario}: ${count} request(s) refused with ${what}${remedy}.`);
    }
  }
  return notes;
}

export function printReport(report: BenchReport, json: boolean, out: Stream): void {
  if (json) {
    for (const r of report.results) out.write(`${JSON.stringify(r)}\n`);
    return;
  }
  out.write(
    renderTable(report.results, [
      { title: 'scenario', value: (r) => r.scenario },
      { title: 'count', value: (r) => String(r.count) },
      { title: 'errors', value: (r) => String(r.errors) },
      { title: 'seconds', value: (r) => r.seconds.toFixed(2) },
      { title: 'per second', value: (r) => Math.round(r.throughput).toString() },
      { title: 'p50 ms', value: (r) => (r.p50_ms === undefined ? '' : String(r.p50_ms)) },
      { title: 'p99 ms', value: (r) => (r.p99_ms === undefined ? '' : String(r.p99_ms)) },
      { title: 'max ms', value: (r) => (r.max_ms === undefined ? '' : String(r.max_ms)) },
      {
        title: 'notes',
        value: (r) =>
          Object.entries(r)
            .filter(
              ([k]) =>
                ![
                  'scenario',
                  'count',
                  'errors',
                  'seconds',
                  'throughput',
                  'p50_ms',
                  'p99_ms',
                  'max_ms',
                  'refused',
                ].includes(k),
            )
            .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('/') : String(v)}`)
            .join(' '),
      },
    ]),
  );
}
