/**
 * What the app page knows and does, without any DOM: recover pending offers, hold the socket,
 * queue offers without showing one twice, close those the server closes, post answers as the
 * app does, and keep the employee's token. The view (app.tsx) renders snapshots and calls the
 * actions; src/client/session.ts is the same logic for `listen`.
 */
import { sameDetails } from '../protocol/names.js';
import type {
  HistoryItem,
  OfferResponse,
  RespondResponse,
  ShiftOfferMessage,
} from '../protocol/schemas.js';
import { ApiError, type AppApi, createAppApi } from './api.js';
import { type AppSocket, createSocket, type SocketState } from './socket.js';

/** Why an offer left the queue: an outcome of the server's, or `closed` (gone meanwhile). */
export type NoticeStatus =
  | RespondResponse['outcome']
  | 'taken'
  | 'expired'
  | 'withdrawn'
  | 'closed'
  | 'failed';

export interface Notice {
  shiftId: number;
  status: NoticeStatus;
  text: string;
}

export interface AppSnapshot {
  empId: number;
  /** `needed`: the server wants a token and the page has none (or a refused one). */
  auth: 'open' | 'needed' | 'ready';
  authMessage: string | undefined;
  connection: SocketState;
  /**
   * Offers waiting for an answer; the first is the one in the dialog. Urgent offers come before
   * normal ones, except that a new one never takes the place of the offer in the dialog.
   */
  queue: readonly ShiftOfferMessage[];
  /** The answer being sent for the first offer. */
  answering: OfferResponse | undefined;
  /** Why the last answer could not be sent (the offer stays open). */
  answerError: string | undefined;
  /** What became of offers, newest first. */
  notices: readonly Notice[];
  /** The last call that failed (pending offers or history), until one succeeds. */
  problem: string | undefined;
  history: readonly HistoryItem[] | undefined;
}

export interface AppModel {
  snapshot(): AppSnapshot;
  subscribe(listener: () => void): () => void;
  start(): void;
  /** Keeps the token for this tab and starts again with it. */
  signIn(token: string): void;
  /** Forgets the token and stops. */
  forgetToken(): void;
  answer(response: OfferResponse): void;
  /** Drops an offer whose deadline passed while it was shown. */
  expire(shiftId: number): void;
  /** Starts connecting again after the attempts ran out. */
  reconnect(): void;
  stop(): void;
}

export interface AppModelOptions {
  empId: number;
  /** Whether the server requires tokens (it says so in the page). */
  authRequired: boolean;
  /** Where the token is kept: the tab's `sessionStorage`, never a URL. */
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  /** `ws://host` or `wss://host`. */
  socketBase: string;
  api?: AppApi;
}

const NOTICES_KEPT = 5;

const isUrgent = (offer: ShiftOfferMessage): boolean => offer.priority === 'urgent';

/**
 * The queue with `offer` added: an urgent offer ahead of every normal one waiting (behind the
 * urgent ones before it, and never in the dialog's place), a normal one at the end.
 */
export function withOffer(
  queue: readonly ShiftOfferMessage[],
  offer: ShiftOfferMessage,
): ShiftOfferMessage[] {
  const index = isUrgent(offer) ? queue.findIndex((o, i) => i > 0 && !isUrgent(o)) : -1;
  if (index < 0) return [...queue, offer];
  return [...queue.slice(0, index), offer, ...queue.slice(index)];
}

const CLOSING = new Set(['assigned', 'requested', 'rejected', 'taken', 'expired', 'withdrawn']);

/** One line saying what became of a shift. */
export function describeNotice(shiftId: number, status: NoticeStatus): string {
  switch (status) {
    case 'assigned':
      return `Shift ${shiftId} is yours.`;
    case 'requested':
      return `You asked for shift ${shiftId}; an operator has to approve it.`;
    case 'rejected':
      return `You turned down shift ${shiftId}.`;
    case 'taken':
      return `Shift ${shiftId} was taken by someone else.`;
    case 'expired':
      return `Shift ${shiftId} expired before it was answered.`;
    case 'withdrawn':
      return `Shift ${shiftId} was withdrawn.`;
    case 'closed':
      return `Shift ${shiftId} closed while you were offline.`;
    default:
      return `Shift ${shiftId}: ${status}.`;
  }
}

function isOffer(m: unknown): m is ShiftOfferMessage {
  const o = m as { type?: unknown; shift_id?: unknown } | null;
  return o?.type === 'shift_offer' && Number.isSafeInteger(o.shift_id);
}

