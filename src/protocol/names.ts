/**
 * The protocol's lists of names, without zod: the schemas build their enums from these, and the
 * browser pages import them from here so that their bundles need no zod.
 */

/** `urgent` shifts jump the queue: listed first, shown first, marked; `normal` by default. */
export const PRIORITIES = ['normal', 'urgent'] as const;

/** The platforms a push token comes from. */
export const DEVICE_PLATFORMS = ['android', 'ios'] as const;

/**
 * A journal line of a GET request: it read, so nothing changed. The dashboard's journal and
 * `shiftctl log --follow` leave these out unless asked (their own reads are most of them).
 */
export const isRead = (entry: { kind: string; name: string }): boolean =>
  entry.kind === 'request' && entry.name.startsWith('GET ');

/** What `GET /api/admin/stats?by=` groups by. */
export const STATS_GROUPINGS = ['location', 'client', 'service_type', 'employee'] as const;

/** What an offer's card shows: an offer sent again with any of these changed replaces the one held. */
export const OFFER_DETAILS = [
  'date',
  'start_time',
  'end_time',
  'location_name',
  'client_name',
  'service_type',
  'description',
  'expires_at',
  'priority',
] as const;

type Details = Partial<Record<(typeof OFFER_DETAILS)[number], unknown>>;

/** Whether two offers of a shift show the same (a missing field and null alike). */
export const sameDetails = (a: Details, b: Details): boolean =>
  OFFER_DETAILS.every((k) => (a[k] ?? null) === (b[k] ?? null));
