/**
 * The in-process fan-out: employees' sockets by emp_id. Several devices of one employee each
 * get every message, serialised once. A device whose send buffer has grown past the bound is a
 * slow consumer: it is disconnected rather than allowed to grow the server's memory. Faults
 * (dropped or delayed pushes) are injected here, where a network would lose them.
 */
import type { Fanout } from '../offers/ports.js';
import type { ServerMessage } from '../protocol/schemas.js';
import type { Faults } from './faults.js';

/** The part of a `ws` WebSocket the hub uses. */
export interface Peer {
  send(frame: string): void;
  readonly bufferedAmount: number;
  terminate(): void;
}

/** What became of one push to one employee. */
export type PushOutcome = 'sent' | 'no_device' | 'dropped';

export interface LocalHub extends Fanout {
  add(empId: number, peer: Peer): number;
  remove(empId: number, peer: Peer): number;
  devices(empId: number): number;
  /** Cuts every connection of an employee, as a network drop would; returns how many. */
  kick(empId: number): number;
}

export interface HubOptions {
  /** Bytes queued on one socket beyond which it is dropped as a slow consumer. */
  maxBufferedBytes: number;
  faults: Faults;
  onSlowConsumer?: (empId: number) => void;
  /** Called once per publish and outcome, with every employee it applies to. */
  onPush?: (empIds: number[], message: ServerMessage, outcome: PushOutcome) => void;
}

export function createLocalHub(options: HubOptions): LocalHub {
  const byEmployee = new Map<number, Set<Peer>>();
  const { faults } = options;

  function write(empId: number, peer: Peer, frame: string): boolean {
    if (peer.bufferedAmount > options.maxBufferedBytes) {
      options.onSlowConsumer?.(empId);
      peer.terminate();
      return false;
    }
    peer.send(frame);
    return true;
  }

  function sendTo(empId: number, peers: Set<Peer>, frame: string): number {
    const latency = faults.pushLatencyMs;
    if (latency > 0) {
      const targets = [...peers];
      setTimeout(() => {
        for (const peer of targets) write(empId, peer, frame);
      }, latency);
      return targets.length;
    }
    let reached = 0;
    for (const peer of peers) if (write(empId, peer, frame)) reached++;
    return reached;
  }

  return {
    add(empId, peer) {
      let peers = byEmployee.get(empId);
      if (!peers) {
        peers = new Set();
        byEmployee.set(empId, peers);
      }
      peers.add(peer);
      return peers.size;
    },
    remove(empId, peer) {
      const peers = byEmployee.get(empId);
      if (!peers) return 0;
      peers.delete(peer);
      if (peers.size === 0) byEmployee.delete(empId);
      return peers.size;
    },
    devices(empId) {
      return byEmployee.get(empId)?.size ?? 0;
    },
    kick(empId) {
      const peers = [...(byEmployee.get(empId) ?? [])];
      for (const peer of peers) peer.terminate();
      return peers.length;
    },
    async publish(empIds, message) {
      let frame: string | undefined;
      const byOutcome: Record<PushOutcome, number[]> = { sent: [], no_device: [], dropped: [] };
      const reached = empIds.map((empId) => {
        const peers = byEmployee.get(empId);
        if (!peers) {
          byOutcome.no_device.push(empId);
          return 0;
        }
        // A dropped push is lost on the way: the server believes it sent it.
        if (faults.shouldDrop()) {
          byOutcome.dropped.push(empId);
          return peers.size;
        }
        frame ??= JSON.stringify(message);
        byOutcome.sent.push(empId);
        return sendTo(empId, peers, frame);
      });
      if (options.onPush) {
        for (const outcome of ['sent', 'no_device', 'dropped'] as const) {
          if (byOutcome[outcome].length > 0) options.onPush(byOutcome[outcome], message, outcome);
        }
      }
      return reached;
    },
    async presence() {
      return new Map([...byEmployee].map(([empId, peers]) => [empId, peers.size]));
    },
  };
}
