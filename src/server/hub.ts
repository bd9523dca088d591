/**
 * The in-process fan-out: employees' sockets by emp_id. Several devices of one employee each
 * get every message. A device whose send buffer has grown past the bound is a slow consumer:
 * it is disconnected rather than allowed to grow the server's memory.
 */
import type { Fanout } from '../offers/ports.js';

/** The part of a `ws` WebSocket the hub uses. */
export interface Peer {
  send(frame: string): void;
  readonly bufferedAmount: number;
  terminate(): void;
}

export interface LocalHub extends Fanout {
  add(empId: number, peer: Peer): number;
  remove(empId: number, peer: Peer): number;
  devices(empId: number): number;
}

export interface HubOptions {
  /** Bytes queued on one socket beyond which it is dropped as a slow consumer. */
  maxBufferedBytes: number;
  onSlowConsumer?: (empId: number) => void;
}

export function createLocalHub(options: HubOptions): LocalHub {
  const byEmployee = new Map<number, Set<Peer>>();

  function sendTo(empId: number, peers: Set<Peer>, frame: string): number {
    let reached = 0;
    for (const peer of peers) {
      if (peer.bufferedAmount > options.maxBufferedBytes) {
        options.onSlowConsumer?.(empId);
        peer.terminate();
        continue;
      }
      peer.send(frame);
      reached++;
    }
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
    async publish(empIds, message) {
      let frame: string | undefined;
      return empIds.map((empId) => {
        const peers = byEmployee.get(empId);
        if (!peers) return 0;
        frame ??= JSON.stringify(message);
        return sendTo(empId, peers, frame);
      });
    },
    async presence() {
      return new Map([...byEmployee].map(([empId, peers]) => [empId, peers.size]));
    },
  };
}
