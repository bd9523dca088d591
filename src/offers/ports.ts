/**
 * What the offer rules need from the world besides the store: the time, a way to push messages
 * to employees' devices, and a place to report what happened. Each is an interface so tests
 * inject a manual clock, and so several `serve` instances can later share a fan-out (Redis
 * pub/sub) without the rules changing.
 */
import type { ServerMessage } from '../protocol/schemas.js';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once the clock reaches `at` (ms since the epoch); returns a cancel function. */
  schedule(at: number, fn: () => void): () => void;
}

/** Node's timers cap a delay at about 24.8 days; later deadlines re-arm. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(at, fn) {
    let timer: NodeJS.Timeout;
    const arm = (): void => {
      const wait = at - Date.now();
      timer = setTimeout(wait > MAX_DELAY_MS ? arm : fn, Math.max(0, Math.min(wait, MAX_DELAY_MS)));
      timer.unref();
    };
    arm();
    return () => clearTimeout(timer);
  },
};

export interface Fanout {
  /**
   * Pushes one message to every connected device of each employee. The message is serialised
   * once however many devices get it. Resolves to the number of devices reached, per employee,
   * in the order given.
   */
  publish(empIds: readonly number[], message: ServerMessage): Promise<number[]>;
  /** Connected devices per employee, for employees with at least one. */
  presence(): Promise<Map<number, number>>;
  /**
   * Employees with at least one device connected whose id is in [from, to], in no set order.
   * Optional: without it, a broadcast filters `presence()`.
   */
  connectedIn?(from: number, to: number): Promise<number[]>;
}

/** One thing that happened, for the operator's log. Fields use the wire's snake_case names. */
export interface OfferEvent {
  event: string;
  [field: string]: unknown;
}

export interface EventSink {
  event(e: OfferEvent): void;
  /** Something went wrong in the background (a deadline run failed); events otherwise. */
  warn?(message: string, fields?: Record<string, unknown>): void;
}
