/** `shiftctl bench`: load any server that speaks the contract and report what it sustains. */
import type { Command } from 'commander';
import { type BenchReport, runBench, SCENARIOS, type ScenarioName } from '../bench/generator.js';
import { ShiftctlError } from '../errors.js';
import { type ClientFlags, clientFrom, withClientOptions } from './client-options.js';
import type { Stream } from './output.js';
import { integerIn } from './parse.js';
import { renderTable } from './table.js';

interface BenchFlags extends ClientFlags {
  connections: number;
  offers: number;
  concurrency: number;
  broadcast: number;
  race: number;
  firstEmp: number;
  firstShift?: number;
  scenarios: string;
  pid?: number;
}

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
    .option('--broadcast <n>', 'employees one shift is broadcast to', integerIn(1, 100_000), 1000)
    .option('--race <n>', 'employees racing for one shift', integerIn(1, 100_000), 1000)
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
      const scenarios = flags.scenarios.split(',').map((s) => s.trim());
      const unknown = scenarios.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
      if (unknown.length > 0) {
        throw new ShiftctlError(
          'E_USAGE',
          `Unknown scenario ${unknown.join(', ')}; use ${SCENARIOS.join(', ')}.`,
        );
      }
      for (const scenario of ['broadcast', 'race'] as const) {
        if (scenarios.includes(scenario) && flags[scenario] > flags.connections) {
          throw new ShiftctlError(
            'E_USAGE',
            `--${scenario} (${flags[scenario]}) cannot exceed --connections (${flags.connections}).`,
          );
        }
      }
      const { endpoints, token } = clientFrom(flags);
      const report = await runBench({
        wsUrl: endpoints.wsUrl,
        apiUrl: endpoints.apiUrl,
        connections: flags.connections,
        offers: flags.offers,
        concurrency: flags.concurrency,
        broadcast: flags.broadcast,
        race: flags.race,
        firstEmpId: flags.firstEmp,
        firstShiftId: flags.firstShift ?? (Date.now() % 1e10) * 10,
        scenarios: scenarios as ScenarioName[],
        pid: flags.pid,
        token,
        progress: (line) => process.stderr.write(`${line}\n`),
      }).catch((err: unknown) => {
        const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
        const code = (err as NodeJS.ErrnoException).code ?? cause?.code ?? '';
        if (!NETWORK_ERRORS.has(code)) throw err;
        throw new ShiftctlError(
          'E_UNREACHABLE',
          `Cannot reach the server at ${endpoints.apiUrl} (${code}). Is it running? Set the address with --url.`,
        );
      });
      printReport(report, flags.json === true, process.stdout);
      if (report.results.some((r) => r.errors > 0)) process.exitCode = 1;
    });
}

/** Socket errors that mean the server is not there (or went away), not a bug. */
const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
]);

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
                ].includes(k),
            )
            .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('/') : String(v)}`)
            .join(' '),
      },
    ]),
  );
}
