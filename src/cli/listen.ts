/**
 * `shiftctl listen <emp_id>`: the app in a terminal. The session (src/client/session.ts) does
 * the work; this file turns flags into a session and its events into lines, prompts or JSON.
 * The command's options are declared in commands/listen.ts.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { AbortPromptError, ExitPromptError } from '@inquirer/core';
import type { ChalkInstance } from 'chalk';
import { isUrgent, type OfferLike, renderCard } from '../client/card.js';
import { socketUrl } from '../client/connection.js';
import { createSession, type Decider, type Decision, type ListenEvent } from '../client/session.js';
import { EXIT } from '../errors.js';
import type { OfferResponse } from '../protocol/schemas.js';
import { clientFrom } from './client.js';
import type { ClientFlags } from './client-options.js';
import { io } from './io.js';
import { keyPrompt } from './key-prompt.js';
import { whenNpxWrapperGone } from './npx-wrapper.js';
import { chalkFor, type Stream } from './output.js';

export interface ListenFlags extends ClientFlags {
  auto?: OfferResponse;
  delay: number;
  once?: boolean;
  bell: boolean;
  maxRetries: number;
}

function timeScale(): number {
  // Undocumented for users: lets the tests run the real reconnect schedule quickly.
  const scale = Number(process.env.SHIFTCTL_TIME_SCALE);
  return Number.isFinite(scale) && scale > 0 ? scale : 1;
}

export async function listen(empId: number, flags: ListenFlags): Promise<number> {
  const client = clientFrom(flags);
  const out = io.stdout;
  const err = io.stderr;
  const interactive = !flags.json && !flags.auto && io.stdin.isTTY === true;
  const view = flags.json ? jsonView(out) : prettyView(empId, flags, interactive, out, err);
  let decider: Decider | undefined;
  if (flags.auto) decider = autoDecider(flags.auto, flags.delay);
  else if (interactive) decider = (view as PrettyView).decider;

  const session = createSession({
    api: client.api,
    empId,
    connection: {
      wsUrl: client.endpoints.wsUrl,
      token: client.token,
      headers: client.headers,
      ca: client.ca,
      maxRetries: flags.maxRetries,
      timeScale: timeScale(),
    },
    decider,
    once: flags.once,
    onEvent: (e) => view.event(e),
  });
  const stop = (): void => session.stop(EXIT.OK);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  whenNpxWrapperGone(stop);
  view.start?.(socketUrl(client.endpoints.wsUrl, empId), client.endpoints.apiUrl);
  try {
    return await session.run();
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    (view as Partial<PrettyView>).idle?.close();
  }
}

interface IdleKeys {
  start(): void;
  stop(): void;
  /** Stops for good: a prompt aborted by the session's end settles later, and would start again. */
  close(): void;
}

/**
 * Between prompts the terminal is kept in raw mode and keys are read and let go. Left in the
 * terminal's line buffer, a key typed while nothing was asked would answer the next offer the
 * moment its prompt opened, before anyone had read it. Ctrl-C still quits.
 */
function idleKeys(note: () => void): IdleKeys {
  const stdin = process.stdin;
  let on = false;
  let closed = false;
  let noted = false;
  const onData = (data: Buffer): void => {
    if (data.includes(3)) {
      process.kill(process.pid, 'SIGINT');
      return;
    }
    if (!noted) {
      noted = true;
      note();
    }
  };
  return {
    start() {
      if (on || closed) return;
      on = true;
      noted = false;
      stdin.setRawMode(true);
      stdin.on('data', onData);
      stdin.resume();
    },
    stop() {
      if (!on) return;
      on = false;
      stdin.off('data', onData);
      stdin.pause();
      stdin.setRawMode(false);
    },
    close() {
      closed = true;
      this.stop();
    },
  };
}

function autoDecider(response: OfferResponse, delayMs: number): Decider {
  return {
    async decide(_offer, { signal }) {
      if (delayMs > 0) await delay(delayMs, undefined, { signal });
      return response;
    },
  };
}

interface View {
  start?(wsUrl: string, apiUrl: string): void;
  event(e: ListenEvent): void;
}

