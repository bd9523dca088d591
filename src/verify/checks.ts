/**
 * The contract as named checks. Each is a small scenario through the app's own clients and
 * names the line of PROTOCOL.md it enforces; `must` is what the app needs to work, `should` is
 * what a production backend does beyond it.
 */
import { z } from 'zod';
import { signToken } from '../auth/token.js';
import type { RawResponse } from '../client/api.js';
import {
  DateString,
  Id,
  OfferResultMessage,
  ShiftOfferMessage,
  TimeString,
} from '../protocol/schemas.js';
import { describeIssues, summariseIssues } from '../protocol/validate.js';
import { CLAUSE, type Clause } from './clauses.js';
import {
  type BareSocket,
  CheckFailed,
  CheckSkipped,
  type Frame,
  type VerifyContext,
  type VerifyOptions,
  type VerifySocket,
  within,
} from './context.js';

export type Level = 'must' | 'should';

export interface Check {
  id: string;
  title: string;
  level: Level;
  /** The line of PROTOCOL.md this check enforces. */
  clause: Clause;
  /** How long the whole check may take; by default six times --timeout. */
  budgetMs?(options: VerifyOptions): number;
  run(ctx: VerifyContext): Promise<void>;
}

/**
 * An offer exactly as the app parses it: the keys it reads, with their types and formats. The
 * app ignores shiftctl's own additions (`expires_at`, `priority`), so another backend may send
 * them in any shape.
 */
const AppOffer = ShiftOfferMessage.omit({ expires_at: true, priority: true }).extend({
  date: DateString,
  start_time: TimeString,
  end_time: TimeString,
});

const AnswerBody = z.object({
  success: z.literal(true),
  assigned: z.boolean(),
  message: z.string(),
  timestamp: z.string(),
});

/** A value as it arrived, short enough for a report line. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

function shown(res: RawResponse): string {
  return `status ${res.status}: ${show(res.text || '(empty body)')}`;
}

const isOk = (res: RawResponse): boolean => res.status === 200 || res.status === 201;

function expectOk(res: RawResponse, what: string, clause: Clause = CLAUSE.respondStatus): void {
  if (!isOk(res)) throw new CheckFailed(`${what} failed`, 'status 200 or 201', shown(res), clause);
}

/** Problems with an offer as the app would parse it; empty when there are none. */
function offerProblems(value: unknown): string {
  const parsed = AppOffer.safeParse(value);
  return parsed.success ? '' : summariseIssues(describeIssues(parsed.error));
}

function expectOffer(value: unknown, shiftId: number, where: string, clause: Clause): void {
  const problems = offerProblems(value);
  if (problems) {
    throw new CheckFailed(
      `${where} is not a shift_offer the app can parse (${problems})`,
      `{"type":"shift_offer","shift_id":${shiftId},"date":"YYYY-MM-DD","start_time":"HH:MM","end_time":"HH:MM",...}`,
      show(value),
      clause,
    );
  }
  const id = (value as { shift_id: number }).shift_id;
  if (id !== shiftId) {
    throw new CheckFailed(
      `${where} is for shift ${id}, not the shift offered`,
      `shift_id ${shiftId}`,
      show(value),
      clause,
    );
  }
}

const offerFor = (shiftId: number) => (f: Frame) =>
  (f.json as { type?: unknown; shift_id?: unknown } | undefined)?.type === 'shift_offer' &&
  String((f.json as { shift_id?: unknown }).shift_id) === String(shiftId);

const resultFor = (shiftId: number, status?: string) => (f: Frame) => {
  const m = f.json as { type?: unknown; shift_id?: unknown; status?: unknown } | undefined;
  return (
    m?.type === 'offer_result' &&
    String(m.shift_id) === String(shiftId) &&
    (status === undefined || m.status === status)
  );
};

async function waitForOffer(ctx: VerifyContext, socket: VerifySocket, shiftId: number) {
  try {
    return await socket.next(offerFor(shiftId), `shift ${shiftId} to arrive`);
  } catch {
    const seen = socket.frames.map((f) => f.raw);
    throw new CheckFailed(
      `the offer of shift ${shiftId} never arrived on employee ${socket.empId}'s WebSocket`,
      `a shift_offer frame for shift ${shiftId} within ${ctx.options.timeoutMs} ms`,
      seen.length ? `other frames: ${show(seen.join(' '))}` : 'no frame at all',
      CLAUSE.offerTypes,
    );
  }
}

async function pendingOf(ctx: VerifyContext, empId: number): Promise<unknown[]> {
  const res = await ctx.api.raw('GET', `/shift_offers/pending/${empId}`);
  expectOk(res, `GET /shift_offers/pending/${empId}`, CLAUSE.pending);
  if (!Array.isArray(res.json)) {
    throw new CheckFailed(
      `GET /shift_offers/pending/${empId} did not answer a JSON array`,
      'a JSON array of shift_offer objects',
      shown(res),
      CLAUSE.pending,
    );
  }
  return res.json;
}

