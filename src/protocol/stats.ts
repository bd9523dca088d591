/**
 * `GET /api/admin/stats`: its query and its answer, defined once for validation, types, the
 * OpenAPI document and the client. What each figure counts is in docs/stats.md.
 */
import { z } from 'zod';
import { STATS_GROUPINGS } from './names.js';
import { DateString, registry } from './schemas.js';

export { STATS_GROUPINGS };
export const StatsGrouping = z.enum(STATS_GROUPINGS);

const DAY_MS = 86_400_000;

/** A date (`YYYY-MM-DD`, UTC) or a date-time with its offset (`2026-11-01T08:00:00Z`). */
const Moment = z.union([DateString, z.iso.datetime({ offset: true })], {
  error: 'must be a date (YYYY-MM-DD) or a date-time with an offset (2026-11-01T08:00:00Z)',
});

const isDate = (text: string) => text.length === 10;

/** The window's bounds in ms: `from` at its start, a `to` date at the end of that day. */
export function windowOf(query: { from?: string | undefined; to?: string | undefined }): {
  from: number | undefined;
  to: number | undefined;
} {
  const at = (text: string) => Date.parse(isDate(text) ? `${text}T00:00:00Z` : text);
  return {
    from: query.from === undefined ? undefined : at(query.from),
    to: query.to === undefined ? undefined : at(query.to) + (isDate(query.to) ? DAY_MS : 0),
  };
}

export const StatsQuery = z
  .object({
    from: Moment.optional().describe(
      'Start of the window (included): a date (its midnight, UTC) or a date-time with an offset.',
    ),
    to: Moment.optional().describe(
      'End of the window (excluded): a date-time, or a date, which includes that whole day (UTC).',
    ),
    by: StatsGrouping.optional().describe(
      'Also give the figures per location, client, service type or employee.',
    ),
  })
  .strict()
  .refine(
    (q) => {
      const { from, to } = windowOf(q);
      return from === undefined || to === undefined || from < to;
    },
    { message: 'must be after from', path: ['to'] },
  );
export type StatsQuery = z.infer<typeof StatsQuery>;

const Rate = z
  .number()
  .min(0)
  .max(1)
  .nullable()
  .describe('A fraction from 0 to 1, to four places; null when nothing was counted.');

const Seconds = z
  .object({
    median: z.number().nullable(),
    p90: z.number().nullable().describe('90th percentile (interpolated, as percentile_cont).'),
  })
  .describe('Seconds, to the millisecond; null when there is nothing to time.');

export const OfferFigures = z.object({
  sent: z.number().int().describe('Offers sent in the window (queued cascade steps are not).'),
  delivered: z
    .number()
    .int()
    .describe("Of those, written to a connected device of the employee's at least once."),
  answered: z.number().int().describe('With any response: accepted or rejected.'),
  accepted: z.number().int().describe('Accepted, won or not (a late accept of a taken shift).'),
  rejected: z.number().int(),
  expired: z.number().int().describe('Closed unanswered by their deadline.'),
  assigned: z.number().int().describe('Holding an assignment now.'),
  response_rate: Rate.describe('answered / sent.'),
  response_seconds: Seconds.describe('From sending to the response, over answered offers.'),
});

export const ShiftFigures = z.object({
  offered: z.number().int().describe('Shifts created in the window with at least one offer sent.'),
  filled: z.number().int().describe('Every slot filled (status `assigned`).'),
  unfilled: z
    .number()
    .int()
    .describe(
      'Not filled, with nobody left to ask: a cascade that ran out, or an open shift whose offers were all rejected or expired.',
    ),
  withdrawn: z.number().int(),
  open: z.number().int().describe('Open, with an offer still open, queued or awaiting approval.'),
  fill_rate: Rate.describe('filled / offered.'),
  first_accept_seconds: Seconds.describe(
    'From the first offer sent to the first acceptance, over shifts with one.',
  ),
  fill_seconds: Seconds.describe(
    'From the first offer sent to the last slot taken, over filled shifts.',
  ),
});

const Figures = {
  offers: OfferFigures,
  shifts: ShiftFigures.nullable().describe('Null in the groups of `by=employee`.'),
};

export const StatsGroupView = z.object({
  key: z
    .union([z.string(), z.number().int()])
    .nullable()
    .describe(
      'The location, client or service type (null: shifts without one), or the employee id.',
    ),
  name: z.string().nullable().optional().describe("By employee: the employee's name, if known."),
  ...Figures,
});
export type StatsGroupView = z.infer<typeof StatsGroupView>;

const EXAMPLE_OFFERS = {
  sent: 1240,
  delivered: 1181,
  answered: 806,
  accepted: 281,
  rejected: 525,
  expired: 57,
  assigned: 122,
  response_rate: 0.65,
  response_seconds: { median: 98.2, p90: 702.5 },
};
const EXAMPLE_SHIFTS = {
  offered: 131,
  filled: 110,
  unfilled: 13,
  withdrawn: 2,
  open: 6,
  fill_rate: 0.8397,
  first_accept_seconds: { median: 47.9, p90: 371.2 },
  fill_seconds: { median: 51.3, p90: 402.8 },
};

export const StatsResponse = z
  .object({
    from: z.string().nullable().describe('The window as applied (ISO-8601, UTC); null: open.'),
    to: z.string().nullable(),
    by: StatsGrouping.nullable(),
    total: z.object(Figures).describe('Everything in the window.'),
    groups: z
      .array(StatsGroupView)
      .describe('With `by`: one group per key, most offers sent first; otherwise empty.'),
  })
  .meta({
    id: 'Stats',
    examples: [
      {
        from: '2026-11-01T00:00:00.000Z',
        to: '2026-12-01T00:00:00.000Z',
        by: 'location',
        total: { offers: EXAMPLE_OFFERS, shifts: EXAMPLE_SHIFTS },
        groups: [
          {
            key: 'Maple Grove Care Home',
            offers: EXAMPLE_OFFERS,
            shifts: EXAMPLE_SHIFTS,
          },
        ],
      },
    ],
    description:
      'Offers sent in the window (by when they were sent) and what came of them; shifts created in the window and how fast they filled.',
  });
export type StatsResponse = z.infer<typeof StatsResponse>;

registry.add(StatsResponse, {
  id: 'Stats',
  description: z.globalRegistry.get(StatsResponse)?.description,
});
