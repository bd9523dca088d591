/**
 * The protocol's lists of names, without zod: the schemas build their enums from these, and the
 * browser pages import them from here so that their bundles need no zod.
 */

/** `urgent` shifts jump the queue: listed first, shown first, marked; `normal` by default. */
export const PRIORITIES = ['normal', 'urgent'] as const;

/** The platforms a push token comes from. */
export const DEVICE_PLATFORMS = ['android', 'ios'] as const;

/** What `GET /api/admin/stats?by=` groups by. */
export const STATS_GROUPINGS = ['location', 'client', 'service_type', 'employee'] as const;