/** The socket got `offer_result` with this status for the shift, or the check fails. */
async function expectTold(
  ctx: VerifyContext,
  socket: VerifySocket,
  shiftId: number,
  status: string,
  who = `employee ${socket.empId}`,
): Promise<void> {
  const expected = `{"type":"offer_result","shift_id":${shiftId},"status":"${status}"}`;
  const told = await socket.maybe(resultFor(shiftId));
  if (!told) {
    throw new CheckFailed(
      `${who} was not told the shift is no longer open`,
      expected,
      `nothing within ${ctx.options.timeoutMs} ms`,
    );
  }
  const parsed = OfferResultMessage.safeParse(told.json);
  if (!parsed.success || parsed.data.status !== status) {
    throw new CheckFailed(`${who} got the wrong offer_result`, expected, told.raw);
  }
}

const listed = (offers: unknown[], shiftId: number) =>
  offers.find((o) => String((o as { shift_id?: unknown } | null)?.shift_id) === String(shiftId));

async function answer(
  ctx: VerifyContext,
  empId: number,
  shiftId: number,
  response: 'accepted' | 'rejected',
): Promise<RawResponse> {
  return ctx.api.raw('POST', '/shift_offer/respond', {
    emp_id: empId,
    shift_id: shiftId,
    response,
    timestamp: new Date().toISOString().replace('Z', ''),
  });
}

function expectAnswerBody(res: RawResponse, what: string): z.infer<typeof AnswerBody> {
  expectOk(res, what);
  const parsed = AnswerBody.safeParse(res.json);
  if (!parsed.success) {
    throw new CheckFailed(
      `${what}: the answer body is not the documented one (${summariseIssues(describeIssues(parsed.error))})`,
      '{"success":true,"assigned":<boolean>,"message":<string>,"timestamp":<string>}',
      shown(res),
      CLAUSE.answerBody,
    );
  }
  return parsed.data;
}

/** Whether verify acts with credentials (--token, --secret, or an Authorization header). */
function hasCredentials(options: VerifyOptions): boolean {
  return (
    options.token !== undefined ||
    options.secret !== undefined ||
    Object.keys(options.headers ?? {}).some((name) => name.toLowerCase() === 'authorization')
  );
}

const NO_CREDENTIALS =
  'verify was given no --token or --secret, so the backend takes requests without one: there is no authentication to check';

/**
 * How a WebSocket that should be refused was treated: undefined when it was refused (one of
 * `statuses` at the upgrade, or opened and closed at once with 1008, policy violation), else
 * what happened instead.
 */
async function refusal(
  ctx: VerifyContext,
  socket: BareSocket,
  statuses: readonly number[],
): Promise<string | undefined> {
  const up = await ctx.within(socket.upgrade, 'the WebSocket upgrade to be answered');
  if (!up.opened) {
    if (statuses.includes(up.status)) return undefined;
    return 'error' in up
      ? `the upgrade failed without an HTTP answer (${up.error})`
      : `the upgrade was answered with status ${up.status}: ${show(up.body || '(empty body)')}`;
  }
  const closed = await within(socket.closed, '', ctx.options.timeoutMs).catch(() => undefined);
  if (closed?.code === 1008 && socket.received.other === 0) return undefined;
  const frames = socket.received.other ? `, after ${socket.received.other} frame(s)` : '';
  return closed
    ? `the socket opened, then closed with code ${closed.code}${frames}`
    : `the socket opened and stayed open for ${ctx.options.timeoutMs} ms${frames}`;
}

/** A socket refused as it should be is expected to look like this. */
const refusedAs = (statuses: readonly number[]) =>
  `HTTP ${statuses.join(' or ')} at the upgrade (or the socket closed at once with 1008)`;

/** Offers a fresh shift to a fresh employee who is not connected. */
async function offlineOffer(ctx: VerifyContext) {
  const empId = ctx.employee();
  const shiftId = ctx.shift();
  await ctx.offer(empId, shiftId);
  return { empId, shiftId };
}

/** Offers a fresh shift to a fresh, connected employee and waits for it to arrive. */
async function deliveredOffer(ctx: VerifyContext) {
  const empId = ctx.employee();
  const shiftId = ctx.shift();
  const socket = await ctx.connect(empId);
  await ctx.offer(empId, shiftId);
  const frame = await waitForOffer(ctx, socket, shiftId);
  return { empId, shiftId, socket, frame };
}

/**
 * Answers a fresh offer nobody else holds: an accept must win it, a rejection must not; either
 * way it leaves pending.
 */