function jsonView(out: Stream): View {
  return {
    event(e) {
      out.write(`${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`);
    },
  };
}

interface PrettyView extends View {
  decider: Decider;
  /** Keys between prompts; only with a terminal on stdin. */
  idle?: IdleKeys;
}

/** An urgent offer rings three times, this far apart (a terminal merges bells sent at once). */
const URGENT_RINGS_MS = [0, 250, 500];

const DROPPED: Record<string, string> = {
  taken: 'was taken by someone else',
  expired: 'expired',
  withdrawn: 'was withdrawn',
  assigned: 'is yours: accepted on another device',
  requested: 'was requested on another device (approval pending)',
  rejected: 'was rejected on another device',
  closed: 'is no longer on offer (closed while disconnected)',
};

function prettyView(
  empId: number,
  flags: ListenFlags,
  interactive: boolean,
  out: Stream,
  err: Stream,
): PrettyView {
  const c = chalkFor(out);
  const ce = chalkFor(err);
  // While a prompt is open, lines wait here: the prompt is taken down, they are written, and
  // the prompt comes back, so output and prompt never garble each other.
  let prompt: AbortController | undefined;
  let held: Array<[Stream, string]> = [];
  let current: number | undefined;

  function write(stream: Stream, text: string): void {
    if (prompt) {
      held.push([stream, text]);
      prompt.abort('redraw');
      return;
    }
    stream.write(text);
  }
  const line = (text: string) => write(out, `${text}\n`);
  const note = (text: string) => write(err, `${text}\n`);
  function flushHeld(): void {
    const lines = held;
    held = [];
    for (const [stream, text] of lines) stream.write(text);
  }
  /** The terminal bell (on stderr, when it is a terminal): once, or three times for urgent. */
  function ring(urgent: boolean): void {
    if (!flags.bell || !err.isTTY) return;
    if (!urgent) {
      err.write('\u0007');
      return;
    }
    for (const ms of URGENT_RINGS_MS) {
      if (ms === 0) err.write('\u0007');
      else setTimeout(() => err.write('\u0007'), ms).unref();
    }
  }
  const idle = interactive
    ? idleKeys(() => note(ce.dim('· no offer to answer yet: keys count once one is shown')))
    : undefined;

  const decider: Decider = {
    async decide(offer: OfferLike, context): Promise<Decision> {
      idle?.stop();
      try {
        return await ask(offer, context);
      } finally {
        idle?.start();
      }
    },
  };

  async function ask(
    offer: OfferLike,
    context: Parameters<Decider['decide']>[1],
  ): Promise<Decision> {
    current = offer.shift_id;
    write(out, `\n${renderCard(offer, c, Date.now(), out.columns)}`);
    for (;;) {
      const controller = new AbortController();
      const onClosed = () => controller.abort('closed');
      context.signal.addEventListener('abort', onClosed, { once: true });
      // Stopped (Ctrl-C in the moment the card was drawn) before the prompt opened: the event
      // has fired already, and a prompt opened now would hold the terminal, and the process, open.
      if (context.signal.aborted) controller.abort('closed');
      prompt = controller;
      const waiting = context.waiting();
      try {
        const key = await keyPrompt(
          {
            message: `Shift ${offer.shift_id}:`,
            choices: [
              { key: 'a', label: 'accept' },
              { key: 'r', label: 'reject' },
              { key: 's', label: 'skip' },
            ],
            hint: waiting > 0 ? `${waiting} more waiting` : undefined,
            expiresAt: offer.expires_at ? Date.parse(offer.expires_at) : undefined,
            chalk: c,
          },
          { signal: controller.signal, clearPromptOnDone: true },
        );
        return key === 'a' ? 'accepted' : key === 'r' ? 'rejected' : 'skip';
      } catch (error) {
        if (error instanceof ExitPromptError) return 'quit';
        if (!(error instanceof AbortPromptError)) throw error;
        if (context.signal.aborted) throw error;
      } finally {
        prompt = undefined;
        context.signal.removeEventListener('abort', onClosed);
        flushHeld();
      }
    }
  }

  return {
    decider,
    idle,
    start(wsUrl, apiUrl) {
      idle?.start();
      note(
        ce.dim(
          `Listening as employee ${empId} on ${wsUrl} (${apiUrl}).${interactive ? ' Keys: a accept, r reject, s skip.' : ''} Ctrl-C quits.`,
        ),
      );
    },
    event(e) {
      switch (e.event) {
        case 'state':
          switch (e.state) {
            case 'connecting':
              note(ce.dim('… connecting'));
              return;
            case 'connected':
              note(
                ce.green(`● connected${e.reconnected ? ' again; checking for missed offers' : ''}`),
              );
              return;
            case 'disconnected':
              note(ce.yellow(`○ disconnected (code ${e.code}${e.reason ? `, ${e.reason}` : ''})`));
              return;
            case 'reconnecting':
              note(
                ce.yellow(
                  `↻ reconnecting: retry ${e.attempt}/${e.maxRetries} in ${e.delaySeconds} s`,
                ),
              );
              return;
            case 'failed':
              note(
                ce.red(
                  e.refused
                    ? `✖ ${e.reason}`
                    : `✖ gave up after ${e.attempts} ${e.attempts === 1 ? 'retry' : 'retries'} (${e.reason}). Is the server running? Set its address with --url.`,
                ),
              );
              return;
            default:
              return;
          }
        case 'offer':
          ring(isUrgent(e.offer));
          if (!interactive) {
            line(`\n${renderCard(e.offer, c, Date.now(), out.columns).trimEnd()}`);
          } else if (e.waiting > 0 || current !== undefined) {
            // Shown as a card when its turn comes; for now, say it is waiting.
            line(
              isUrgent(e.offer)
                ? `${c.red.bold('+ new URGENT offer:')} ${c.cyan(`shift ${e.offer.shift_id}${e.jumped ? `, moved ahead of ${e.jumped}` : ''} (${e.waiting} waiting)`)}`
                : c.cyan(`+ new offer: shift ${e.offer.shift_id} (${e.waiting} waiting)`),
            );
          }
          return;
        case 'updated':
          if (!interactive) {
            line(
              `\n${c.cyan(`↻ Shift ${e.offer.shift_id} changed:`)}\n${renderCard(e.offer, c, Date.now(), out.columns).trimEnd()}`,
            );
          } else {
            line(c.cyan(`↻ Shift ${e.offer.shift_id} changed; its card is shown again.`));
          }
          return;
        case 'result':
          // Without a prompt nothing is dropped, but what became of a printed offer is news.
          if (!interactive && !flags.auto && e.status in DROPPED) {
            line(
              e.status === 'assigned'
                ? yoursLine(e.shift_id, c)
                : c.yellow(`✖ Shift ${e.shift_id} ${DROPPED[e.status]}.`),
            );
          }
          return;
        case 'dropped':
          if (current === e.shift_id) current = undefined;
          line(c.yellow(`✖ Shift ${e.shift_id} ${DROPPED[e.status] ?? e.status}; dropped.`));
          return;
        case 'answer':
          current = undefined;
          note(
            ce.dim(
              `→ ${e.response === 'accepted' ? 'accepting' : 'rejecting'} shift ${e.shift_id}…`,
            ),
          );
          return;
        case 'outcome':
          line(outcomeLine(e, c));
          return;
        case 'skipped':
          current = undefined;
          line(c.dim(`· Skipped shift ${e.shift_id}; it stays pending.`));
          return;
        case 'error':
          note(ce.red(`! ${e.message}`));
          return;
        default:
          return;
      }
    },
  };
}

function yoursLine(shiftId: number, c: ChalkInstance): string {
  return c.green.bold(`✔ Shift ${shiftId} is yours: assigned.`);
}

function outcomeLine(e: Extract<ListenEvent, { event: 'outcome' }>, c: ChalkInstance): string {
  if (e.assigned) return yoursLine(e.shift_id, c);
  if (e.outcome === 'rejected') return c.dim(`✓ Rejected shift ${e.shift_id}.`);
  if (e.outcome === 'requested') {
    return c.cyan(`✓ Requested shift ${e.shift_id}: an operator approves or turns it down.`);
  }
  return c.yellow(`✖ Shift ${e.shift_id} was already taken by someone else.`);
}
