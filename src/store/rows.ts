/**
 * Rows as both stores read them (the same columns in SQLite and PostgreSQL), and the records
 * the rules get from them. Only the stores import this.
 */
import {
  type OfferResponse,
  type Outcome,
  type Priority,
  ShiftDetails,
  type ShiftMode,
  type ShiftStatus,
} from '../protocol/schemas.js';
import type { OfferedShift, OfferRecord, ShiftRecord } from './types.js';

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
