/**
 * What `shiftctl listen` does, without any terminal: recover pending offers, hold the socket
 * (with the app's reconnects), queue offers without ever showing one twice, drop those the
 * server closes, and post answers exactly as the app does. A `Decider` (a prompt, or `--auto`)
 * answers; the caller renders the events.
 */
import { EXIT, isShiftctlError } from '../errors.js';
import { sameDetails } from '../protocol/names.js';
import type { OfferResponse, RespondResponse } from '../protocol/schemas.js';
import type { ApiClient } from './api.js';
import { isUrgent, type OfferLike } from './card.js';
import { type ConnectionOptions, type ConnectionState, createConnection } from './connection.js';
import { localTimestamp } from './timestamp.js';

export type Decision = OfferResponse | 'skip' | 'quit';

export interface DecisionContext {
  /** Offers waiting behind this one, now. */
  waiting(): number;
  /** Aborted when the server closes this offer (taken, expired, withdrawn) before an answer. */
  signal: AbortSignal;
}

export interface Decider {
  decide(offer: OfferLike, context: DecisionContext): Promise<Decision>;
}

/**
 * Why an offer was dropped: what the server said (`assigned`, `requested` and `rejected` mean
 * another device of this employee answered), or `closed` when it was simply gone.
 */
export type ResultStatus =
  | 'assigned'
  | 'requested'
  | 'rejected'
  | 'taken'
  | 'expired'
  | 'withdrawn'
  | 'closed';

export type ListenEvent =
  | ({ event: 'state' } & ConnectionState)
  | {
      event: 'offer';
      offer: OfferLike;
      source: 'pending' | 'push';
      waiting: number;
      /** An urgent offer: how many normal offers it went ahead of in the queue. */
      jumped?: number;
    }
  /** An offer held here came again with other details: it replaces the one held. */
  | { event: 'updated'; offer: OfferLike; waiting: number }
  | { event: 'dropped'; shift_id: number; status: ResultStatus; waiting: number }
  | { event: 'result'; shift_id: number; status: string }
  | { event: 'answer'; shift_id: number; response: OfferResponse }
  | ({ event: 'outcome' } & RespondResponse)
  | { event: 'skipped'; shift_id: number }
  | { event: 'error'; message: string; shift_id?: number; code?: string }
  | { event: 'message'; message: unknown };

export interface SessionOptions {
  api: ApiClient;
  empId: number;
  connection: Omit<ConnectionOptions, 'onState' | 'onMessage' | 'empId'>;
  /** Who answers; without one, offers are only reported. */
  decider?: Decider | undefined;
  /** Stop after the first offer is handled (answered, skipped, dropped, or reported). */
  once?: boolean;
  onEvent(event: ListenEvent): void;
}

export { localTimestamp } from './timestamp.js';

function isOffer(m: unknown): m is OfferLike & { type: 'shift_offer' } {
  const o = m as { type?: unknown; shift_id?: unknown };
  return o?.type === 'shift_offer' && Number.isSafeInteger(o.shift_id);
}

const CLOSED_STATUSES = new Set([
  'taken',
  'expired',
  'withdrawn',
  'assigned',
  'requested',
  'rejected',
]);

/** The longest delay a Node timer keeps; a later deadline is left to the server. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface Session {
  /** Runs until `stop()`, `--once` is satisfied, a decider quits, or reconnecting fails. */
  run(): Promise<number>;
  stop(code?: number): void;
}

