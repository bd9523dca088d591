/**
 * The store's share of the server's two hot requests, as `bench:store` and `bench:store:pg`
 * drive it: offer `i` is a new test shift offered to one employee (the shift and the offer in
 * one write, the delivery mark, the journal lines of the push and of the request); answer `i`
 * accepts it (the claim, the journal lines of the winner's push and of the request).
 */
import { TEST_OFFER } from '../offers/service.js';
import type { Store } from '../store/types.js';

/** Employees the offers go round: enough that group commits mix many. */
const EMPLOYEES = 8000;

export function storeOps(store: Store): {
  offer(i: number): Promise<void>;
  answer(i: number): Promise<void>;
} {
  const empOf = (i: number) => 100_000 + (i % EMPLOYEES);
  const journal = (
    at: number,
    empId: number,
    shiftId: number,
    kind: 'push' | 'request',
    name: string,
    outcome: string,
  ) => store.journal({ at, kind, empId, shiftId, name, outcome, detail: null });
  return {
    async offer(i) {
      const empId = empOf(i);
      const shiftId = 1000 + i;
      const at = Date.now();
      await store.ensureShift({ ...TEST_OFFER, id: shiftId }, at, {
        empIds: [empId],
        expiresAt: null,
      });
      store.markDelivered(shiftId, [empId], at);
      journal(at, empId, shiftId, 'push', 'shift_offer', 'sent');
      journal(at, empId, shiftId, 'request', 'POST /api/test/send_offer/{emp_id}', '200');
    },
    async answer(i) {
      const empId = empOf(i);
      const shiftId = 1000 + i;
      const at = Date.now();
      const claim = await store.claim(shiftId, empId, at);
      if (!claim.recorded || claim.outcome !== 'assigned') {
        throw new Error(`offer ${shiftId} to ${empId} was not assigned`);
      }
      journal(at, empId, shiftId, 'push', 'offer_result', 'sent');
      journal(at, empId, shiftId, 'request', 'POST /api/shift_offer/respond', '200');
    },
  };
}
