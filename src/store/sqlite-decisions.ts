/**
 * The SQLite store's decisions on offers once made: answers (first come, first served, or a
 * request to approve), approvals, deadlines, cascade steps and withdrawal. Each check and its
 * write are one statement, or statements of one write of the group commit.
 */
import type Database from 'better-sqlite3';
import type { Outcome, ShiftStatus } from '../protocol/schemas.js';
import type { SqliteQueries } from './sqlite-queries.js';
import type { ClaimResult, Closed, OfferRecord } from './types.js';

export function prepareDecisions(db: Database.Database, queries: SqliteQueries) {
  const stmt = {
    // An answer is recorded once, on an offer that was sent and not closed by its deadline or a
    // withdrawal; an open offer past its deadline counts as expired even before its timer runs.
    // (An offer closed because the shift went to others is still answered: it was taken.)
    reject: db.prepare(`
      UPDATE offers SET response = 'rejected', answered_at = @at,
        outcome = CASE WHEN outcome = 'open' THEN 'rejected' ELSE outcome END,
        closed_at = COALESCE(closed_at, @at)
      WHERE shift_id = @shift_id AND emp_id = @emp_id AND response IS NULL AND sent_at IS NOT NULL
        AND outcome <> 'queued' AND outcome <> 'expired' AND outcome <> 'withdrawn'
        AND (outcome <> 'open' OR expires_at IS NULL OR expires_at > @at)
      RETURNING outcome`),
    // The usual rejection: an open offer within its deadline.
    rejectOpen: db.prepare(`
      UPDATE offers SET response = 'rejected', answered_at = ?, outcome = 'rejected', closed_at = ?
      WHERE shift_id = ? AND emp_id = ? AND response IS NULL AND sent_at IS NOT NULL
        AND outcome = 'open' AND (expires_at IS NULL OR expires_at > ?)`),
    // The usual acceptance, in two writes: an open offer within its deadline, of an open shift
    // with a slot left and no approval step, takes the slot; then the offer records it. Taking
    // the last slot and taking another are two statements, so that which one changed a row says
    // whether the shift is now full without reading it back.
    takeLastSlotFor: db.prepare(`
      UPDATE shifts SET filled = filled + 1, status = 'assigned', closed_at = ?
      WHERE id = ? AND status = 'open' AND filled + 1 = slots AND approval = 0
        AND EXISTS (SELECT 1 FROM offers o WHERE o.shift_id = ? AND o.emp_id = ?
          AND o.response IS NULL AND o.sent_at IS NOT NULL AND o.outcome = 'open'
          AND (o.expires_at IS NULL OR o.expires_at > ?))`),
    takeSlotFor: db.prepare(`
      UPDATE shifts SET filled = filled + 1
      WHERE id = ? AND status = 'open' AND filled + 1 < slots AND approval = 0
        AND EXISTS (SELECT 1 FROM offers o WHERE o.shift_id = ? AND o.emp_id = ?
          AND o.response IS NULL AND o.sent_at IS NOT NULL AND o.outcome = 'open'
          AND (o.expires_at IS NULL OR o.expires_at > ?))`),
    acceptWon: db.prepare(`
      UPDATE offers SET response = 'accepted', answered_at = ?, outcome = 'assigned', closed_at = ?
      WHERE shift_id = ? AND emp_id = ?`),
    // A late acceptance: the shift went to someone else first (the losers of a race).
    acceptTaken: db.prepare(`
      UPDATE offers SET response = 'accepted', answered_at = ?
      WHERE shift_id = ? AND emp_id = ? AND response IS NULL AND sent_at IS NOT NULL
        AND outcome = 'taken'`),
    recordAccept: db.prepare(`
      UPDATE offers SET response = 'accepted', answered_at = @at
      WHERE shift_id = @shift_id AND emp_id = @emp_id AND response IS NULL AND sent_at IS NOT NULL
        AND outcome <> 'queued' AND outcome <> 'expired' AND outcome <> 'withdrawn'
        AND (outcome <> 'open' OR expires_at IS NULL OR expires_at > @at)`),
    // What a recorded acceptance found: the offer's outcome and whether the shift needs approval.
    acceptedState: db
      .prepare(`
        SELECT o.outcome, s.approval FROM offers o JOIN shifts s ON s.id = o.shift_id
        WHERE o.shift_id = ? AND o.emp_id = ?`)
      .raw(),
    takeSlot: db.prepare(`
      UPDATE shifts SET filled = filled + 1,
        status = CASE WHEN filled + 1 >= slots THEN 'assigned' ELSE status END,
        closed_at = CASE WHEN filled + 1 >= slots THEN @at ELSE closed_at END
      WHERE id = @id AND status = 'open' AND filled < slots
      RETURNING status`),
    setOutcome: db.prepare(
      'UPDATE offers SET outcome = ?, closed_at = ? WHERE shift_id = ? AND emp_id = ?',
    ),
    // An approval takes a slot of the open shift only for a request still standing: the check
    // and the write are one statement, as a claim's are.
    approveSlot: db.prepare(`
      UPDATE shifts SET filled = filled + 1,
        status = CASE WHEN filled + 1 >= slots THEN 'assigned' ELSE status END,
        closed_at = CASE WHEN filled + 1 >= slots THEN @at ELSE closed_at END
      WHERE id = @id AND status = 'open' AND filled < slots
        AND EXISTS (SELECT 1 FROM offers o WHERE o.shift_id = @id AND o.emp_id = @emp_id
          AND o.outcome = 'requested')
      RETURNING status`),
    turnDownRequest: db.prepare(`
      UPDATE offers SET outcome = 'taken', closed_at = ?
      WHERE shift_id = ? AND emp_id = ? AND outcome = 'requested'`),
    // The shift is full: every offer still open, requested or queued is taken (a withdrawal has
    // its own statements). Read first (a full shift usually has none left) and written only when
    // there are some.
    // (Spelled with OR: a list after IN builds a temporary table on every run.)
    restOpen: db
      .prepare(`
        SELECT emp_id, sent_at IS NOT NULL FROM offers
        WHERE shift_id = ? AND (outcome = 'open' OR outcome = 'requested' OR outcome = 'queued')`)
      .raw(),
    closeRest: db.prepare(`
      UPDATE offers SET outcome = 'taken', closed_at = ?
      WHERE shift_id = ? AND (outcome = 'open' OR outcome = 'requested' OR outcome = 'queued')`),
    expireDue: db.prepare(`
      UPDATE offers SET outcome = 'expired', closed_at = expires_at
      WHERE outcome = 'open' AND expires_at <= ? RETURNING shift_id, emp_id`),
    nextQueued: db.prepare(`
      SELECT emp_id FROM offers WHERE shift_id = ? AND outcome = 'queued'
      ORDER BY position LIMIT 1`),
    // A cascade moves on only while its shift is open and nobody holds it: each step, and the
    // end of the list, is decided and written by one statement.
    openStep: db.prepare(`
      UPDATE offers SET outcome = 'open', sent_at = @at, expires_at = @expires_at
      WHERE shift_id = @shift_id AND emp_id = @emp_id AND outcome = 'queued'
        AND EXISTS (SELECT 1 FROM shifts WHERE id = @shift_id AND status = 'open')
        AND NOT EXISTS (SELECT 1 FROM offers h WHERE h.shift_id = @shift_id
          AND (h.outcome = 'open' OR h.outcome = 'requested'))`),
    closeUnfilled: db.prepare(`
      UPDATE shifts SET status = 'unfilled', closed_at = @at WHERE id = @shift_id AND status = 'open'
        AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.shift_id = @shift_id
          AND (o.outcome = 'open' OR o.outcome = 'requested' OR o.outcome = 'queued'))`),
    closeShift: db.prepare(
      `UPDATE shifts SET status = ?, closed_at = ? WHERE id = ? AND status = 'open'`,
    ),
    // A withdrawal cancels the shift's assignments too (a shift with slots left can have some):
    // no slot stays filled, and every offer not answered for good closes with those assigned.
    withdrawShift: db.prepare(
      `UPDATE shifts SET status = 'withdrawn', filled = 0, closed_at = ? WHERE id = ? AND status = 'open'`,
    ),
    withdrawOffers: db
      .prepare(`
        UPDATE offers SET outcome = 'withdrawn', closed_at = ?
        WHERE shift_id = ? AND (outcome = 'open' OR outcome = 'requested' OR outcome = 'queued'
          OR outcome = 'assigned')
        RETURNING emp_id, sent_at IS NOT NULL`)
      .raw(),
  };

  /**
   * The shift filled: every offer of it still open, requested or queued is taken; returns those
   * who held one (it was sent) to be told. Those queued behind a cascade never knew of it.
   */
  function closeRest(shiftId: number, at: number): number[] {
    const rows = stmt.restOpen.all(shiftId) as Array<[number, 0 | 1]>;
    if (rows.length === 0) return [];
    stmt.closeRest.run(at, shiftId);
    return rows.filter(([, held]) => held === 1).map(([empId]) => empId);
  }

  /** An assignment was recorded: when it filled the shift, the other offers close. */
  function assigned(shiftId: number, at: number, shiftFilled: boolean): ClaimResult {
    const closed = shiftFilled ? closeRest(shiftId, at) : [];
    return { recorded: true, outcome: 'assigned', shiftFilled, closed };
  }

  /** Gives this employee a slot if one is left; closes the others when the shift fills. */
  function takeSlot(shiftId: number, empId: number, at: number): ClaimResult {
    const slot = stmt.takeSlot.get({ id: shiftId, at }) as { status: ShiftStatus } | undefined;
    if (!slot) {
      stmt.setOutcome.run('taken', at, shiftId, empId);
      return { recorded: true, outcome: 'taken', shiftFilled: true, closed: [] };
    }
    stmt.setOutcome.run('assigned', at, shiftId, empId);
    return assigned(shiftId, at, slot.status === 'assigned');
  }

  function claim(shiftId: number, empId: number, at: number): ClaimResult {
    // The usual case first: an open offer wins a free slot of a shift without approval.
    const full = stmt.takeLastSlotFor.run(at, shiftId, shiftId, empId, at).changes === 1;
    if (full || stmt.takeSlotFor.run(shiftId, shiftId, empId, at).changes === 1) {
      stmt.acceptWon.run(at, at, shiftId, empId);
      return assigned(shiftId, at, full);
    }
    if (stmt.acceptTaken.run(at, shiftId, empId).changes === 1) {
      return { recorded: true, outcome: 'taken', shiftFilled: true, closed: [] };
    }
    if (stmt.recordAccept.run({ shift_id: shiftId, emp_id: empId, at }).changes === 0) {
      return { recorded: false };
    }
    const [outcome, approval] = stmt.acceptedState.get(shiftId, empId) as [Outcome, 0 | 1];
    // An offer already closed (the shift went to others) cannot win, whatever the shift says.
    if (outcome !== 'open') {
      return { recorded: true, outcome, shiftFilled: true, closed: [] };
    }
    if (approval === 1) {
      stmt.setOutcome.run('requested', null, shiftId, empId);
      return { recorded: true, outcome: 'requested', shiftFilled: false, closed: [] };
    }
    return takeSlot(shiftId, empId, at);
  }

  function reject(shiftId: number, empId: number, at: number): Outcome | undefined {
    if (stmt.rejectOpen.run(at, at, shiftId, empId, at).changes === 1) return 'rejected';
    const row = stmt.reject.get({ shift_id: shiftId, emp_id: empId, at }) as
      | { outcome: Outcome }
      | undefined;
    return row?.outcome;
  }

  function approve(shiftId: number, empId: number, at: number): ClaimResult | undefined {
    const slot = stmt.approveSlot.get({ id: shiftId, emp_id: empId, at }) as
      | { status: ShiftStatus }
      | undefined;
    if (slot) {
      stmt.setOutcome.run('assigned', at, shiftId, empId);
      return assigned(shiftId, at, slot.status === 'assigned');
    }
    // No slot for a standing request (a shift closes its requests as it fills, so this is rare).
    if (stmt.turnDownRequest.run(at, shiftId, empId).changes === 1) {
      return { recorded: true, outcome: 'taken', shiftFilled: true, closed: [] };
    }
    return undefined;
  }

  function expireDue(now: number): Closed[] {
    const rows = stmt.expireDue.all(now) as Array<{ shift_id: number; emp_id: number }>;
    const byShift = new Map<number, number[]>();
    for (const r of rows) {
      const same = byShift.get(r.shift_id);
      if (same) same.push(r.emp_id);
      else byShift.set(r.shift_id, [r.emp_id]);
    }
    return [...byShift].map(([shiftId, empIds]) => ({ shiftId, empIds }));
  }

  function advanceCascade(
    shiftId: number,
    at: number,
    fallbackTtlS?: number,
  ): OfferRecord | undefined {
    const shift = queries.getShift(shiftId);
    if (shift?.status !== 'open' || shift.mode !== 'cascade') return undefined;
    const next = stmt.nextQueued.get(shiftId) as { emp_id: number } | undefined;
    if (!next) {
      stmt.closeUnfilled.run({ at, shift_id: shiftId });
      return undefined;
    }
    const ttl = shift.stepTtlS ?? fallbackTtlS;
    const expiresAt = ttl === undefined ? null : at + ttl * 1000;
    const step = { shift_id: shiftId, emp_id: next.emp_id, at, expires_at: expiresAt };
    if (stmt.openStep.run(step).changes !== 1) return undefined;
    return queries.getOffer(shiftId, next.emp_id) as OfferRecord;
  }

  function withdraw(shiftId: number, at: number): number[] | undefined {
    if (stmt.withdrawShift.run(at, shiftId).changes !== 1) return undefined;
    const rows = stmt.withdrawOffers.all(at, shiftId) as Array<[number, 0 | 1]>;
    // Those queued behind a cascade never knew of the shift.
    return rows.filter(([, told]) => told === 1).map(([empId]) => empId);
  }

  return { claim, reject, approve, expireDue, advanceCascade, withdraw };
}
