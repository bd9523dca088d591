/**
 * The SQLite store's reads of shifts, offers and employees: statements that write nothing,
 * run at once (outside the group commit).
 */
import type Database from 'better-sqlite3';
import type { ShiftStatus } from '../protocol/schemas.js';
import {
  JOINED_COLUMNS,
  type JoinedRow,
  OFFER_COLUMNS,
  type OfferRow,
  SHIFT_COLUMNS,
  type ShiftRow,
  toOffer,
  toOffered,
  toShift,
} from './rows.js';
import type {
  EmployeeSummary,
  OfferedShift,
  OfferRecord,
  ShiftRecord,
  ShiftSummary,
} from './types.js';

export function prepareQueries(db: Database.Database) {
  const stmt = {
    anyShift: db.prepare('SELECT 1 FROM shifts LIMIT 1').pluck(),
    getShift: db.prepare(`SELECT ${SHIFT_COLUMNS} FROM shifts s WHERE s.id = ?`),
    getOffer: db.prepare(
      `SELECT ${OFFER_COLUMNS} FROM offers o WHERE o.shift_id = ? AND o.emp_id = ?`,
    ),
    offersForShift: db.prepare(
      `SELECT ${OFFER_COLUMNS} FROM offers o WHERE o.shift_id = ? ORDER BY o.position, o.sent_at, o.emp_id`,
    ),
    openOffersFor: db.prepare(`
      SELECT ${JOINED_COLUMNS} FROM offers o JOIN shifts s ON s.id = o.shift_id
      WHERE o.emp_id = ? AND o.outcome = 'open' AND s.status = 'open'
      ORDER BY s.priority = 'urgent' DESC, o.sent_at, o.shift_id`),
    history: db.prepare(`
      SELECT ${JOINED_COLUMNS} FROM offers o JOIN shifts s ON s.id = o.shift_id
      WHERE o.emp_id = ? AND o.sent_at IS NOT NULL
      ORDER BY o.sent_at DESC, o.shift_id DESC LIMIT ?`),
    nextDeadline: db
      .prepare(
        `SELECT MIN(expires_at) FROM offers WHERE outcome = 'open' AND expires_at IS NOT NULL`,
      )
      .pluck(),
    pendingCounts: db.prepare(`
      SELECT o.emp_id AS emp_id, COUNT(*) AS n FROM offers o JOIN shifts s ON s.id = o.shift_id
      WHERE o.outcome = 'open' AND s.status = 'open' GROUP BY o.emp_id`),
    listShifts: db.prepare(`
      SELECT ${SHIFT_COLUMNS},
        (SELECT COUNT(*) FROM offers o WHERE o.shift_id = s.id) AS n_total,
        (SELECT COUNT(*) FROM offers o WHERE o.shift_id = s.id AND o.outcome = 'queued') AS n_queued,
        (SELECT COUNT(*) FROM offers o WHERE o.shift_id = s.id AND o.outcome = 'open') AS n_open,
        (SELECT COUNT(*) FROM offers o WHERE o.shift_id = s.id AND o.outcome = 'requested') AS n_requested,
        (SELECT COUNT(*) FROM offers o WHERE o.shift_id = s.id AND o.response = 'accepted') AS n_accepted,
        (SELECT COUNT(*) FROM offers o WHERE o.shift_id = s.id AND o.response = 'rejected') AS n_rejected,
        (SELECT COUNT(*) FROM offers o WHERE o.shift_id = s.id AND o.outcome = 'expired') AS n_expired,
        (SELECT json_group_array(o.emp_id) FROM offers o
          WHERE o.shift_id = s.id AND o.outcome = 'assigned') AS assigned_to
      FROM shifts s WHERE (@status IS NULL OR s.status = @status) AND (@id IS NULL OR s.id = @id)
      ORDER BY s.date, s.start_time, s.id`),
    employees: db.prepare(`
      WITH ids AS (
        SELECT id AS emp_id FROM employees UNION SELECT emp_id FROM offers
      )
      SELECT ids.emp_id AS emp_id, e.name AS name,
        (SELECT json_group_array(o.shift_id) FROM offers o JOIN shifts s ON s.id = o.shift_id
          WHERE o.emp_id = ids.emp_id AND o.outcome = 'open' AND s.status = 'open') AS pending,
        (SELECT json_group_array(o.shift_id) FROM offers o
          WHERE o.emp_id = ids.emp_id AND o.outcome = 'assigned') AS assigned
      FROM ids LEFT JOIN employees e ON e.id = ids.emp_id ORDER BY ids.emp_id`),
  };

  function listShifts(status: ShiftStatus | null, id: number | null): ShiftSummary[] {
    const rows = stmt.listShifts.all({ status, id }) as Array<
      ShiftRow & {
        n_total: number;
        n_queued: number;
        n_open: number;
        n_requested: number;
        n_accepted: number;
        n_rejected: number;
        n_expired: number;
        assigned_to: string;
      }
    >;
    return rows.map((r) => ({
      shift: toShift(r),
      assignedTo: JSON.parse(r.assigned_to) as number[],
      offers: {
        total: r.n_total,
        queued: r.n_queued,
        open: r.n_open,
        requested: r.n_requested,
        accepted: r.n_accepted,
        rejected: r.n_rejected,
        expired: r.n_expired,
      },
    }));
  }

  return {
    isEmpty(): boolean {
      return stmt.anyShift.get() === undefined;
    },
    getShift(id: number): ShiftRecord | undefined {
      const row = stmt.getShift.get(id) as ShiftRow | undefined;
      return row && toShift(row);
    },
    listShifts,
    getOffer(shiftId: number, empId: number): OfferRecord | undefined {
      const row = stmt.getOffer.get(shiftId, empId) as OfferRow | undefined;
      return row && toOffer(row);
    },
    offersForShift(shiftId: number): OfferRecord[] {
      return (stmt.offersForShift.all(shiftId) as OfferRow[]).map(toOffer);
    },
    openOffersFor(empId: number): OfferedShift[] {
      return (stmt.openOffersFor.all(empId) as JoinedRow[]).map(toOffered);
    },
    history(empId: number, limit: number): OfferedShift[] {
      return (stmt.history.all(empId, limit) as JoinedRow[]).map(toOffered);
    },
    nextDeadline(): number | undefined {
      return (stmt.nextDeadline.get() as number | null) ?? undefined;
    },
    pendingCounts(): Map<number, number> {
      const rows = stmt.pendingCounts.all() as Array<{ emp_id: number; n: number }>;
      return new Map(rows.map((r) => [r.emp_id, r.n]));
    },
    employees(): EmployeeSummary[] {
      const rows = stmt.employees.all() as Array<{
        emp_id: number;
        name: string | null;
        pending: string;
        assigned: string;
      }>;
      return rows.map(
        (r): EmployeeSummary => ({
          empId: r.emp_id,
          name: r.name,
          pending: JSON.parse(r.pending) as number[],
          assigned: JSON.parse(r.assigned) as number[],
        }),
      );
    },
  };
}

export type SqliteQueries = ReturnType<typeof prepareQueries>;
