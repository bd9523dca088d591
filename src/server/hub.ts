/**
 * This instance's sockets by emp_id (the fan-out across instances is in fanout.ts). Several devices of one employee each
 * get every message, serialised once. A device whose send buffer has grown past the bound is a
 * slow consumer: it is disconnected rather than allowed to grow the server's memory. Faults
 * (dropped or delayed pushes) are injected here, where a network would lose them.
 */
import type { Faults } from './faults.js';

/** A connected device, as the hub uses it (see `DevicePeer` in websocket.ts). */
export interface Peer {
  /** Writes a whole WebSocket frame, built once by `textFrame` for every recipient. */
  sendFrame(frame: Buffer): void;
  readonly bufferedAmount: number;
  terminate(): void;
  close(code: number, reason: string): void;
}

/**
 * A final, unmasked WebSocket text frame (RFC 6455 section 5.2) holding `text`. A push is framed
 * once and the same bytes written to every recipient's socket, where `ws` would encode and frame
 * the message again for each (two writes a socket).
 */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const head = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + length);
  frame[0] = 0x81; // FIN, text
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.write(text, head, 'utf8');
  return frame;
}

/** What became of one push to one employee. */
export type PushOutcome = 'sent' | 'no_device' | 'dropped';

/** What one instance's sockets made of a push. */
export interface Delivery {
  /** Local devices written to (or due to be, with a push latency), per employee given. */
  reached: number[];
  /** Employees with local devices whose push an injected fault dropped (counted as reached). */
  dropped: number[];
}

/** This instance's sockets, by employee. */
export interface LocalHub {
  add(empId: number, peer: Peer): number;
  remove(empId: number, peer: Peer): number;
  devices(empId: number): number;
  /** Cuts every connection of an employee here, as a network drop would; returns how many. */
  kick(empId: number): number;
  /** Writes `frame` (built once, by `textFrame`) to every local device of each employee. */
  deliver(empIds: readonly number[], frame: Buffer): Delivery;
  /** Local devices per employee with at least one. */
  presence(): Map<number, number>;
  /** Employees with a local device whose id is in [from, to]. */
  connectedIn(from: number, to: number): number[];
  /** Closes every local socket with this code (clients reconnect); returns how many. */
  closeAll(code: number, reason: string): number;
}

export interface HubOptions {
  /** Bytes queued on one socket beyond which it is dropped as a slow consumer. */
  maxBufferedBytes: number;
  faults: Faults;
  onSlowConsumer?: (empId: number) => void;
}

export function createLocalHub(options: HubOptions): LocalHub {
  const byEmployee = new Map<number, Set<Peer>>();
  const { faults } = options;

  function write(empId: number, peer: Peer, frame: Buffer): boolean {
    if (peer.bufferedAmount > options.maxBufferedBytes) {
      options.onSlowConsumer?.(empId);
      peer.terminate();
      return false;
    }
    peer.sendFrame(frame);
    return true;
  }

  function sendTo(empId: number, peers: Set<Peer>, frame: Buffer): number {
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
    deliver(empIds, frame) {
      const dropped: number[] = [];
      const reached = empIds.map((empId) => {
        const peers = byEmployee.get(empId);
        if (!peers) return 0;
        // A dropped push is lost on the way: the server believes it sent it.
        if (faults.shouldDrop()) {
          dropped.push(empId);
          return peers.size;
        }
        return sendTo(empId, peers, frame);
      });
      return { reached, dropped };
    },
    presence() {
      return new Map([...byEmployee].map(([empId, peers]) => [empId, peers.size]));
    },
    connectedIn(from, to) {
      const empIds: number[] = [];
      for (const empId of byEmployee.keys()) if (empId >= from && empId <= to) empIds.push(empId);
      return empIds;
    },
    closeAll(code, reason) {
      let closed = 0;
      for (const peers of byEmployee.values()) {
        for (const peer of peers) {
          peer.close(code, reason);
          closed++;
        }
      }
      return closed;
    },
  };
}
