/**
 * The SQLite store's push fallback: employees' push tokens, and the webhook pushes of offers
 * that found no device, claimed by one sender at a time (docs/push.md).
 */
import type Database from 'better-sqlite3';
import type { DevicePlatform } from '../protocol/schemas.js';
import {
  DEVICE_COLUMNS,
  type DeviceRow,
  DUE_PUSH_JOINS,
  type DuePushRow,
  duePushColumns,
  pushesForTokenSql,
  splitDuePushes,
  toDevice,
} from './rows.js';
import type { CancelledPush, ClaimedPush, DeviceRecord, PushKey, PushNext } from './types.js';

export function preparePushes(db: Database.Database) {
  const stmt = {
    deviceByToken: db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE token = ?`),
    upsertDevice: db.prepare(`
      INSERT INTO devices (token, emp_id, platform, registered_at, seen_at)
      VALUES (@token, @emp_id, @platform, @at, @at)
      ON CONFLICT (token) DO UPDATE SET platform = excluded.platform, seen_at = excluded.seen_at,
        registered_at = CASE WHEN emp_id = excluded.emp_id THEN registered_at
                             ELSE excluded.registered_at END,
        emp_id = excluded.emp_id`),
    // The employee's tokens beyond the cap, least recently registered first; never the one
    // just registered.
    evictDevices: db.prepare(`
      DELETE FROM devices WHERE emp_id = @emp_id AND token IN (
        SELECT token FROM devices WHERE emp_id = @emp_id
        ORDER BY token = @token DESC, seen_at DESC, token DESC LIMIT -1 OFFSET @keep)`),
    listDevices: db.prepare(
      `SELECT ${DEVICE_COLUMNS} FROM devices WHERE emp_id = ? ORDER BY seen_at DESC, token`,
    ),
    deleteDevice: db.prepare('DELETE FROM devices WHERE emp_id = ? AND token = ?'),
    schedule: db.prepare(`
      INSERT INTO pushes (shift_id, emp_id, token, due_at)
      SELECT ?, d.emp_id, d.token, ? FROM devices d WHERE d.emp_id IN (SELECT value FROM json_each(?))
      ON CONFLICT DO NOTHING`),
    scheduleForToken: db.prepare(pushesForTokenSql('MAX', (name) => `@${name}`)),
    nextDue: db.prepare(`SELECT MIN(due_at) FROM pushes WHERE state IN ('due', 'sending')`).pluck(),
    due: db.prepare(`
      SELECT ${duePushColumns('@now')} FROM pushes p ${DUE_PUSH_JOINS}
      WHERE p.state IN ('due', 'sending') AND p.due_at <= @now
      ORDER BY p.due_at, p.shift_id, p.emp_id, p.token LIMIT @limit`),
    claim: db.prepare(`
      UPDATE pushes SET state = 'sending', due_at = @lease, attempts = attempts + 1,
        claim_id = @claim_id
      WHERE shift_id = @shift_id AND emp_id = @emp_id AND token = @token`),
    cancel: db.prepare(`
      UPDATE pushes SET state = 'cancelled', claim_id = NULL
      WHERE shift_id = @shift_id AND emp_id = @emp_id AND token = @token`),
    finish: db.prepare(`
      UPDATE pushes SET state = @state, due_at = COALESCE(@due_at, due_at), claim_id = NULL
      WHERE shift_id = @shift_id AND emp_id = @emp_id AND token = @token
        AND state = 'sending' AND claim_id = @claim_id`),
  };

  function registerDevice(
    device: { empId: number; token: string; platform: DevicePlatform },
    at: number,
    maxPerEmployee: number,
  ): { device: DeviceRecord; created: boolean } {
    const prior = stmt.deviceByToken.get(device.token) as DeviceRow | undefined;
    const params = { token: device.token, emp_id: device.empId, platform: device.platform, at };
    stmt.upsertDevice.run(params);
    stmt.evictDevices.run({ emp_id: device.empId, token: device.token, keep: maxPerEmployee });
    const row = stmt.deviceByToken.get(device.token) as DeviceRow;
    return { device: toDevice(row), created: prior?.emp_id !== device.empId };
  }

  /** Due pushes, each claimed or cancelled in this one transaction. */
  function claimPushes(
    now: number,
    leaseUntil: number,
    claimId: string,
    limit: number,
  ): { claimed: ClaimedPush[]; cancelled: CancelledPush[] } {
    const rows = stmt.due.all({ now, limit }) as DuePushRow[];
    const split = splitDuePushes(rows);
    for (const p of split.claimed) {
      stmt.claim.run({ ...keyOf(p), lease: leaseUntil, claim_id: claimId });
    }
    for (const p of split.cancelled) stmt.cancel.run(keyOf(p));
    return split;
  }

  return {
    registerDevice,
    listDevices(empId: number): DeviceRecord[] {
      return (stmt.listDevices.all(empId) as DeviceRow[]).map(toDevice);
    },
    deleteDevice(empId: number, token: string): boolean {
      return stmt.deleteDevice.run(empId, token).changes === 1;
    },
    schedulePushes(shiftId: number, empIds: readonly number[], dueAt: number): number {
      return stmt.schedule.run(shiftId, dueAt, JSON.stringify(empIds)).changes;
    },
    schedulePushesForToken(empId: number, token: string, after: number, now: number): number {
      return stmt.scheduleForToken.run({ emp_id: empId, token, after, now }).changes;
    },
    nextPushDue(): number | undefined {
      return (stmt.nextDue.get() as number | null) ?? undefined;
    },
    claimPushes,
    finishPush(push: PushKey, claimId: string, next: PushNext): boolean {
      return (
        stmt.finish.run({
          ...keyOf(push),
          state: next.state,
          due_at: next.state === 'due' ? next.dueAt : null,
          claim_id: claimId,
        }).changes === 1
      );
    },
  };
}

function keyOf(p: PushKey): { shift_id: number; emp_id: number; token: string } {
  return { shift_id: p.shiftId, emp_id: p.empId, token: p.token };
}
