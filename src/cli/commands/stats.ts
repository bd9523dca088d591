/** `shiftctl stats`: the declaration; the tables are made by ../stats.ts. */
import { type Command, InvalidArgumentError } from 'commander';
import { withClientOptions } from '../client-options.js';
import { oneOf } from '../parse.js';
import type { StatsFlags } from '../stats.js';

/** A date or a date-time, roughly: the server checks it exactly and says what is wrong. */
function moment(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}(T\S+)?$/.test(value.trim())) {
    throw new InvalidArgumentError(
      'Expected a date (2026-11-01) or a date-time with an offset (2026-11-01T08:00:00Z).',
    );
  }
  return value.trim();
}

export function registerStats(program: Command): void {
  withClientOptions(
    program
      .command('stats')
      .description('show offer and fill figures: answers, response times, fill rate, time to fill')
      .option('--from <when>', 'from this date (UTC midnight) or date-time with offset', moment)
      .option('--to <when>', 'up to this date (the whole day) or date-time (excluded)', moment)
      .option(
        '--by <grouping>',
        'also per location, client, service_type or employee',
        oneOf(['location', 'client', 'service_type', 'employee'] as const),
      ),
  )
    .addHelpText(
      'after',
      `
Offers are counted by when they were sent, shifts by when they were created (GET
/api/admin/stats; every figure is defined in docs/stats.md). Durations are medians and 90th
percentiles; rates are answered/sent and filled/offered. An employee has no shift figures.

With --json, one object a line: the total first, then each group, most offers sent first:
  {"type":"total","from":null,"to":null,"offers":{"sent":1240,...},"shifts":{...}}
  {"type":"group","by":"location","key":"Maple Grove Care Home","offers":{...},"shifts":{...}}

Examples:
  $ shiftctl stats
  $ shiftctl stats --from 2026-11-01 --to 2026-11-30 --by location
  $ shiftctl stats --by employee --json | jq -r 'select(.type == "group") | [.key, .offers.response_rate] | @tsv'`,
    )
    .action(async (flags: StatsFlags) => {
      const { stats } = await import('../stats.js');
      await stats(flags);
    });
}