export function createAppModel(options: AppModelOptions): AppModel {
  const { empId, storage } = options;
  const tokenKey = `shiftctl.token.${empId}`;
  const token = (): string | undefined => storage.getItem(tokenKey) ?? undefined;
  const api = options.api ?? createAppApi(empId, token);
  const listeners = new Set<() => void>();
  /** Every offer seen, as last seen: one is never shown twice unless its details change. */
  const seen = new Map<number, ShiftOfferMessage>();
  let state: AppSnapshot = {
    empId,
    auth: options.authRequired ? (token() ? 'ready' : 'needed') : 'open',
    authMessage: undefined,
    connection: { state: 'closed' },
    queue: [],
    answering: undefined,
    answerError: undefined,
    notices: [],
    problem: undefined,
    history: undefined,
  };
  let running = false;

  function set(patch: Partial<AppSnapshot>): void {
    state = { ...state, ...patch };
    for (const listener of listeners) listener();
  }

  const socket: AppSocket = createSocket({
    url() {
      const url = `${options.socketBase}/ws/${empId}`;
      // A browser cannot send a header with an upgrade: the token goes in the query, as the
      // app sends it. The server reads it there and never logs or journals a query string.
      const bearer = state.auth === 'open' ? undefined : token();
      return bearer ? `${url}?token=${encodeURIComponent(bearer)}` : url;
    },
    onState(connection) {
      set({ connection });
      if (connection.state === 'connected' && connection.reconnected) {
        void recover();
        void loadHistory();
      }
      if (connection.state === 'failed' && connection.refused) {
        needToken('The server closed the connection: the token has expired. Enter a new one.');
      }
    },
    onMessage(message) {
      if (isOffer(message)) {
        receive(message);
        return;
      }
      const m = message as { type?: unknown; shift_id?: unknown; status?: unknown } | null;
      if (m?.type === 'offer_result' && typeof m.shift_id === 'number') {
        const status = String(m.status);
        if (CLOSING.has(status)) close(m.shift_id, status as NoticeStatus);
        void loadHistory();
      }
    },
  });

  function notify(shiftId: number, status: NoticeStatus, text = describeNotice(shiftId, status)) {
    const notice = { shiftId, status, text };
    set({
      notices: [notice, ...state.notices.filter((n) => n.shiftId !== shiftId)].slice(
        0,
        NOTICES_KEPT,
      ),
    });
  }

  function receive(offer: ShiftOfferMessage): void {
    const before = seen.get(offer.shift_id);
    seen.set(offer.shift_id, offer);
    if (before) {
      if (sameDetails(before, offer)) return;
      // Details changed: replaced where it waits; answered or closed already, nothing to show.
      const index = state.queue.findIndex((o) => o.shift_id === offer.shift_id);
      if (index < 0) return;
      const held = state.queue[index] as ShiftOfferMessage;
      if (index === 0 || isUrgent(held) === isUrgent(offer)) {
        set({ queue: state.queue.map((o, i) => (i === index ? offer : o)) });
      } else {
        // Its priority changed: it moves, as a new offer of that priority would go.
        set({ queue: withOffer(state.queue.toSpliced(index, 1), offer) });
      }
      return;
    }
    set({ queue: withOffer(state.queue, offer) });
  }

  /** Takes an offer out of the queue (closing its dialog) and says why. */
  function close(shiftId: number, status: NoticeStatus, text?: string): void {
    const held = state.queue.some((o) => o.shift_id === shiftId);
    const head = state.queue[0]?.shift_id === shiftId;
    if (held) {
      set({
        queue: state.queue.filter((o) => o.shift_id !== shiftId),
        ...(head ? { answering: undefined, answerError: undefined } : {}),
      });
    }
    notify(shiftId, status, text);
  }

  function needToken(message: string): void {
    storage.removeItem(tokenKey);
    running = false;
    socket.close();
    set({ auth: 'needed', authMessage: message });
  }

  /** Says why a call failed; a refused token is forgotten and asked for again. */
  function failed(err: unknown, what: string): void {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof ApiError && err.unauthorized && state.auth !== 'open') {
      needToken(`The server refused the token: ${message}`);
    } else {
      set({ problem: `Could not load ${what}: ${message}` });
    }
  }

  /**
   * Offline recovery, on start and after every reconnect: an offer held here that is no longer
   * pending was closed while the socket was down (unless it is being answered right now).
   */
  async function recover(): Promise<void> {
    try {
      const pending = await api.pending();
      const open = new Set(pending.map((o) => o.shift_id));
      for (const [index, offer] of state.queue.entries()) {
        const beingAnswered = index === 0 && state.answering !== undefined;
        if (!open.has(offer.shift_id) && !beingAnswered) close(offer.shift_id, 'closed');
      }
      for (const offer of pending) receive(offer);
      set({ problem: undefined });
    } catch (err) {
      failed(err, 'pending offers');
    }
  }

  async function loadHistory(): Promise<void> {
    try {
      set({ history: await api.history() });
    } catch (err) {
      failed(err, 'the history');
    }
  }

  /** Pending offers first, then the socket (which reconnects by itself if the server is away). */
  async function start(): Promise<void> {
    if (running || state.auth === 'needed') return;
    running = true;
    await recover();
    if (!running) return; // the token was refused
    socket.start();
    await loadHistory();
  }

  return {
    snapshot: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start() {
      void start();
    },
    signIn(value) {
      storage.setItem(tokenKey, value.trim());
      set({ auth: 'ready', authMessage: undefined });
      void start();
    },
    forgetToken() {
      needToken('Token forgotten.');
    },
    answer(response) {
      const offer = state.queue[0];
      if (!offer || state.answering) return;
      set({ answering: response, answerError: undefined });
      api.respond(offer.shift_id, response).then(
        (result) => {
          if (state.queue[0]?.shift_id === offer.shift_id) set({ answering: undefined });
          close(offer.shift_id, result.outcome);
          void loadHistory();
        },
        (err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          if (err instanceof ApiError && err.unauthorized && state.auth !== 'open') {
            needToken(`The server refused the token: ${message}`);
          }
          // Refused for good (closed, expired, never offered): the offer is gone. Otherwise
          // (server away or failing, token to renew) it stays, to be answered again.
          const refused = err instanceof ApiError && err.status >= 400 && err.status < 500;
          if (refused && !err.unauthorized) {
            close(offer.shift_id, 'failed', `Shift ${offer.shift_id}: ${message}`);
          } else if (state.queue[0]?.shift_id === offer.shift_id) {
            set({ answering: undefined, answerError: message });
          }
        },
      );
    },
    expire(shiftId) {
      close(shiftId, 'expired');
    },
    reconnect() {
      socket.start();
    },
    stop() {
      running = false;
      socket.close();
    },
  };
}
