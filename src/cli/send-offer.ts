/**
 * `shiftctl send-offer <emp_id...>`: the seed's curl line as a command. It calls the seed's test
 * endpoint, once per employee (and, to pick a fresh shift id, the app's availability call), so
 * it also works against the seed's Python server. Its options are declared in
 * commands/send-offer.ts.
 */
import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
import type { ApiClient } from '../client/api.js';
import { ApiError, ShiftctlError } from '../errors.js';
import { readJsonFile } from '../json-file.js';
import { Id, SendOfferBody } from '../protocol/schemas.js';
import { describeIssues } from '../protocol/validate.js';
import { clientFrom } from './client.js';
import type { ClientFlags } from './client-options.js';
import { FIELD_OPTIONS, type FieldFlag } from './commands/send-offer.js';
import { statusAndCode } from './format.js';
import { io } from './io.js';
import { chalkFor } from './output.js';

/** Fresh shift ids start here, counted from the clock, so that they grow from run to run. */
const FRESH_SHIFT_BASE = 100_000;

type OfferFields = z.input<typeof SendOfferBody>;
type FieldName = keyof OfferFields;

export type SendOfferFlags = ClientFlags &
  Partial<Record<FieldFlag, string>> & {
    shift?: number;
    file?: string;
    ttl?: number;
    urgent?: boolean;
  };

/**
 * An offer file: the shift fields of the test endpoint's body, optionally `shift_id`. `type`
 * and `expires_at` are allowed (and ignored) so that a `shift_offer` line printed by
 * `pending --json` can be sent again as it is; an old offer's deadline means nothing for a new one.
 */
const OfferFile = SendOfferBody.extend({
  shift_id: Id.optional(),
  type: z.literal('shift_offer').optional(),
  expires_at: z.string().optional(),
}).strict();

/** One field option's value, checked with the same schema the server uses: its parser. */
export function fieldValue(field: FieldName, value: string): string {
  const result = SendOfferBody.shape[field].safeParse(value);
  if (result.success) return value;
  const issue = result.error.issues[0];
  if (issue?.code === 'too_big') {
    throw new InvalidArgumentError(`It must be at most ${issue.maximum} characters long.`);
  }
  throw new InvalidArgumentError(`It ${describeIssues(result.error)[0]?.message}.`);
}

function readOfferFile(path: string): Promise<z.output<typeof OfferFile>> {
  return readJsonFile(path, OfferFile, 'offer', 'E_USAGE');
}

/**
 * A shift id that no shift has: counted from the clock and checked with the app's availability
 * call (a 404 means free). A seed-like server without that call gets the first candidate.
 */
async function freshShiftId(api: ApiClient): Promise<number> {
  let id = FRESH_SHIFT_BASE + (Math.floor(Date.now() / 1000) % 1_000_000_000);
  for (let tries = 0; tries < 50; tries++, id++) {
    try {
      await api.available(id);
    } catch (error) {
      if (error instanceof ApiError && error.httpStatus === 404) return id;
      throw error;
    }
  }
  throw new ShiftctlError('E_USAGE', 'Could not find a free shift id; give one with --shift.');
}

/** The shift id (when given) and the body fields: the file's, then the options' on top. */
async function offerFrom(
  flags: SendOfferFlags,
): Promise<{ shiftId: number | undefined; fields: OfferFields }> {
  const {
    shift_id: fileShiftId,
    type: _type,
    expires_at: _expiresAt,
    ...fields
  } = flags.file ? await readOfferFile(flags.file) : {};
  const merged: OfferFields = { ...fields };
  for (const o of FIELD_OPTIONS) {
    const value = flags[o.flag];
    if (value !== undefined) merged[o.field] = value;
  }
  if (flags.urgent) merged.priority = 'urgent';
  return { shiftId: flags.shift ?? fileShiftId, fields: merged };
}

export async function sendOffer(empIds: number[], flags: SendOfferFlags): Promise<void> {
  const out = io.stdout;
  const err = io.stderr;
  const { api } = clientFrom(flags);
  const offered = await offerFrom(flags);
  const { fields } = offered;
  // Without an id, a fresh shift each time: a fixed default (the seed's 999) is taken for good
  // by the first accept.
  const shiftId = offered.shiftId ?? (await freshShiftId(api));
  if (offered.shiftId === undefined && !flags.json) {
    err.write(`Offering a new shift, ${shiftId} (give --shift to offer a chosen one).\n`);
  }
  // No body at all when there is nothing to override: the seed's server takes none.
  const body = Object.keys(fields).length > 0 ? fields : undefined;
  const c = chalkFor(out);
  const e = chalkFor(err);
  const what = `shift ${shiftId}${fields.priority === 'urgent' ? ` (${c.red.bold('urgent')})` : ''}`;

  let refused = 0;
  for (const empId of empIds) {
    try {
      const sent = await api.sendTestOffer(empId, shiftId, body, flags.ttl);
      if (flags.json) {
        const { emp_id, shift_id, status, devices } = sent;
        out.write(`${JSON.stringify({ emp_id, shift_id, status, devices })}\n`);
      } else if (sent.status === 'sent') {
        const to =
          sent.devices === undefined
            ? ''
            : ` to ${sent.devices} device${sent.devices === 1 ? '' : 's'}`;
        out.write(`Employee ${empId}: ${what} ${c.green('sent live')}${to}.\n`);
      } else {
        out.write(
          `Employee ${empId}: ${what} ${c.yellow('stored as pending')}; it is sent when they connect.\n`,
        );
      }
    } catch (error) {
      // A refusal concerns this employee only; anything else (unreachable, 5xx) stops at once.
      if (!(error instanceof ApiError) || error.httpStatus >= 500) throw error;
      refused += 1;
      if (flags.json) {
        const refusal = {
          status: error.httpStatus,
          code: error.serverCode ?? null,
          message: error.serverMessage,
        };
        out.write(`${JSON.stringify({ emp_id: empId, shift_id: shiftId, error: refusal })}\n`);
      } else {
        err.write(
          `Employee ${empId}: shift ${shiftId} ${e.red('refused')}: ${error.serverMessage} (${statusAndCode(error)})\n`,
        );
      }
    }
  }
  if (refused > 0) {
    const failure = new ShiftctlError(
      'E_REFUSED',
      empIds.length === 1
        ? 'the server refused the offer.'
        : `the server refused ${refused} of ${empIds.length} offers.`,
    );
    // Each refusal has had its line, with the server's status and code: nothing is added.
    failure.shownAsJson = flags.json === true;
    throw failure;
  }
}
