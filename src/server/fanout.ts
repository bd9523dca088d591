/**
 * The fan-out the rules and the WebSocket layer use: this instance's sockets (the local hub)
 * and, with several instances, the cluster between them (Redis, or PostgreSQL alone).
 *
 * A push is framed once and written to the local sockets at once; the same text goes to the
 * other instances in one message, each writing its own sockets. Whether an offer counts as
 * `sent` or `pending` comes from presence across the cluster, read in the same round trip;
 * each instance marks delivery for the sockets it wrote to. Admission (the per-employee cap),
 * kicks and fault settings act across instances.
 */
import type { Cluster, ClusterMessage } from '../cluster/types.js';
import type { Fanout } from '../offers/ports.js';
import { failureStreak } from '../offers/retry.js';
import type { ServerMessage } from '../protocol/schemas.js';
import type { Faults } from './faults.js';
import { type LocalHub, type Peer, type PushOutcome, textFrame } from './hub.js';
import type { Logger } from './log.js';

export interface ServerFanout extends Fanout {
  readonly cluster: Cluster | undefined;
  /**
   * Takes a place for one more device of `empId`, up to `cap` across every instance: the count
   * after, or null when the employee has `cap` already. A place taken must be given back with
   * `leave`, whether or not a socket came of it.
   */
  join(empId: number, cap: number): Promise<number | null>;
  /** Gives a place back; resolves to the employee's devices left across the cluster. */
  leave(empId: number): Promise<number>;
  /** Registers a joined device's socket on this instance. */
  attach(empId: number, peer: Peer): void;
  /** Unregisters it (its socket closed). */
  detach(empId: number, peer: Peer): void;
  /** Cuts every connection of an employee on every instance; resolves to how many. */
  kick(empId: number): Promise<number>;
  /** A message from another instance. */
  receive(message: ClusterMessage): void;
}

export interface FanoutOptions {
  hub: LocalHub;
  cluster?: Cluster | undefined;
  faults: Faults;
  log: Logger;
  /** Once per push and outcome, with every employee it applies to (the journal, /metrics). */
  onPush(empIds: number[], message: ServerMessage, outcome: PushOutcome): void;
  /** Local sockets were written this message (delivery is marked by the instance that wrote). */
  onDelivered(empIds: number[], message: ServerMessage): void;
  /** Another instance made an offer with this deadline. */
  onDeadline?(at: number): void;
  /** Seconds a push to the cluster took, for /metrics. */
  onClusterLatency?(seconds: number): void;
}

export function createFanout(options: FanoutOptions): ServerFanout {
  const { hub, cluster, faults, log } = options;
  const linkFailures = failureStreak('reaching the other instances', {
    warn: (message, fields) => log.warn(message, fields),
    recovered: (fields) => log.event({ event: 'recovered', ...fields }),
  });

  /**
   * Writes to local sockets; reports the deliveries made and the pushes dropped. `message` is
   * read only when a local socket was written to: a push from another instance is parsed only
   * then (with PostgreSQL's bus, every instance hears every push).
   */
  function deliverLocally(
    empIds: readonly number[],
    message: () => ServerMessage | undefined,
    frame: Buffer,
  ) {
    const local = hub.deliver(empIds, frame);
    const delivered = empIds.filter((_, i) => (local.reached[i] ?? 0) > 0);
    if (delivered.length === 0 && local.dropped.length === 0) return local;
    const parsed = message();
    if (!parsed) return local;
    if (delivered.length > 0) options.onDelivered(delivered, parsed);
    if (local.dropped.length > 0) options.onPush(local.dropped, parsed, 'dropped');
    return local;
  }

  /** Presence across the cluster, or the local one when the cluster cannot be reached. */
  async function fromCluster<T>(read: (c: Cluster) => Promise<T>, local: () => T): Promise<T> {
    if (!cluster) return local();
    try {
      const value = await read(cluster);
      linkFailures.succeeded();
      return value;
    } catch (err) {
      linkFailures.failed(err);
      return local();
    }
  }

  return {
    cluster,

    async publish(empIds, message) {
      const text = JSON.stringify(message);
      const local = deliverLocally(empIds, () => message, textFrame(text));
      const start = performance.now();
      // The other instances get the push too; the counts are the whole cluster's. Should the
      // link be down, the offer is still stored: devices elsewhere fetch it when they reconnect.
      const reached = await fromCluster(
        (c) => c.push(empIds, text),
        () => local.reached,
      );
      if (cluster) options.onClusterLatency?.((performance.now() - start) / 1000);
      const dropped = new Set(local.dropped);
      const sent: number[] = [];
      const none: number[] = [];
      empIds.forEach((empId, i) => {
        const devices = Math.max(reached[i] ?? 0, local.reached[i] ?? 0);
        reached[i] = devices;
        if (devices === 0) none.push(empId);
        else if (!dropped.has(empId)) sent.push(empId);
      });
      if (sent.length > 0) options.onPush(sent, message, 'sent');
      if (none.length > 0) options.onPush(none, message, 'no_device');
      return reached;
    },

    presence: () =>
      fromCluster(
        (c) => c.presence(),
        () => hub.presence(),
      ),

    async connectedIn(from, to) {
      if (!cluster) return hub.connectedIn(from, to);
      const presence = await this.presence();
      return [...presence.keys()].filter((empId) => empId >= from && empId <= to);
    },

    async join(empId, cap) {
      if (!cluster) {
        const devices = hub.devices(empId);
        return devices >= cap ? null : devices + 1;
      }
      return cluster.join(empId, cap);
    },

    async leave(empId) {
      if (!cluster) return hub.devices(empId);
      return fromCluster(
        (c) => c.leave(empId),
        () => hub.devices(empId),
      );
    },

    attach: (empId, peer) => {
      hub.add(empId, peer);
    },
    detach: (empId, peer) => {
      hub.remove(empId, peer);
    },

    async kick(empId) {
      if (!cluster) return hub.kick(empId);
      const [devices = 0] = await cluster.devices([empId]);
      const here = hub.kick(empId);
      await cluster.broadcast({ kind: 'kick', empId });
      return Math.max(devices, here);
    },

    receive(message) {
      switch (message.kind) {
        case 'push': {
          const { text } = message;
          const parse = () => {
            try {
              return JSON.parse(text) as ServerMessage;
            } catch {
              log.warn('dropping a push from another instance that is not JSON');
              return undefined;
            }
          };
          deliverLocally(message.empIds, parse, textFrame(text));
          return;
        }
        case 'kick':
          hub.kick(message.empId);
          return;
        case 'faults':
          faults.apply(message.settings);
          return;
        case 'deadline':
          options.onDeadline?.(message.at);
          return;
      }
    },
  };
}
