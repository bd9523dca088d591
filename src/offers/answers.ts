/**
 * Answers: an employee's accept or reject, first come first served (or a request an operator
 * approves), and the approval.
 */
import { ShiftctlError } from '../errors.js';
import type { RespondRequest, RespondResponse, ShiftDetailView } from '../protocol/schemas.js';
import type { OfferRecord } from '../store/types.js';
import type { Deadlines } from './deadlines.js';
import type { Pushes } from './pushes.js';
import { type Reads, requireShift } from './reads.js';
import type { OfferServiceDeps } from './service.js';
import { isoTime } from './views.js';

export const MESSAGES = {
  assigned: 'Shift successfully assigned',
  requested: 'Request received: approval pending; you will be told when an operator decides',
  taken: 'Shift was already taken by another employee',
  rejected: 'Shift offer rejected',
} as const;

export function createAnswers(
  deps: OfferServiceDeps,
  pushes: Pushes,
  deadlines: Deadlines,
  reads: Reads,
) {
  const { store, clock, events } = deps;
  const { notify } = pushes;
  const { advanceAfterAnswer, expireDue } = deadlines;

  function respondBody(
    req: { emp_id: number; shift_id: number },
    offer: Pick<OfferRecord, 'outcome' | 'response'>,
    at: number,
  ): RespondResponse {
    const message =
      offer.response === 'rejected'
        ? MESSAGES.rejected
        : offer.outcome === 'assigned'
          ? MESSAGES.assigned
          : offer.outcome === 'requested'
            ? MESSAGES.requested
            : MESSAGES.taken;
    return {
      success: true,
      assigned: offer.outcome === 'assigned',
      message,
      timestamp: isoTime(at),
      shift_id: req.shift_id,
      emp_id: req.emp_id,
      outcome: offer.outcome,
    };
  }

  /** Tells the winner and those who lost the shift with this assignment. */
  async function announceAssignment(shiftId: number, empId: number, closed: number[]) {
    events.event({ event: 'assigned', shift_id: shiftId, emp_id: empId });
    await notify([empId], shiftId, 'assigned');
    if (closed.length > 0) {
      events.event({ event: 'taken', shift_id: shiftId, notified: closed.length });
      await notify(closed, shiftId, 'taken');
    }
  }

  function refuseClosedOffer(offer: OfferRecord): void {
    if (offer.outcome === 'withdrawn' && offer.response !== null) {
      throw new ShiftctlError(
        'E_OFFER_WITHDRAWN',
        `Shift ${offer.shiftId} was withdrawn after employee ${offer.empId} answered it; the answer no longer holds.`,
      );
    }
    if (offer.outcome === 'expired') {
      throw new ShiftctlError(
        'E_OFFER_EXPIRED',
        `The offer of shift ${offer.shiftId} to employee ${offer.empId} expired before it was answered.`,
      );
    }
    if (offer.outcome === 'withdrawn') {
      throw new ShiftctlError(
        'E_OFFER_WITHDRAWN',
        `Shift ${offer.shiftId} was withdrawn before employee ${offer.empId} answered.`,
      );
    }
  }

  return {
    /**
     * Records an answer. First come, first served: exactly `slots` accepters ever win. The store
     * records it atomically when the offer can be answered; only when it could not is the offer
     * read, to say why (never offered, answered before, closed, or past its deadline).
     */
    async respond(req: RespondRequest): Promise<RespondResponse> {
      const { emp_id: empId, shift_id: shiftId, response } = req;
      // Each pass records the answer or learns something that ends the next one; a concurrent
      // answer can cost one more pass, never more.
      for (let pass = 0; pass < 4; pass++) {
        const at = clock.now();
        if (response === 'rejected') {
          const outcome = await store.reject(shiftId, empId, at);
          if (outcome) {
            events.event({ event: 'answer', shift_id: shiftId, emp_id: empId, response });
            // Every device of the employee closes the offer, whichever of them answered.
            if (outcome === 'rejected') await notify([empId], shiftId, 'rejected');
            await advanceAfterAnswer(shiftId);
            return respondBody(req, { response, outcome }, at);
          }
        } else {
          const claim = await store.claim(shiftId, empId, at);
          if (claim.recorded) {
            events.event({
              event: 'answer',
              shift_id: shiftId,
              emp_id: empId,
              response,
              outcome: claim.outcome,
            });
            if (claim.outcome === 'assigned') {
              await announceAssignment(shiftId, empId, claim.closed);
              if (!claim.shiftFilled) await advanceAfterAnswer(shiftId);
            } else if (claim.outcome === 'requested') {
              await notify([empId], shiftId, 'requested');
            }
            return respondBody(req, { response, outcome: claim.outcome }, at);
          }
        }
        const existing = await store.getOffer(shiftId, empId);
        if (!existing || existing.sentAt === null) {
          throw new ShiftctlError(
            'E_OFFER_NOT_FOUND',
            `Shift ${shiftId} was never offered to employee ${empId}.`,
          );
        }
        // An answer to a withdrawn shift, late or retried, holds nothing any more.
        if (existing.outcome === 'withdrawn') refuseClosedOffer(existing);
        if (existing.response !== null) {
          if (existing.response !== response) {
            throw new ShiftctlError(
              'E_ANSWER_CONFLICT',
              `Employee ${empId} already ${existing.response} shift ${shiftId}; an answer cannot be changed.`,
              { recorded: existing.response },
            );
          }
          // A retry (say, after a timeout on the phone): the outcome as it stands.
          return respondBody(req, existing, existing.answeredAt ?? clock.now());
        }
        if (
          existing.outcome === 'open' &&
          existing.expiresAt !== null &&
          existing.expiresAt <= at
        ) {
          // The deadline passed but its timer has not fired yet: close it now, and say so.
          await expireDue();
          continue;
        }
        refuseClosedOffer(existing);
      }
      throw new ShiftctlError(
        'E_INTERNAL',
        `The answer of employee ${empId} to shift ${shiftId} could not be recorded; try again.`,
      );
    },

    /** Approval mode: the operator gives the shift to one employee who asked for it. */
    async approve(shiftId: number, empId: number): Promise<ShiftDetailView> {
      const shift = await requireShift(store, shiftId);
      if (!shift.approval) {
        throw new ShiftctlError(
          'E_NOT_REQUESTED',
          `Shift ${shiftId} does not need approval; the first accepter gets it.`,
        );
      }
      const result = await store.approve(shiftId, empId, clock.now());
      if (!result?.recorded) {
        const offer = await store.getOffer(shiftId, empId);
        if (offer?.outcome === 'withdrawn') {
          throw new ShiftctlError(
            'E_SHIFT_CLOSED',
            `Shift ${shiftId} was withdrawn; there is nothing to approve.`,
          );
        }
        if (offer?.outcome === 'taken' && offer.response === 'accepted') {
          throw new ShiftctlError(
            'E_SHIFT_TAKEN',
            `Shift ${shiftId} has no slot left; employee ${empId}'s request was turned down.`,
          );
        }
        if (!offer || offer.sentAt === null) {
          throw new ShiftctlError(
            'E_OFFER_NOT_FOUND',
            `Shift ${shiftId} was never offered to employee ${empId}.`,
          );
        }
        throw new ShiftctlError(
          'E_NOT_REQUESTED',
          offer.outcome === 'assigned'
            ? `Employee ${empId} already has shift ${shiftId}; there is nothing to approve.`
            : `Employee ${empId} has not asked for shift ${shiftId} (their offer is ${offer.outcome}).`,
        );
      }
      if (result.outcome !== 'assigned') {
        await notify([empId], shiftId, 'taken');
        throw new ShiftctlError('E_SHIFT_TAKEN', `Shift ${shiftId} has no slot left.`);
      }
      events.event({ event: 'approved', shift_id: shiftId, emp_id: empId });
      await announceAssignment(shiftId, empId, result.closed);
      if (!result.shiftFilled) await advanceAfterAnswer(shiftId);
      return reads.shiftDetail(shiftId);
    },
  };
}
