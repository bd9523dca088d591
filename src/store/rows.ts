/**
 * Rows as both stores read them (the same columns in SQLite and PostgreSQL), and the records
 * the rules get from them. Only the stores import this.
 */
import {
  type DevicePlatform,
  type OfferResponse,
  type Outcome,
  type Priority,
  ShiftDetails,
  type ShiftMode,
  type ShiftStatus,
} from '../protocol/schemas.js';
import type {
  CancelledPush,
  ClaimedPush,
  DeviceRecord,
  OfferedShift,
  OfferRecord,
  PushCancelReason,
  ShiftRecord,
} from './types.js';

export interface ShiftRow {
  id: number;
  date: string;
  start_time: string;
  end_time: string;
  location_name: string | null;
  client_name: string | null;
  service_type: string | null;
  description: string | null;
  priority: Priority;
  slots: number;
  filled: number;
  status: ShiftStatus;
  mode: ShiftMode;
  /** SQLite has no booleans: 0 or 1 there, a boolean in PostgreSQL. */
  approval: number | boolean;
  step_ttl_s: number | null;
  created_at: number;
  closed_at: number | null;
}

export interface OfferRow {
  shift_id: number;
  emp_id: number;
  position: number | null;
  sent_at: number | null;
  expires_at: number | null;
  delivered_at: number | null;
  answered_at: number | null;
  response: OfferResponse | null;
  outcome: Outcome;
}

export const SHIFT_FIELDS = [
  'id',
  'date',
  'start_time',
  'end_time',
  'location_name',
  'client_name',
  'service_type',
  'description',
  'priority',
  'slots',
  'filled',
  'status',
  'mode',
  'approval',
  'step_ttl_s',
  'created_at',
  'closed_at',
] as const;

export const OFFER_FIELDS = [
  'shift_id',
  'emp_id',
  'position',
  'sent_at',
  'expires_at',
  'delivered_at',
  'answered_at',
  'response',
  'outcome',
] as const;

export const SHIFT_COLUMNS = SHIFT_FIELDS.map((f) => `s.${f}`).join(', ');
export const OFFER_COLUMNS = OFFER_FIELDS.map((f) => `o.${f}`).join(', ');
/** A shift with one of its offers: the offer's columns come under `o_` names. */
export const JOINED_COLUMNS = `${SHIFT_COLUMNS}, ${OFFER_FIELDS.map((f) => `o.${f} AS o_${f}`).join(', ')}`;

/** A row of `JOINED_COLUMNS`. */
export type JoinedRow = ShiftRow & {
  [K in (typeof OFFER_FIELDS)[number] as `o_${K}`]: OfferRow[K];
};

/** The columns a shift's details may change: the protocol's detail fields, and no other. */
const DETAIL_COLUMNS: ReadonlySet<string> = new Set(Object.keys(ShiftDetails.shape));

/**
 * The detail fields given, as [column, value]: only known detail columns, so that a key never
 * reaches SQL as a column name unless it is one.
 */
export function detailColumns(details: Partial<ShiftDetails>): Array<[string, unknown]> {
  return Object.entries(details).filter(([k, v]) => v !== undefined && DETAIL_COLUMNS.has(k));
}

export function toShift(row: ShiftRow): ShiftRecord {
  return {
    id: row.id,
    date: row.date,
    start_time: row.start_time,
    end_time: row.end_time,
    location_name: row.location_name,
    client_name: row.client_name,
    service_type: row.service_type,
    description: row.description,
    priority: row.priority,
    slots: row.slots,
    filled: row.filled,
    status: row.status,
    mode: row.mode,
    approval: row.approval === true || row.approval === 1,
    stepTtlS: row.step_ttl_s,
    createdAt: row.created_at,
    closedAt: row.closed_at,
  };
}

export function toOffer(row: OfferRow): OfferRecord {
  return {
    shiftId: row.shift_id,
    empId: row.emp_id,
    position: row.position,
    sentAt: row.sent_at,
    expiresAt: row.expires_at,
    deliveredAt: row.delivered_at,
    answeredAt: row.answered_at,
    response: row.response,
    outcome: row.outcome,
  };
}

export function toOffered(row: JoinedRow): OfferedShift {
  const offer = Object.fromEntries(
    OFFER_FIELDS.map((f) => [f, row[`o_${f}`]]),
  ) as unknown as OfferRow;
  return { shift: toShift(row), offer: toOffer(offer) };
}

