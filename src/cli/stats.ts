/** `shiftctl stats`: the admin API's stats as two tables (offers, shifts), or JSON lines. */
import { humanSeconds, percent } from '../client/stats-text.js';
import { ShiftctlError } from '../errors.js';
import { type StatsGroupView, StatsQuery, type StatsResponse } from '../protocol/stats.js';
import { describeIssues } from '../protocol/validate.js';
import { clientFrom } from './client.js';
import type { ClientFlags } from './client-options.js';
import { writeTable } from './format.js';
import { io } from './io.js';
import { chalkFor } from './output.js';
import { type Column, writeJsonLines } from './table.js';

export interface StatsFlags extends ClientFlags {
  from?: string;
  to?: string;
  by?: 'location' | 'client' | 'service_type' | 'employee';
}

export { humanSeconds, percent };

/** A row of a table: a group, or the total. */
type Row = { label: string; name?: string | null } & Pick<StatsGroupView, 'offers' | 'shifts'>;

const TITLES = {
  location: 'location',
  client: 'client',
  service_type: 'service',
  employee: 'employee',
};

function keyColumns(by: StatsResponse['by']): Column<Row>[] {
  const first: Column<Row> = { title: by === null ? '' : TITLES[by], value: (r) => r.label };
  if (by !== 'employee') return [first];
  return [first, { title: 'name', value: (r) => r.name ?? '' }];
}

const OFFER_COLUMNS: Column<Row>[] = [
  { title: 'sent', value: (r) => String(r.offers.sent) },
  { title: 'delivered', value: (r) => String(r.offers.delivered) },
  { title: 'answered', value: (r) => String(r.offers.answered) },
  { title: 'accepted', value: (r) => String(r.offers.accepted) },
  { title: 'rejected', value: (r) => String(r.offers.rejected) },
  { title: 'expired', value: (r) => String(r.offers.expired) },
  { title: 'answer rate', value: (r) => percent(r.offers.response_rate) },
  { title: 'median', value: (r) => humanSeconds(r.offers.response_seconds.median) },
  { title: 'p90', value: (r) => humanSeconds(r.offers.response_seconds.p90) },
];

const count = (n: number | undefined) => (n === undefined ? '' : String(n));

const SHIFT_COLUMNS: Column<Row>[] = [
  { title: 'offered', value: (r) => count(r.shifts?.offered) },
  { title: 'filled', value: (r) => count(r.shifts?.filled) },
  { title: 'fill rate', value: (r) => percent(r.shifts?.fill_rate ?? null) },
  { title: 'unfilled', value: (r) => count(r.shifts?.unfilled) },
  { title: 'withdrawn', value: (r) => count(r.shifts?.withdrawn) },
  { title: 'open', value: (r) => count(r.shifts?.open) },
  {
    title: '1st accept',
    value: (r) => humanSeconds(r.shifts?.first_accept_seconds.median ?? null),
  },
  { title: 'p90', value: (r) => humanSeconds(r.shifts?.first_accept_seconds.p90 ?? null) },
  { title: 'to fill', value: (r) => humanSeconds(r.shifts?.fill_seconds.median ?? null) },
  { title: 'p90', value: (r) => humanSeconds(r.shifts?.fill_seconds.p90 ?? null) },
];

/** `2026-11-01 00:00 UTC`. */
const utc = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

function windowLine(stats: StatsResponse): string {
  if (stats.from === null && stats.to === null) return 'all time';
  if (stats.to === null) return `from ${utc(stats.from as string)}`;
  if (stats.from === null) return `before ${utc(stats.to)}`;
  return `${utc(stats.from)} to ${utc(stats.to)}`;
}

/**
 * `--from` and `--to` checked as the server checks them, before any request: a mistake is a
 * usage error (exit 2), not the server's refusal (exit 4).
 */
function checkWindow(flags: StatsFlags): void {
  const query = { from: flags.from, to: flags.to };
  const checked = StatsQuery.safeParse(query);
  if (checked.success) return;
  const issue = describeIssues(checked.error)[0];
  if (issue?.path === 'to' && issue.message === 'must be after from') {
    throw new ShiftctlError(
      'E_USAGE',
      `--to ${flags.to} must be after --from ${flags.from}: the window would be empty.`,
    );
  }
  const option = issue?.path === 'to' ? 'to' : 'from';
  throw new ShiftctlError('E_USAGE', `--${option} ${query[option]} ${issue?.message}.`);
}

export async function stats(flags: StatsFlags): Promise<void> {
  const out = io.stdout;
  checkWindow(flags);
  // A big database takes a while to add up: more than the usual 10 s is allowed.
  const { api } = clientFrom(flags, 60_000);
  const result = await api.stats({ from: flags.from, to: flags.to, by: flags.by });
  if (flags.json) {
    writeJsonLines(out, [
      { type: 'total', from: result.from, to: result.to, ...result.total },
      ...result.groups.map((g) => ({ type: 'group', by: result.by, ...g })),
    ]);
    return;
  }
  const c = chalkFor(out);
  const rows: Row[] = [
    ...result.groups.map((g) => ({ ...g, label: g.key === null ? '(none)' : String(g.key) })),
    { label: result.by === null ? 'all' : 'total', ...result.total },
  ];
  const key = keyColumns(result.by);
  out.write(`${c.bold('Offers')} sent ${windowLine(result)}; answer times median and p90\n`);
  writeTable(out, rows, [...key, ...OFFER_COLUMNS]);
  // An employee's group has no shift figures: the shift table has the total alone.
  const shiftRows = rows.filter((r) => r.shifts !== null);
  out.write(
    `\n${c.bold('Shifts')} created ${windowLine(result)}; first accept and fill times median and p90\n`,
  );
  writeTable(out, shiftRows, [
    ...(result.by === 'employee' ? [{ title: '', value: (r: Row) => r.label }] : key),
    ...SHIFT_COLUMNS,
  ]);
}
