/** `shiftctl send-offer <emp_id...>`: the declaration; the offers are sent by ../send-offer.ts. */
import type { Command } from 'commander';
import type { z } from 'zod';
import type { SendOfferBody } from '../../protocol/schemas.js';
import { withClientOptions } from '../client-options.js';
import { durationSeconds, integerIn } from '../parse.js';
import type { SendOfferFlags } from '../send-offer.js';
import { loadedBeforeParsing } from './lazy.js';

type FieldName = keyof z.input<typeof SendOfferBody>;

/** Each offer field option and the wire field it sets. */
export const FIELD_OPTIONS = [
  { flag: 'date', field: 'date', arg: '<YYYY-MM-DD>', help: 'date of the shift' },
  { flag: 'start', field: 'start_time', arg: '<HH:MM>', help: 'start time (24-hour)' },
  { flag: 'end', field: 'end_time', arg: '<HH:MM>', help: 'end time (24-hour)' },
  { flag: 'location', field: 'location_name', arg: '<name>', help: 'location name' },
  { flag: 'client', field: 'client_name', arg: '<name>', help: 'client name' },
  { flag: 'service', field: 'service_type', arg: '<type>', help: 'service type' },
  { flag: 'description', field: 'description', arg: '<text>', help: 'description' },
] as const satisfies readonly { flag: string; field: FieldName; arg: string; help: string }[];

export type FieldFlag = (typeof FIELD_OPTIONS)[number]['flag'];

const collectIds = (value: string, previous: number[] = []): number[] => [
  ...previous,
  integerIn(1, Number.MAX_SAFE_INTEGER)(value),
];

export function registerSendOffer(program: Command): void {
  const command = program
    .command('send-offer')
    .description("offer a shift to one or more employees through the seed's test endpoint")
    .argument('<emp_id...>', 'employee ids', collectIds)
    .option(
      '--shift <id>',
      "shift id (default: the file's shift_id, else a fresh shift each time)",
      integerIn(1, Number.MAX_SAFE_INTEGER),
    )
    .option('--file <file>', 'JSON file with the offer fields (see fixtures/offers/)')
    .option(
      '--ttl <duration>',
      'the offer expires this long from now, e.g. 15m (shiftctl servers)',
      durationSeconds(30 * 86_400),
    )
    .option(
      '--urgent',
      "an urgent shift: listed and shown first, with the server's urgent deadline (shiftctl servers)",
    );
  // The fields are checked with the schema the server uses, so the implementation (with zod) is
  // loaded before they are parsed.
  const implementation = loadedBeforeParsing(program, command, () => import('../send-offer.js'));
  for (const o of FIELD_OPTIONS) {
    command.option(`--${o.flag} ${o.arg}`, o.help, (value: string) =>
      implementation().fieldValue(o.field, value),
    );
  }
  withClientOptions(command)
    .addHelpText(
      'after',
      `
A new shift gets the seed's test offer (2026-01-20, 09:00-17:00, Outreach Center, Test Client,
Home Care) with the given fields in place of its own; on a known shift the fields update it.
Options override the file's fields. Exit 4 when the server refused any of the offers.

Examples:
  $ shiftctl send-offer 123 --shift 456
  $ shiftctl send-offer 101 102 123 --file fixtures/offers/overnight.json --date 2026-12-05
  $ shiftctl send-offer 123 --shift 457 --location "Elm House" --start 13:00 --end 21:00 --json
  $ shiftctl send-offer 101 102 --shift 458 --ttl 15m
  $ shiftctl send-offer 101 102 --shift 459 --urgent --file fixtures/offers/urgent-cover.json`,
    )
    .action(async (empIds: number[], flags: SendOfferFlags) => {
      await implementation().sendOffer(empIds, flags);
    });
}