/**
 * Why a push due now is not to be sent, as SQL over `pushes p` joined (left) with its offer
 * `o`, its shift `s` and its token `d`, with the time at `now`: NULL when it is to be sent.
 * `empId` is the push's employee (a push about to be scheduled has no `p` yet).
 */
export function pushCancelReason(now: string, empId = 'p.emp_id'): string {
  return `CASE
    WHEN o.shift_id IS NULL THEN 'closed'
    WHEN o.response IS NOT NULL THEN 'answered'
    WHEN o.outcome IN ('expired', 'withdrawn', 'taken') THEN o.outcome
    WHEN o.outcome <> 'open' OR s.status <> 'open' THEN 'closed'
    WHEN o.expires_at IS NOT NULL AND o.expires_at <= ${now} THEN 'expired'
    WHEN o.delivered_at IS NOT NULL THEN 'delivered'
    WHEN d.token IS NULL OR d.emp_id <> ${empId} THEN 'unregistered'
  END`;
}

/**
 * Schedules pushes of an employee's waiting offers to a token they just registered (see
 * `Store.schedulePushesForToken`); `greatest` is the dialect's two-argument maximum. Parameters
 * by name: emp_id, token, after, now.
 */
export function pushesForTokenSql(greatest: string, param: (name: string) => string): string {
  // The offers a push would be sent for now, by the rule due pushes are checked by.
  return `
    INSERT INTO pushes (shift_id, emp_id, token, due_at)
    SELECT o.shift_id, o.emp_id, d.token, ${greatest}(o.sent_at + ${param('after')}, ${param('now')})
    FROM offers o
    JOIN shifts s ON s.id = o.shift_id
    JOIN devices d ON d.token = ${param('token')} AND d.emp_id = o.emp_id
    WHERE o.emp_id = ${param('emp_id')} AND o.sent_at IS NOT NULL
      AND ${pushCancelReason(param('now'), 'o.emp_id')} IS NULL
    ON CONFLICT DO NOTHING`;
}

export interface DeviceRow {
  emp_id: number;
  token: string;
  platform: DevicePlatform;
  registered_at: number;
  seen_at: number;
}

export const DEVICE_COLUMNS = 'emp_id, token, platform, registered_at, seen_at';

export function toDevice(row: DeviceRow): DeviceRecord {
  return {
    empId: row.emp_id,
    token: row.token,
    platform: row.platform,
    registeredAt: row.registered_at,
    seenAt: row.seen_at,
  };
}

/** A due push with what sending it needs: its offer's shift, deadline and token's platform. */
export type DuePushRow = ShiftRow & {
  p_shift_id: number;
  p_emp_id: number;
  p_token: string;
  p_attempts: number;
  o_expires_at: number | null;
  d_platform: DevicePlatform | null;
  reason: PushCancelReason | null;
};

/** The columns of a `DuePushRow`, over the joins `pushCancelReason` names. */
export function duePushColumns(now: string): string {
  return `${SHIFT_COLUMNS}, p.shift_id AS p_shift_id, p.emp_id AS p_emp_id, p.token AS p_token,
    p.attempts AS p_attempts, o.expires_at AS o_expires_at, d.platform AS d_platform,
    ${pushCancelReason(now)} AS reason`;
}

/** The joins of a due push (`pushes p`): its offer, shift and token, any of them gone. */
export const DUE_PUSH_JOINS = `
  LEFT JOIN offers o ON o.shift_id = p.shift_id AND o.emp_id = p.emp_id
  LEFT JOIN shifts s ON s.id = p.shift_id
  LEFT JOIN devices d ON d.token = p.token`;

/** Due pushes split into those to send (claimed, attempt counted) and those cancelled. */
export function splitDuePushes(rows: readonly DuePushRow[]): {
  claimed: ClaimedPush[];
  cancelled: CancelledPush[];
} {
  const claimed: ClaimedPush[] = [];
  const cancelled: CancelledPush[] = [];
  for (const r of rows) {
    const key = { shiftId: r.p_shift_id, empId: r.p_emp_id, token: r.p_token };
    if (r.reason !== null || r.d_platform === null) {
      cancelled.push({ ...key, reason: r.reason ?? 'closed', attempts: r.p_attempts });
    } else {
      claimed.push({
        ...key,
        platform: r.d_platform,
        attempt: r.p_attempts + 1,
        shift: toShift(r),
        expiresAt: r.o_expires_at,
      });
    }
  }
  return { claimed, cancelled };
}
