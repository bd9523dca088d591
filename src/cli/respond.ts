/** `shiftctl respond <emp_id> --shift <id> accept|reject`: answer an offer exactly as the app does. */
import { localTimestamp } from '../client/session.js';
import { ApiError, ShiftctlError } from '../errors.js';
import type { OfferResponse, RespondResponse } from '../protocol/schemas.js';
import { clientFrom } from './client.js';
import type { ClientFlags } from './client-options.js';
import { statusAndCode } from './format.js';
import { io } from './io.js';
import { chalkFor } from './output.js';

export interface RespondFlags extends ClientFlags {
  shift: number;
}

export async function respond(
  empId: number,
  answer: OfferResponse,
  flags: RespondFlags,
): Promise<void> {
  const out = io.stdout;
  const { api } = clientFrom(flags);
  let body: RespondResponse;
  try {
    body = await api.respond({
      emp_id: empId,
      shift_id: flags.shift,
      response: answer,
      // The app's own stamp: local time, no zone (PROTOCOL.md).
      timestamp: localTimestamp(),
    });
  } catch (err) {
    // The server's own sentence says it best ("Shift 456 was never offered to employee 123.").
    if (err instanceof ApiError && err.httpStatus < 500) {
      const refused = new ShiftctlError(
        'E_REFUSED',
        `${err.serverMessage} (${statusAndCode(err)})`,
      );
      refused.cause = err; // what --json reports: the server's status and code
      throw refused;
    }
    throw err;
  }
  if (flags.json) {
    out.write(`${JSON.stringify(body)}\n`);
    return;
  }
  out.write(`${describeOutcome(body, flags.shift, answer, chalkFor(out))}\n`);
}

function describeOutcome(
  body: RespondResponse,
  shiftId: number,
  answer: OfferResponse,
  c: ReturnType<typeof chalkFor>,
): string {
  const shift = `shift ${shiftId}`;
  if (answer === 'rejected') {
    return body.outcome === 'taken'
      ? `Rejected ${shift} (it had already gone to someone else).`
      : `Rejected ${shift}.`;
  }
  if (body.assigned) return `${c.green.bold('Assigned:')} ${shift} is yours.`;
  if (body.outcome === 'taken') return `${c.yellow('Taken:')} ${shift} went to someone else.`;
  if (body.outcome === 'requested') {
    return `${c.cyan('Requested:')} ${shift} needs an operator's approval; you will be told.`;
  }
  return body.message;
}
