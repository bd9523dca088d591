/** `shiftctl respond <emp_id> <answer> --shift <id>`: the declaration; see ../respond.ts. */
import { type Command, InvalidArgumentError } from 'commander';
import type { OfferResponse } from '../../protocol/schemas.js';
import { withClientOptions } from '../client-options.js';
import { integerIn } from '../parse.js';
import type { RespondFlags } from '../respond.js';

const ANSWERS: Record<string, OfferResponse> = {
  accept: 'accepted',
  accepted: 'accepted',
  reject: 'rejected',
  rejected: 'rejected',
};

/** `accept` or `reject` (or the wire words `accepted`, `rejected`) as the wire value. */
function parseAnswer(value: string): OfferResponse {
  const answer = ANSWERS[value.trim().toLowerCase()];
  if (!answer) throw new InvalidArgumentError('Expected accept or reject.');
  return answer;
}

export function registerRespond(program: Command): void {
  withClientOptions(
    program
      .command('respond')
      .description('accept or reject an offer as an employee, as the app does')
      .argument('<emp_id>', 'employee id', integerIn(1, Number.MAX_SAFE_INTEGER))
      .argument('<answer>', 'accept or reject', parseAnswer)
      .requiredOption('--shift <id>', 'the shift to answer', integerIn(1, Number.MAX_SAFE_INTEGER)),
  )
    .addHelpText(
      'after',
      `
The first employee to accept a shift gets it; a later accept is answered "taken" (exit 0).
Answering an offer that was never made, or changing an answer, is refused (exit 4).

Examples:
  $ shiftctl respond 123 --shift 456 accept
  $ shiftctl respond 123 --shift 456 reject --json`,
    )
    .action(async (empId: number, answer: OfferResponse, flags: RespondFlags) => {
      const { respond } = await import('../respond.js');
      await respond(empId, answer, flags);
    });
}
