/**
 * What several `serve` instances share besides the store: who is connected where (presence),
 * a message bus between the instances (pushes, kicks, fault settings, new deadlines), the
 * timer lease, and shared rate limits. One interface, two engines: Redis (`serve --redis`) and
 * PostgreSQL alone (LISTEN/NOTIFY and tables), so that the rules and the WebSocket layer never
 * know which one runs.
 *
 * Every instance keeps its own sockets (the local hub); the cluster only says who has how many
 * devices where, and carries messages to the other instances, which write them to their own
 * sockets with the frame built once.
 */
import type { RateLimit, RateLimitResult } from '../server/rate-limit.js';

/** What one instance tells the others. Messages from one instance arrive in the order sent. */
export type ClusterMessage =
  /** A push: `text` (a serialised ServerMessage) to every local device of these employees. */
  | { kind: 'push'; empIds: number[]; text: string }
  /** Cut every local connection of this employee. */
  | { kind: 'kick'; empId: number }
  /** Fault settings changed (absolute times, ms since the epoch). */
  | { kind: 'faults'; settings: SharedFaults }
  /** An offer now has this deadline (ms since the epoch): the timer leader re-arms if earlier. */
  | { kind: 'deadline'; at: number };

/** Fault settings as every instance applies them: `refuse_until` is absolute, in ms. */
export interface SharedFaults {
  push_latency_ms: number;
  http_latency_ms: number;
  drop_rate: number;
  refuse_until: number;
}

export interface ClusterHandlers {
  /** A message from another instance (never one this instance sent). */
  message(message: ClusterMessage, from: string): void;
  /**
   * The link to the other instances was down and is back: messages sent meanwhile may have
   * been missed. The server then has its local clients reconnect, so that they fetch what they
   * missed (the app's recovery path).
   */
  resumed?(): void;
  /** Trouble in the background (a lost connection, a failed refresh), logged once per streak. */
  warn?(message: string, fields?: Record<string, unknown>): void;
}

export interface Cluster {
  /** `redis` or `postgres`, for the banner, `/readyz` and `/metrics`. */
  readonly engine: 'redis' | 'postgres';
  /** This instance's id, unique among the instances (random, chosen at start). */
  readonly instanceId: string;
  /**
   * Registers this instance, subscribes to the bus and starts refreshing its presence; resolves
   * once messages sent by others from now on will be received.
   */
  start(handlers: ClusterHandlers): Promise<void>;
  /** Sends to every other instance (not to this one). */
  broadcast(message: ClusterMessage): Promise<void>;
  /**
   * Sends a push to the other instances (at least to every one holding a device of one of
   * `empIds`; Redis sends to those alone) and reads, at the same moment, how many devices each
   * of `empIds` has connected across the cluster (this instance's included), in the order given.
   * One round trip.
   */
  push(empIds: readonly number[], text: string): Promise<number[]>;
  /**
   * Adds one device of `empId` to this instance's presence unless the cluster already holds
   * `cap` of them, atomically (two instances racing for the last place: one gets it). Resolves
   * to the cluster-wide count after joining, or `null` when refused.
   */
  join(empId: number, cap: number): Promise<number | null>;
  /** Removes one device of `empId` from this instance's presence; resolves to the cluster-wide count left. */
  leave(empId: number): Promise<number>;
  /** Connected devices per employee across live instances, for employees with at least one. */
  presence(): Promise<Map<number, number>>;
  /** Connected devices of each employee across live instances, in the order given. */
  devices(empIds: readonly number[]): Promise<number[]>;
  /** How many instances are alive (this one included). */
  instances(): Promise<number>;
  /**
   * Takes the timer lease, or keeps it if held: resolves to whether this instance leads the
   * timers now. Called every `leaseRenewMs`; a leader that dies loses the lease within
   * `leaseTtlMs` (or at once, where the engine sees the connection drop).
   */
  lead(): Promise<boolean>;
  readonly leaseRenewMs: number;
  /** Fault settings last saved by any instance, for an instance that starts later. */
  loadFaults(): Promise<SharedFaults | undefined>;
  /** Saves fault settings for instances that start later (broadcast separately). */
  saveFaults(settings: SharedFaults): Promise<void>;
  /**
   * A rate limiter shared by every instance (token buckets kept by the engine), or undefined
   * when the engine has none (each instance then limits on its own).
   */
  readonly rateLimiter?: (limit: RateLimit) => SharedRateLimiter;
  /** Throws when the engine cannot be reached (for `/readyz`); resolves to the round trip in ms. */
  ping(): Promise<number>;
  /** Leaves: removes this instance's presence and lease, unsubscribes, disconnects. */
  close(): Promise<void>;
}

export interface SharedRateLimiter {
  take(key: string): Promise<RateLimitResult>;
  giveBack(key: string): Promise<void>;
}