async function answerLeavesPending(ctx: VerifyContext, response: 'accepted' | 'rejected') {
  const { empId, shiftId } = await deliveredOffer(ctx);
  const body = expectAnswerBody(
    await answer(ctx, empId, shiftId, response),
    `POST /shift_offer/respond (${response})`,
  );
  const accepted = response === 'accepted';
  if (body.assigned !== accepted) {
    throw new CheckFailed(
      accepted
        ? 'the only employee holding the shift accepted it and was not assigned'
        : 'a rejection came back as an assignment',
      `"assigned": ${accepted}`,
      show(body),
      accepted ? CLAUSE.fcfs : CLAUSE.answerBody,
    );
  }
  const offers = await pendingOf(ctx, empId);
  if (listed(offers, shiftId)) {
    throw new CheckFailed(
      `shift ${shiftId} is still pending after it was ${response}`,
      `no shift ${shiftId} in pending`,
      show(offers),
      CLAUSE.pending,
    );
  }
}

export const CHECKS: Check[] = [
  {
    id: 'ws-connect',
    title: 'the WebSocket at {wsUrl}/{emp_id} opens',
    level: 'must',
    clause: CLAUSE.connect,
    async run(ctx) {
      await ctx.connect(ctx.employee());
    },
  },
  {
    id: 'ws-ping',
    title: 'WebSocket ping frames are answered',
    level: 'must',
    clause: CLAUSE.ping,
    async run(ctx) {
      const socket = await ctx.connect(ctx.employee());
      const ms = await socket.ping();
      if (ms === undefined) {
        throw new CheckFailed(
          'a WebSocket ping frame got no pong',
          `a pong frame within ${ctx.options.timeoutMs} ms (RFC 6455 section 5.5.2)`,
          'no pong',
        );
      }
    },
  },
  {
    id: 'ws-client-frames',
    title:
      'what a client sends (pong, unknown, non-JSON, binary) neither closes nor stalls the socket',
    level: 'must',
    clause: CLAUSE.clientFrames,
    async run(ctx) {
      const empId = ctx.employee();
      const socket = await ctx.connect(empId);
      socket.sendFrame(JSON.stringify({ type: 'pong' }));
      socket.sendFrame(JSON.stringify({ type: 'hello', from: 'shiftctl verify' }));
      socket.sendFrame('this is not JSON {');
      socket.sendFrame(Buffer.from([0, 1, 2, 3]));
      // A server that drops the socket over one of these frames does so a moment later (the
      // seed's read loop fails on it): give it that moment, ended early by a close, then two
      // offers in turn must still arrive on this socket.
      const settleMs = Math.min(1000, Math.max(100, Math.floor(ctx.options.timeoutMs / 5)));
      await ctx
        .within(socket.state('disconnected', 'the socket to close'), '', settleMs)
        .catch(() => undefined);
      for (const round of ['an offer', 'a second offer']) {
        const closed = socket.closedBy();
        if (closed) {
          throw new CheckFailed(
            'the server closed the socket after the client sent pong, unknown, non-JSON and binary frames',
            'the socket left open',
            closed,
          );
        }
        const shiftId = ctx.shift();
        try {
          await ctx.offer(empId, shiftId);
        } catch (err) {
          // A 5xx here is this socket's doing (a push to a socket the server dropped), not the
          // test endpoint's.
          if (err instanceof CheckFailed && /^status 5\d\d/.test(err.actual)) {
            throw new CheckFailed(
              `after the client's frames, the server failed to offer shift ${shiftId} to employee ${empId}`,
              `${round} on the same, open socket`,
              err.actual,
            );
          }
          throw err;
        }
        const arrived = await socket.maybe(offerFor(shiftId));
        if (!arrived) {
          throw new CheckFailed(
            `after the client sent pong, unknown, non-JSON and binary frames, ${round} no longer arrived`,
            `the offer of shift ${shiftId} on the same socket`,
            socket.closedBy() ?? `nothing within ${ctx.options.timeoutMs} ms`,
          );
        }
      }
    },
  },
  {
    id: 'offer-push',
    title: 'an offer to a connected employee arrives as the app parses it',
    level: 'must',
    clause: CLAUSE.offerTypes,
    async run(ctx) {
      const { shiftId, frame } = await deliveredOffer(ctx);
      if (frame.binary) {
        throw new CheckFailed(
          'the offer came as a binary frame',
          'a text frame',
          'binary frame',
          CLAUSE.frames,
        );
      }
      expectOffer(frame.json, shiftId, 'the pushed offer', CLAUSE.offerTypes);
    },
  },
  {
    id: 'pending-offline',
    title: 'an offer sent while the employee is offline is listed as pending (offline recovery)',
    level: 'must',
    clause: CLAUSE.pending,
    async run(ctx) {
      const { empId, shiftId } = await offlineOffer(ctx);
      const offers = await pendingOf(ctx, empId);
      const offer = listed(offers, shiftId);
      if (!offer) {
        throw new CheckFailed(
          `the offer of shift ${shiftId} is not in employee ${empId}'s pending list`,
          `an array with shift ${shiftId}`,
          show(offers),
        );
      }
      expectOffer(offer, shiftId, 'the pending offer', CLAUSE.pendingEmpty);
    },
  },
  {
    id: 'pending-unanswered',
    title:
      'an offer delivered but not answered stays pending (the app may restart before answering)',
    level: 'must',
    clause: CLAUSE.pending,
    async run(ctx) {
      const { empId, shiftId, socket } = await deliveredOffer(ctx);
      socket.close();
      const offers = await pendingOf(ctx, empId);
      if (!listed(offers, shiftId)) {
        throw new CheckFailed(
          `shift ${shiftId} was pushed to employee ${empId}, not answered, and is missing from pending`,
          `an array with shift ${shiftId}`,
          show(offers),
        );
      }
    },
  },
  {
    id: 'pending-empty',
    title: 'an employee with no offers gets [] from pending',
    level: 'must',
    clause: CLAUSE.pendingEmpty,
    async run(ctx) {
      const empId = ctx.employee();
      const res = await ctx.api.raw('GET', `/shift_offers/pending/${empId}`);
      expectOk(res, `GET /shift_offers/pending/${empId}`, CLAUSE.pendingEmpty);
      if (!Array.isArray(res.json) || res.json.length !== 0) {
        throw new CheckFailed(
          'pending for an employee never offered anything is not an empty array',
          '[]',
          shown(res),
        );
      }
    },
  },
  {
    id: 'respond-accept',
    title: 'accepting an offer nobody else holds assigns it, and it leaves pending',
    level: 'must',
    clause: CLAUSE.answerBody,
    run: (ctx) => answerLeavesPending(ctx, 'accepted'),
  },
  {
    id: 'respond-reject',
    title: 'rejecting an offer is recorded (not assigned) and it leaves pending',
    level: 'must',
    clause: CLAUSE.respondStatus,
    run: (ctx) => answerLeavesPending(ctx, 'rejected'),
  },
  {
    id: 'first-come-first-served',
    title: 'of 10 employees accepting one shift at the same moment, exactly one wins',
    level: 'must',
    clause: CLAUSE.fcfs,
    async run(ctx) {
      const shiftId = ctx.shift();
      const empIds = Array.from({ length: 10 }, () => ctx.employee());
      for (const empId of empIds) await ctx.offer(empId, shiftId);
      const answers = await Promise.all(
        empIds.map((empId) => answer(ctx, empId, shiftId, 'accepted')),
      );
      const refused = answers.filter((r) => !isOk(r));
      if (refused.length > 0) {
        throw new CheckFailed(
          `${refused.length} of 10 concurrent accepts were refused`,
          'status 200 or 201 for every answer (the losers with "assigned": false)',
          shown(refused[0] as RawResponse),
          CLAUSE.respondStatus,
        );
      }
      const winners = empIds.filter(
        (_, i) => (answers[i]?.json as { assigned?: unknown } | undefined)?.assigned === true,
      );
      if (winners.length !== 1) {
        throw new CheckFailed(
          `${winners.length} of 10 employees who accepted shift ${shiftId} at once were told they got it`,
          'exactly one answer with "assigned": true',
          `${winners.length} answers with "assigned": true${winners.length ? ` (employees ${winners.join(', ')})` : ''}`,
        );
      }
    },
  },
  {
    id: 'history',
    title: 'history lists past offers, newest first, at most `limit`',
    level: 'must',
    clause: CLAUSE.history,
    async run(ctx) {
      const empId = ctx.employee();
      const shifts = [ctx.shift(), ctx.shift(), ctx.shift()];
      for (const shiftId of shifts) await ctx.offer(empId, shiftId);
      await answer(ctx, empId, shifts[0] as number, 'rejected');
      const res = await ctx.api.raw('GET', `/shift_offers/history/${empId}?limit=2`);
      expectOk(res, `GET /shift_offers/history/${empId}?limit=2`, CLAUSE.history);
      if (!Array.isArray(res.json)) {
        throw new CheckFailed('history is not a JSON array', 'a JSON array', shown(res));
      }
      if (res.json.length !== 2) {
        throw new CheckFailed(
          `history with limit=2 for an employee offered 3 shifts gave ${res.json.length} items`,
          '2 items',
          show(res.json),
        );
      }
      const ids = res.json.map((o) => (o as { shift_id?: unknown } | null)?.shift_id);
      res.json.forEach((item, i) => {
        expectOffer(item, Number(ids[i]), `history item ${i}`, CLAUSE.history);
      });
      const newest = [shifts[2], shifts[1]];
      if (String(ids) !== String(newest)) {
        throw new CheckFailed(
          'history is not newest first',
          `shift ids ${newest.join(', ')}`,
          `shift ids ${ids.map(String).join(', ')}`,
        );
      }
    },
  },
  {
    id: 'available',
    title: 'availability is true while a shift is open and false once it is assigned',
    level: 'must',
    clause: CLAUSE.available,
    async run(ctx) {
      const { empId, shiftId } = await deliveredOffer(ctx);
      const path = `/shift_offer/${shiftId}/available`;
      const before = await ctx.api.raw('GET', path);
      expectOk(before, `GET ${path}`, CLAUSE.available);
      if ((before.json as { available?: unknown } | undefined)?.available !== true) {
        throw new CheckFailed(
          'an open shift is not reported available',
          '{"available": true}',
          shown(before),
        );
      }
      expectAnswerBody(await answer(ctx, empId, shiftId, 'accepted'), 'the accept');
      const after = await ctx.api.raw('GET', path);
      expectOk(after, `GET ${path} after the shift was assigned`, CLAUSE.available);
      if ((after.json as { available?: unknown } | undefined)?.available !== false) {
        throw new CheckFailed(
          'an assigned shift is still reported available',
          '{"available": false}',
          shown(after),
        );
      }
    },
  },
  {
    id: 'resend-on-connect',
    title: 'an offer sent while offline is pushed when the employee connects',
    level: 'should',
    clause: CLAUSE.resend,
    async run(ctx) {
      const { empId, shiftId } = await offlineOffer(ctx);
      const socket = await ctx.connect(empId);
      const frame = await socket.maybe(offerFor(shiftId));
      if (!frame) {
        throw new CheckFailed(
          `the open offer of shift ${shiftId} was not pushed when employee ${empId} connected`,
          `a shift_offer for shift ${shiftId} on connect`,
          socket.frames.length ? show(socket.frames.map((f) => f.raw).join(' ')) : 'no frame',
        );
      }
      expectOffer(frame.json, shiftId, 'the offer pushed on connect', CLAUSE.offerTypes);
    },
  },
  {
    id: 'losers-told',
    title: 'when a shift is taken, the winner is told "assigned" and the others "taken"',
    level: 'should',
    clause: CLAUSE.results,
    async run(ctx) {
      const shiftId = ctx.shift();
      const [winner, loser] = [ctx.employee(), ctx.employee()];
      const sockets = [await ctx.connect(winner), await ctx.connect(loser)] as const;
      await ctx.offer(winner, shiftId);
      await ctx.offer(loser, shiftId);
      await waitForOffer(ctx, sockets[1], shiftId);
      expectAnswerBody(await answer(ctx, winner, shiftId, 'accepted'), 'the winning accept');
      await expectTold(ctx, sockets[1], shiftId, 'taken');
      await expectTold(ctx, sockets[0], shiftId, 'assigned');
    },
  },
  {
    id: 'devices-told',
    title: 'every device of an employee who answered is told the outcome, whichever answered',
    level: 'should',
    clause: CLAUSE.devicesTold,
    async run(ctx) {
      const empId = ctx.employee();
      const shiftId = ctx.shift();
      const devices = [await ctx.connect(empId), await ctx.connect(empId)];
      await ctx.offer(empId, shiftId);
      for (const [i, device] of devices.entries()) {
        if (!(await device.maybe(offerFor(shiftId)))) {
          throw new CheckFailed(
            `device ${i + 1} of employee ${empId} did not get the offer of shift ${shiftId} (does the server keep one socket per employee?)`,
            'the shift_offer on both devices',
            `nothing on device ${i + 1} within ${ctx.options.timeoutMs} ms`,
          );
        }
      }
      expectAnswerBody(await answer(ctx, empId, shiftId, 'rejected'), 'the reject');
      for (const [i, device] of devices.entries()) {
        await expectTold(ctx, device, shiftId, 'rejected', `device ${i + 1} of employee ${empId}`);
      }
    },
  },
  {
    id: 'closed-not-offered',
    title: 'offering a shift already assigned is refused with 409 and pushes nothing',
    level: 'must',
    clause: CLAUSE.closedNotOffered,
    async run(ctx) {
      if (!ctx.trigger.isTestEndpoint) {
        throw new CheckSkipped('offers are made with --send-cmd: its refusals cannot be read');
      }
      const shiftId = ctx.shift();
      const [winner, late] = [ctx.employee(), ctx.employee()];
      await ctx.offer(winner, shiftId);
      const won = expectAnswerBody(await answer(ctx, winner, shiftId, 'accepted'), 'the accept');
      if (won.assigned !== true) {
        throw new CheckFailed(
          `employee ${winner}, the only one offered shift ${shiftId}, did not get it`,
          '"assigned": true',
          JSON.stringify(won),
          CLAUSE.fcfs,
        );
      }
      const socket = await ctx.connect(late);
      const path = `/test/send_offer/${late}?shift_id=${shiftId}`;
      const res = await ctx.api.raw('POST', path);
      if (res.status !== 409) {
        throw new CheckFailed(
          `offering shift ${shiftId}, already assigned, to employee ${late} was not refused`,
          `status 409 from POST ${path}`,
          shown(res),
        );
      }
      // Refused, so nothing should come: a short look is enough.
      const pushed = await socket.maybe(offerFor(shiftId), Math.min(300, ctx.options.timeoutMs));
      const pending = listed(await pendingOf(ctx, late), shiftId);
      if (pushed || pending) {
        throw new CheckFailed(
          `the refused offer of shift ${shiftId} reached employee ${late} all the same`,
          'no shift_offer pushed, nothing pending',
          pushed ? pushed.raw : `in pending: ${show(JSON.stringify(pending))}`,
        );
      }
    },
  },
  {
    id: 'idempotent-retry',
    title: 'sending the same answer twice (a retry after a timeout) gives the same outcome',
    level: 'should',
    clause: CLAUSE.respondStatus,
    async run(ctx) {
      const { empId, shiftId } = await deliveredOffer(ctx);
      const first = expectAnswerBody(await answer(ctx, empId, shiftId, 'accepted'), 'the answer');
      const again = await answer(ctx, empId, shiftId, 'accepted');
      const retry = expectAnswerBody(again, 'the same answer sent again');
      if (retry.assigned !== first.assigned) {
        throw new CheckFailed(
          'a retried answer changed the outcome',
          `"assigned": ${first.assigned}, as the first time`,
          show(again.json),
        );
      }
    },
  },
  {
    id: 'never-offered',
    title: 'an answer for a shift never offered to that employee is refused with a 4xx',
    level: 'must',
    clause: CLAUSE.onlyOffered,
    async run(ctx) {
      const res = await answer(ctx, ctx.employee(), ctx.shift(), 'accepted');
      if (res.status < 400 || res.status >= 500) {
        throw new CheckFailed(
          'an employee accepted a shift never offered to them and the server did not refuse',
          'a 4xx status (404)',
          shown(res),
        );
      }
    },
  },
  {
    id: 'auth-required',
    title: 'with authentication on, a request or WebSocket without a token gets 401',
    level: 'must',
    clause: CLAUSE.auth,
    async run(ctx) {
      if (!hasCredentials(ctx.options)) throw new CheckSkipped(NO_CREDENTIALS, true);
      const empId = ctx.employee();
      const anonymous = ctx.apiAs(undefined);
      const requests: Array<[method: string, path: string, body?: unknown]> = [
        ['GET', `/shift_offers/pending/${empId}`],
        ['GET', `/shift_offers/history/${empId}`],
        [
          'POST',
          '/shift_offer/respond',
          { emp_id: empId, shift_id: ctx.shift(), response: 'accepted' },
        ],
      ];
      const wrong: string[] = [];
      for (const [method, path, body] of requests) {
        const res = await anonymous.raw(method, path, body);
        if (res.status !== 401) wrong.push(`${method} ${path}: ${shown(res)}`);
      }
      const socket = ctx.bareSocket(empId, { token: undefined });
      const how = await refusal(ctx, socket, [401]);
      if (how) wrong.push(`the WebSocket of employee ${empId}: ${how}`);
      if (wrong.length > 0) {
        throw new CheckFailed(
          `${wrong.length} of ${requests.length + 1} requests without a token were not refused with 401`,
          `status 401 for each; for the WebSocket ${refusedAs([401])}`,
          wrong.join('; '),
        );
      }
    },
  },
  {
    id: 'auth-other-employee',
    title: "an employee's token is refused for another employee (403, WebSocket refused)",
    level: 'must',
    clause: CLAUSE.auth,
    async run(ctx) {
      if (!hasCredentials(ctx.options)) throw new CheckSkipped(NO_CREDENTIALS, true);
      const secret = ctx.options.secret;
      if (secret === undefined) {
        throw new CheckSkipped(
          "verify was given a token but no --secret, so it cannot mint one employee's token to try on another's data; give --secret to run it",
        );
      }
      const [self, other] = [ctx.employee(), ctx.employee()];
      const token = await signToken({ emp_id: self, role: 'employee' }, secret, 600);
      const api = ctx.apiAs(token);
      // First the token on its own employee: refused there, it is not one this backend takes.
      const own = await api.raw('GET', `/shift_offers/pending/${self}`);
      if (own.status === 401) {
        throw new CheckSkipped(
          `a token minted with --secret for employee ${self} was refused for that employee (${shown(own)}): the backend does not take shiftctl's tokens with this secret`,
        );
      }
      expectOk(
        own,
        `GET /shift_offers/pending/${self} with employee ${self}'s own token`,
        CLAUSE.auth,
      );
      // The other employee holds a real offer, so that an answer in their name would take it.
      const shiftId = ctx.shift();
      await ctx.offer(other, shiftId).catch((err: unknown) => {
        if (!(err instanceof CheckSkipped)) throw err;
      });
      const requests: Array<[method: string, path: string, body?: unknown]> = [
        ['GET', `/shift_offers/pending/${other}`],
        ['GET', `/shift_offers/history/${other}`],
        [
          'POST',
          '/shift_offer/respond',
          { emp_id: other, shift_id: shiftId, response: 'accepted' },
        ],
      ];
      const wrong: string[] = [];
      for (const [method, path, body] of requests) {
        const res = await api.raw(method, path, body);
        if (res.status !== 403) wrong.push(`${method} ${path}: ${shown(res)}`);
      }
      const socket = ctx.bareSocket(other, { token });
      const how = await refusal(ctx, socket, [401, 403]);
      if (how) wrong.push(`the WebSocket of employee ${other}: ${how}`);
      if (wrong.length > 0) {
        throw new CheckFailed(
          `${wrong.length} of ${requests.length + 1} requests with employee ${self}'s token for employee ${other} were not refused`,
          `status 403 for each; for the WebSocket ${refusedAs([401, 403])}`,
          wrong.join('; '),
        );
      }
    },
  },
  {
    id: 'bad-input',
    title: 'malformed answers and ids get a 4xx, never a 2xx or a 5xx',
    level: 'should',
    clause: CLAUSE.ids,
    async run(ctx) {
      const empId = ctx.employee();
      const shiftId = ctx.shift(); // fresh: never a real shift on a shared server
      const cases: Array<{ what: string; path: string; method: string; text?: string }> = [
        {
          what: 'a body that is not JSON',
          method: 'POST',
          path: '/shift_offer/respond',
          text: '{"emp_id": 1,',
        },
        {
          what: 'a body without response',
          method: 'POST',
          path: '/shift_offer/respond',
          text: JSON.stringify({ emp_id: empId, shift_id: shiftId }),
        },
        {
          what: 'response "maybe"',
          method: 'POST',
          path: '/shift_offer/respond',
          text: JSON.stringify({ emp_id: empId, shift_id: shiftId, response: 'maybe' }),
        },
        {
          what: 'emp_id as a string',
          method: 'POST',
          path: '/shift_offer/respond',
          text: JSON.stringify({ emp_id: 'abc', shift_id: shiftId, response: 'accepted' }),
        },
        {
          what: 'a negative shift_id',
          method: 'POST',
          path: '/shift_offer/respond',
          text: JSON.stringify({ emp_id: empId, shift_id: -4, response: 'accepted' }),
        },
        {
          what: 'emp_id as a numeric string',
          method: 'POST',
          path: '/shift_offer/respond',
          text: JSON.stringify({ emp_id: String(empId), shift_id: shiftId, response: 'accepted' }),
        },
        {
          what: 'a fractional shift_id',
          method: 'POST',
          path: '/shift_offer/respond',
          text: JSON.stringify({ emp_id: empId, shift_id: 1.5, response: 'accepted' }),
        },
        {
          what: 'shift_id 0',
          method: 'POST',
          path: '/shift_offer/respond',
          text: JSON.stringify({ emp_id: empId, shift_id: 0, response: 'rejected' }),
        },
        {
          what: 'a non-numeric emp_id in the path',
          method: 'GET',
          path: '/shift_offers/pending/abc',
        },
        { what: 'emp_id 0 in the path', method: 'GET', path: '/shift_offers/pending/0' },
        {
          what: 'a fractional emp_id in the path',
          method: 'GET',
          path: '/shift_offers/pending/1.5',
        },
      ];
      if (ctx.trigger.isTestEndpoint) {
        // Sent only where offers are made this way: a backend that wrongly takes them makes an offer.
        cases.push(
          {
            what: 'send_offer to emp_id 0',
            method: 'POST',
            path: `/test/send_offer/0?shift_id=${shiftId}`,
          },
          {
            what: 'a negative shift_id to send_offer',
            method: 'POST',
            path: `/test/send_offer/${empId}?shift_id=-5`,
          },
          {
            what: 'a fractional shift_id to send_offer',
            method: 'POST',
            path: `/test/send_offer/${empId}?shift_id=1.5`,
          },
        );
      }
      const wrong: string[] = [];
      for (const c of cases) {
        const res = await ctx.api.raw(
          c.method,
          c.path,
          undefined,
          c.text === undefined ? {} : { text: c.text },
        );
        if (res.status < 400 || res.status >= 500) wrong.push(`${c.what}: ${shown(res)}`);
      }
      if (wrong.length > 0) {
        throw new CheckFailed(
          `${wrong.length} of ${cases.length} malformed requests were not refused with a 4xx`,
          'a 4xx status for each',
          wrong.join('; '),
        );
      }
    },
  },
  {
    id: 'reconnect-recovers',
    title: 'after the server closes a socket, the app reconnects and gets the offer sent meanwhile',
    level: 'should',
    clause: CLAUSE.reconnect,
    async run(ctx) {
      const empId = ctx.employee();
      const socket = await ctx.connect(empId, { reconnect: true });
      const kick = await ctx.api.raw('POST', `/admin/kick/${empId}`, undefined, {
        headers: ctx.options.adminToken
          ? { authorization: `Bearer ${ctx.options.adminToken}` }
          : {},
      });
      if (kick.status === 404 || kick.status === 405) {
        throw new CheckSkipped(
          `the backend has no way to close a socket on request (POST /admin/kick/{emp_id} answered ${kick.status})`,
        );
      }
      if (kick.status === 401 || kick.status === 403) {
        throw new CheckSkipped(
          `closing a socket needs an operator: POST /admin/kick/{emp_id} answered ${kick.status}; give --admin-token`,
        );
      }
      if (!isOk(kick)) {
        throw new CheckSkipped(
          `the server did not close the socket on request: POST /admin/kick/{emp_id} answered ${kick.status}`,
        );
      }
      await socket.state('disconnected', `the server to close employee ${empId}'s socket`);
      const shiftId = ctx.shift();
      await ctx.offer(empId, shiftId);
      await socket.state('connected', `employee ${empId} to reconnect`);
      const frame = await socket.maybe(offerFor(shiftId));
      const offers = await pendingOf(ctx, empId);
      if (!frame && !listed(offers, shiftId)) {
        throw new CheckFailed(
          `the offer of shift ${shiftId}, sent while employee ${empId} was cut off, was lost`,
          'the offer pushed after the reconnect, or listed as pending',
          'neither',
          CLAUSE.pending,
        );
      }
      if (!frame) {
        throw new CheckFailed(
          `the offer of shift ${shiftId} is pending but was not pushed on reconnect`,
          `a shift_offer for shift ${shiftId} after the reconnect`,
          'only in pending',
          CLAUSE.resend,
        );
      }
    },
  },
  {
    id: 'test-endpoint',
    title: 'the seed test endpoint says "sent" to a connected employee and "pending" otherwise',
    level: 'should',
    clause: CLAUSE.testEndpoint,
    async run(ctx) {
      if (!ctx.trigger.isTestEndpoint) {
        throw new CheckSkipped('offers are made with --send-cmd, not the test endpoint');
      }
      const offline = ctx.employee();
      const pending = await ctx.trigger.offer(offline, ctx.shift());
      const online = ctx.employee();
      await ctx.connect(online);
      const sent = await ctx.trigger.offer(online, ctx.shift());
      const Status = (status: string) =>
        z.object({ status: z.literal(status), emp_id: Id, shift_id: Id });
      for (const [res, status] of [
        [pending, 'pending'],
        [sent, 'sent'],
      ] as const) {
        if (!Status(status).safeParse(res?.json).success) {
          throw new CheckFailed(
            `the test endpoint's answer for ${status === 'sent' ? 'a connected' : 'an offline'} employee is not the seed's`,
            `{"status":"${status}","emp_id":<id>,"shift_id":<id>}`,
            res ? shown(res) : 'no answer',
          );
        }
      }
    },
  },
  {
    id: 'heartbeat',
    title: 'a socket that stops answering pings is closed by the server; one that answers is not',
    level: 'should',
    clause: CLAUSE.ping,
    budgetMs: (options) => (options.heartbeatWaitMs ?? 0) + options.timeoutMs * 6,
    async run(ctx) {
      const wait = ctx.options.heartbeatWaitMs;
      if (!wait) {
        throw new CheckSkipped(
          "a backend may take one or two heartbeat intervals (often 25 s or more) to drop a dead socket, longer than verify waits unless told: give --heartbeat-wait (e.g. 60s, twice the backend's interval) to run it",
        );
      }
      // A live phone (it answers ping frames and JSON pings, as the app does) beside a dead one.
      const live = await ctx.connect(ctx.employee());
      const deadEmp = ctx.employee();
      const dead = ctx.bareSocket(deadEmp, 'verify');
      const up = await ctx.within(dead.upgrade, `the WebSocket of employee ${deadEmp} to open`);
      if (!up.opened) {
        throw new CheckFailed(
          `the WebSocket of employee ${deadEmp} did not open`,
          `a WebSocket at ${ctx.options.wsUrl}/${deadEmp}`,
          'error' in up ? up.error : `status ${up.status}: ${show(up.body)}`,
          CLAUSE.connect,
        );
      }
      const start = performance.now();
      const closed = await within(dead.closed, '', wait).catch(() => undefined);
      if (!closed) {
        const { pingFrames, jsonPings } = dead.received;
        throw new CheckFailed(
          `a socket that answered no ping for ${wait} ms (--heartbeat-wait) was still open`,
          `the server to close it within ${wait} ms`,
          pingFrames + jsonPings === 0
            ? 'still open, and the server sent it no ping at all (no ping frame, no {"type":"ping"})'
            : `still open after ${pingFrames} ping frame(s) and ${jsonPings} {"type":"ping"} went unanswered (if the backend allows more missed pings, give a longer --heartbeat-wait)`,
        );
      }
      // The live one must still be open: a round trip lets a close sent with the other arrive.
      const pong = await live.ping();
      const gone = live.closedBy();
      if (gone || pong === undefined) {
        throw new CheckFailed(
          `the server closed the dead socket after ${Math.round(performance.now() - start)} ms, and the live one as well`,
          'a socket that answers every ping left open',
          gone ?? 'no pong on the live socket',
        );
      }
    },
  },
];