export function createSession(options: SessionOptions): Session {
  const { api, empId, decider, onEvent } = options;
  /** Every offer seen, as last seen: an offer is never shown twice unless its details change. */
  const seen = new Map<number, OfferLike>();
  /** Offers waiting for the prompt: urgent ones first, each group in the order they came. */
  const queue: OfferLike[] = [];
  let current: { offer: OfferLike; abort: AbortController } | undefined;
  let pumping = false;
  let finished = false;
  let resolveRun: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => {
    resolveRun = resolve;
  });

  const connection = createConnection({
    ...options.connection,
    empId,
    onState(state) {
      onEvent({ event: 'state', ...state });
      if (state.state === 'connected' && state.reconnected) void recover();
      if (state.state === 'failed') finish(state.refused ? EXIT.REFUSED : EXIT.UNREACHABLE);
    },
    onMessage(message) {
      if (isOffer(message)) {
        enqueue(message, 'push');
        return;
      }
      const m = message as { type?: unknown; shift_id?: unknown; status?: unknown };
      if (m?.type === 'offer_result' && typeof m.shift_id === 'number') {
        closeOffer(m.shift_id, String(m.status));
        return;
      }
      if (m?.type === 'error') {
        onEvent({
          event: 'error',
          message: String((m as { message?: unknown }).message ?? ''),
          code: String((m as { code?: unknown }).code ?? ''),
        });
        return;
      }
      onEvent({ event: 'message', message });
    },
  });

  function finish(code: number): void {
    if (finished) return;
    finished = true;
    current?.abort.abort('stopped');
    connection.close();
    resolveRun(code);
  }

  /**
   * Offline recovery: the app asks for pending offers on start and after every reconnect. An
   * offer held here before the reconnect that is no longer pending was closed meanwhile (taken,
   * expired or withdrawn while the socket was down): it is dropped, not asked about.
   */
  async function recover(): Promise<void> {
    const held = new Set(queue.map((o) => o.shift_id));
    if (current) held.add(current.offer.shift_id);
    try {
      const pending = await api.pending(empId);
      const open = new Set(pending.map((o) => o.shift_id));
      for (const shiftId of held) if (!open.has(shiftId)) drop(shiftId, 'closed');
      for (const offer of pending) enqueue(offer, 'pending');
    } catch (err) {
      onEvent({ event: 'error', message: isShiftctlError(err) ? err.message : String(err) });
    }
  }

  function enqueue(offer: OfferLike, source: 'pending' | 'push'): void {
    if (finished) return;
    const before = seen.get(offer.shift_id);
    if (before) {
      if (!sameDetails(before, offer)) replace(offer);
      return;
    }
    seen.set(offer.shift_id, offer);
    if (!decider) {
      onEvent({ event: 'offer', offer, source, waiting: 0 });
      if (options.once) finish(EXIT.OK);
      return;
    }
    const position = place(offer);
    onEvent({
      event: 'offer',
      offer,
      source,
      waiting: queue.length - (pumping ? 0 : 1),
      ...(position < queue.length - 1 ? { jumped: queue.length - 1 - position } : {}),
    });
    pump().catch((err: unknown) => {
      onEvent({ event: 'error', message: err instanceof Error ? err.message : String(err) });
      finish(EXIT.FAILURE);
    });
  }

  /**
   * Queues an offer: an urgent one goes ahead of every normal offer waiting (behind the urgent
   * ones that came before it), a normal one at the end. The offer at the prompt stays there.
   * Returns its index in the queue.
   */
  function place(offer: OfferLike): number {
    const index = isUrgent(offer) ? queue.findIndex((o) => !isUrgent(o)) : -1;
    if (index < 0) return queue.push(offer) - 1;
    queue.splice(index, 0, offer);
    return index;
  }

  /**
   * The shift's details changed (the server pushed it again): the offer held is replaced where
   * it waits (moved, when its priority changed), or asked about again at once when it is at the
   * prompt.
   */
  function replace(offer: OfferLike): void {
    seen.set(offer.shift_id, offer);
    const index = queue.findIndex((o) => o.shift_id === offer.shift_id);
    if (index >= 0) {
      if (isUrgent(queue[index] as OfferLike) === isUrgent(offer)) {
        queue[index] = offer;
      } else {
        queue.splice(index, 1);
        place(offer);
      }
    } else if (current?.offer.shift_id === offer.shift_id && !current.abort.signal.aborted) {
      queue.unshift(offer);
      current.abort.abort('updated');
    } else if (decider) {
      return; // answered or dropped already: nothing to show
    }
    onEvent({ event: 'updated', offer, waiting: queue.length });
  }

  function closeOffer(shiftId: number, status: string): void {
    onEvent({ event: 'result', shift_id: shiftId, status });
    if (CLOSED_STATUSES.has(status)) drop(shiftId, status as ResultStatus);
  }

  /** Takes an offer off the prompt or out of the queue, and says so. */
  function drop(shiftId: number, s: ResultStatus): void {
    if (current?.offer.shift_id === shiftId && !current.abort.signal.aborted) {
      current.abort.abort('closed');
    } else {
      const index = queue.findIndex((o) => o.shift_id === shiftId);
      if (index < 0) return;
      queue.splice(index, 1);
    }
    onEvent({ event: 'dropped', shift_id: shiftId, status: s, waiting: queue.length });
    // A dropped offer is dealt with: for --once it counts as handled.
    if (options.once) finish(EXIT.OK);
  }

  /** Posts an answer; on failure, says which exit code it deserves. */
  async function answer(offer: OfferLike, response: OfferResponse): Promise<number> {
    onEvent({ event: 'answer', shift_id: offer.shift_id, response });
    try {
      const outcome = await api.respond({
        emp_id: empId,
        shift_id: offer.shift_id,
        response,
        timestamp: localTimestamp(),
      });
      onEvent({ event: 'outcome', ...outcome });
      return EXIT.OK;
    } catch (err) {
      onEvent({
        event: 'error',
        shift_id: offer.shift_id,
        message: isShiftctlError(err) ? err.message : String(err),
      });
      const code = isShiftctlError(err) ? err.exitCode : EXIT.FAILURE;
      // Not recorded (server away or failing): let the offer come back when it is replayed.
      if (code !== EXIT.REFUSED) seen.delete(offer.shift_id);
      return code;
    }
  }

  async function pump(): Promise<void> {
    if (pumping || !decider) return;
    pumping = true;
    try {
      for (let offer = queue.shift(); offer && !finished; offer = queue.shift()) {
        // An offer whose deadline passed while it waited (say, while offline) is gone.
        if (offer.expires_at && Date.parse(offer.expires_at) <= Date.now()) {
          onEvent({
            event: 'dropped',
            shift_id: offer.shift_id,
            status: 'expired',
            waiting: queue.length,
          });
          continue;
        }
        const abort = new AbortController();
        current = { offer, abort };
        // Its deadline passes while it is asked about: gone, whether or not the server says so
        // (it cannot while the socket is down).
        const left = offer.expires_at ? Date.parse(offer.expires_at) - Date.now() : Number.NaN;
        const deadline =
          left > 0 && left <= MAX_TIMER_MS
            ? setTimeout(() => drop(offer.shift_id, 'expired'), left)
            : undefined;
        let decision: Decision;
        try {
          decision = await decider.decide(offer, {
            waiting: () => queue.length,
            signal: abort.signal,
          });
        } catch (err) {
          if (abort.signal.aborted) continue; // closed by the server (or stopping): move on
          throw err;
        } finally {
          clearTimeout(deadline);
          current = undefined;
        }
        if (abort.signal.aborted) continue;
        if (decision === 'quit') {
          finish(EXIT.OK);
          return;
        }
        let code: number = EXIT.OK;
        if (decision === 'skip') onEvent({ event: 'skipped', shift_id: offer.shift_id });
        else code = await answer(offer, decision);
        if (options.once) finish(code);
      }
    } finally {
      pumping = false;
    }
  }

  return {
    async run() {
      await recover();
      if (!finished) connection.start();
      return done;
    },
    stop(code = EXIT.OK) {
      finish(code);
    },
  };
}
