/**
 * The SQLite store's writes that offer: employees, shifts (created, ensured, their details
 * changed) and offers of an open shift, to everyone at once or queued behind a cascade.
 */
import type Database from 'better-sqlite3';
import { ShiftctlError } from '../errors.js';
import {
  detailsOf,
  type Outcome,
  type ShiftDetails,
  type ShiftStatus,
} from '../protocol/schemas.js';
import { detailColumns } from './rows.js';
import type { SqliteQueries } from './sqlite-queries.js';
import type { Employee, NewShift, OfferRecord, OfferWrite, ShiftRecord } from './types.js';

export function prepareOffering(db: Database.Database, queries: SqliteQueries) {
  const stmt = {
    upsertEmployee: db.prepare(
      'INSERT INTO employees (id, name, role) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = COALESCE(excluded.name, name), role = COALESCE(excluded.role, role)',
    ),
    // Hot writes use positional parameters and no RETURNING: here RETURNING costs more than
    // the insert itself, and reading a row back costs more than building it from what was
    // written (measured in BENCHMARKS.md).
    insertShift: db.prepare(`
      INSERT INTO shifts (id, date, start_time, end_time, location_name, client_name, service_type,
        description, priority, slots, mode, approval, step_ttl_s, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO NOTHING`),
    // The id for a shift created without one: one past the largest (as SQLite would choose),
    // unless that is past 2^53 - 1, where JSON clients lose precision; then the lowest free id.
    nextShiftId: db.prepare('SELECT COALESCE(MAX(id), 0) + 1 FROM shifts').pluck(),
    lowestFreeShiftId: db
      .prepare(`
        SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM shifts WHERE id = 1) THEN 1
          ELSE (SELECT MIN(s.id) + 1 FROM shifts s
                WHERE NOT EXISTS (SELECT 1 FROM shifts t WHERE t.id = s.id + 1)) END`)
      .pluck(),
    // Offers are inserted only for an open shift, in the same statement as the check: the
    // shift's id comes twice (last), for the check.
    insertOffer: db.prepare(`
      INSERT INTO offers (shift_id, emp_id, position, sent_at, expires_at, outcome)
      SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM shifts WHERE id = ? AND status = 'open')
      ON CONFLICT DO NOTHING`),
    // The offer of a shift the same write created (the test endpoint's new shift): no check.
    insertFirstOffer: db.prepare(`
      INSERT INTO offers (shift_id, emp_id, position, sent_at, expires_at, outcome)
      VALUES (?, ?, NULL, ?, ?, 'open')`),
    // Many employees at once (a broadcast): one statement.
    insertOffers: db.prepare(`
      INSERT INTO offers (shift_id, emp_id, position, sent_at, expires_at, outcome)
      SELECT ?, value, NULL, ?, ?, 'open' FROM json_each(?)
      WHERE EXISTS (SELECT 1 FROM shifts WHERE id = ? AND status = 'open')
      ON CONFLICT DO NOTHING`),
    shiftStatus: db.prepare('SELECT status FROM shifts WHERE id = ?').pluck(),
    lastPosition: db
      .prepare('SELECT COALESCE(MAX(position), 0) FROM offers WHERE shift_id = ?')
      .pluck(),
  };

  /** An offer row as it was just inserted, without reading it back. */
  function newOffer(
    shiftId: number,
    empId: number,
    position: number | null,
    sentAt: number | null,
    expiresAt: number | null,
    outcome: Outcome,
  ): OfferRecord {
    return {
      shiftId,
      empId,
      position,
      sentAt,
      expiresAt,
      deliveredAt: null,
      answeredAt: null,
      response: null,
      outcome,
    };
  }

  /**
   * Inserts offers of an open shift; with `queued`, as the next steps of a cascade. Each insert
   * checks that the shift is open, so when every row went in (the usual case) nothing is read.
   * When some did not, the shift is either closed, and then none did (nothing else writes while
   * this runs), or open with those employees already holding an offer, which they keep.
   */
  function addOffers(
    shiftId: number,
    empIds: readonly number[],
    at: number,
    options: { expiresAt?: number | null | undefined; queued?: boolean },
  ): OfferWrite {
    const inserted: Array<OfferRecord | undefined> = [];
    let missed = empIds.length === 0;
    if (options.queued === true) {
      let position = stmt.lastPosition.get(shiftId) as number;
      for (const empId of empIds) {
        const next = position + 1;
        if (stmt.insertOffer.run(shiftId, empId, next, null, null, 'queued', shiftId).changes) {
          position = next;
          inserted.push(newOffer(shiftId, empId, next, null, null, 'queued'));
        } else {
          inserted.push(undefined);
          missed = true;
        }
      }
    } else {
      const expiresAt = options.expiresAt ?? null;
      if (empIds.length > 8) {
        const list = JSON.stringify(empIds);
        const { changes } = stmt.insertOffers.run(shiftId, at, expiresAt, list, shiftId);
        if (changes === empIds.length) {
          const offers = empIds.map((empId) =>
            newOffer(shiftId, empId, null, at, expiresAt, 'open'),
          );
          return { offered: true, offers };
        }
        // Which rows went in is not known: the offers are read back below.
        missed = true;
      } else {
        for (const empId of empIds) {
          if (stmt.insertOffer.run(shiftId, empId, null, at, expiresAt, 'open', shiftId).changes) {
            inserted.push(newOffer(shiftId, empId, null, at, expiresAt, 'open'));
          } else {
            inserted.push(undefined);
            missed = true;
          }
        }
      }
    }
    if (missed) {
      const status = stmt.shiftStatus.get(shiftId) as ShiftStatus | undefined;
      if (status !== 'open') return { offered: false, status };
      const now = new Map(queries.offersForShift(shiftId).map((o) => [o.empId, o]));
      const offers = empIds.map((empId, i) => inserted[i] ?? (now.get(empId) as OfferRecord));
      return { offered: true, offers };
    }
    return { offered: true, offers: inserted as OfferRecord[] };
  }

  function upsertEmployees(employees: Employee[]): void {
    for (const e of employees) stmt.upsertEmployee.run(e.id, e.name ?? null, e.role ?? null);
  }

  /** An id no shift has, never above `Number.MAX_SAFE_INTEGER`. */
  function freeShiftId(): number {
    const next = stmt.nextShiftId.get() as number;
    if (next <= Number.MAX_SAFE_INTEGER) return next;
    const lowest = stmt.lowestFreeShiftId.get() as number;
    if (lowest > Number.MAX_SAFE_INTEGER) {
      throw new ShiftctlError('E_SHIFT_EXISTS', 'Every shift id is taken; give the shift an id.');
    }
    return lowest;
  }

  /** Inserts a shift unless its id is taken; the new shift, or undefined when it was. */
  function insertShift(shift: NewShift, at: number): ShiftRecord | undefined {
    const id = shift.id ?? freeShiftId();
    const details = detailsOf(shift);
    const slots = shift.slots ?? 1;
    const mode = shift.mode ?? 'broadcast';
    const approval = shift.approval === true;
    const stepTtlS = shift.stepTtlS ?? null;
    const { changes } = stmt.insertShift.run(
      id,
      details.date,
      details.start_time,
      details.end_time,
      details.location_name,
      details.client_name,
      details.service_type,
      details.description,
      details.priority,
      slots,
      mode,
      approval ? 1 : 0,
      stepTtlS,
      at,
    );
    if (changes !== 1) return undefined;
    return {
      id,
      date: details.date,
      start_time: details.start_time,
      end_time: details.end_time,
      location_name: details.location_name,
      client_name: details.client_name,
      service_type: details.service_type,
      description: details.description,
      priority: details.priority,
      slots,
      filled: 0,
      status: 'open',
      mode,
      approval,
      stepTtlS,
      createdAt: at,
      closedAt: null,
    };
  }

  function createShift(shift: NewShift, at: number): ShiftRecord {
    const created = insertShift(shift, at);
    if (!created) throw new ShiftctlError('E_SHIFT_EXISTS', `Shift ${shift.id} already exists.`);
    return created;
  }

  function ensureShift(
    shift: NewShift & { id: number },
    at: number,
    offer?: { empIds: readonly number[]; expiresAt: number | null },
    update?: Partial<ShiftDetails>,
  ): { shift: ShiftRecord; created: boolean; offers?: OfferRecord[] } {
    const created = insertShift(shift, at);
    if (created && offer?.empIds.length === 1 && created.mode === 'broadcast') {
      // The usual test offer, one employee and a new shift, open and held by nobody: no check
      // (about half a microsecond per offer in `npm run bench:store`).
      const [empId] = offer.empIds as [number];
      stmt.insertFirstOffer.run(created.id, empId, at, offer.expiresAt);
      const offers = [newOffer(created.id, empId, null, at, offer.expiresAt, 'open')];
      return { shift: created, created: true, offers };
    }
    let record = created ?? (queries.getShift(shift.id) as ShiftRecord);
    if (!created && update && record.status === 'open') {
      record = updateShiftDetails(record.id, update) ?? record;
    }
    if (!offer) return { shift: record, created: created !== undefined };
    const written = addOffers(record.id, offer.empIds, at, {
      expiresAt: offer.expiresAt,
      queued: record.mode === 'cascade',
    });
    return written.offered
      ? { shift: record, created: created !== undefined, offers: written.offers }
      : { shift: record, created: created !== undefined };
  }

  function updateShiftDetails(id: number, details: Partial<ShiftDetails>): ShiftRecord | undefined {
    const fields = detailColumns(details);
    if (fields.length > 0) {
      // Column names come from the fixed list of detail columns, never from the caller.
      const set = fields.map(([k]) => `${k} = @${k}`).join(', ');
      db.prepare(`UPDATE shifts SET ${set} WHERE id = @id`).run({
        ...Object.fromEntries(fields),
        id,
      });
    }
    return queries.getShift(id);
  }

  return { upsertEmployees, createShift, ensureShift, updateShiftDetails, addOffers };
}
