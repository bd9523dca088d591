/** Pure conversions from store records to the wire shapes of PROTOCOL.md. */
import {
  detailsOf,
  type HistoryItem,
  type OfferState,
  type ShiftOfferMessage,
  type ShiftView,
} from '../protocol/schemas.js';
import type { OfferedShift, OfferRecord, ShiftRecord, ShiftSummary } from '../store/types.js';

const OPTIONAL_FIELDS = ['location_name', 'client_name', 'service_type', 'description'] as const;

// The second last formatted, as "YYYY-MM-DDTHH:MM:SS.": answers and journal lines come many to a
// second, and formatting a Date costs about half a microsecond where this costs a twentieth.
let cachedSecond = Number.NaN;
let cachedPrefix = '';

/** `ms` as `new Date(ms).toISOString()` gives it. */
export function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond || !Number.isInteger(ms)) {
    const full = new Date(ms).toISOString();
    // Years before 0 or after 9999 are spelled longer: those are not cached.
    if (full.length === 24 && Number.isInteger(ms)) {
      cachedSecond = second;
      cachedPrefix = full.slice(0, 20);
    }
    return full;
  }
  const milli = ms - second * 1000;
  return `${cachedPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : isoTime(ms);
}

/**
 * The `shift_offer` message exactly as the app parses it; absent optional fields are omitted.
 * `expires_at` is added when the offer has a deadline, `priority` when the shift is urgent (a
 * normal offer stays byte for byte the seed's).
 */
export function toOfferMessage(shift: ShiftRecord, expiresAt?: number | null): ShiftOfferMessage {
  const message: ShiftOfferMessage = {
    type: 'shift_offer',
    shift_id: shift.id,
    date: shift.date,
    start_time: shift.start_time,
    end_time: shift.end_time,
  };
  for (const field of OPTIONAL_FIELDS) {
    const value = shift[field];
    if (value !== null && value !== undefined) message[field] = value;
  }
  if (expiresAt !== null && expiresAt !== undefined) message.expires_at = isoTime(expiresAt);
  if (shift.priority === 'urgent') message.priority = 'urgent';
  return message;
}

export function toOfferState(offer: OfferRecord): OfferState {
  return {
    emp_id: offer.empId,
    position: offer.position,
    sent_at: isoOrNull(offer.sentAt),
    expires_at: isoOrNull(offer.expiresAt),
    delivered_at: isoOrNull(offer.deliveredAt),
    answered_at: isoOrNull(offer.answeredAt),
    response: offer.response,
    outcome: offer.outcome,
  };
}

export function toHistoryItem({ shift, offer }: OfferedShift): HistoryItem {
  const { emp_id: _emp, ...state } = toOfferState(offer);
  return { ...toOfferMessage(shift), ...state };
}

export function toShiftView({ shift, assignedTo, offers }: ShiftSummary): ShiftView {
  const view: ShiftView = {
    id: shift.id,
    ...detailsOf(shift),
    status: shift.status,
    mode: shift.mode,
    approval: shift.approval,
    slots: shift.slots,
    step_ttl_seconds: shift.stepTtlS,
    assigned_to: assignedTo,
    created_at: isoTime(shift.createdAt),
    closed_at: isoOrNull(shift.closedAt),
    offers,
  };
  return view;
}
