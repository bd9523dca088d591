/**
 * The in-process fan-out: employees' sockets by emp_id. Several devices of one employee each
 * get every message, serialised once. A device whose send buffer has grown past the bound is a
 * slow consumer: it is disconnected rather than allowed to grow the server's memory. Faults
 * (dropped or delayed pushes) are injected here, where a network would lose them.
 */
import type { Fanout } from '../offers/ports.js';
import type { ServerMessage } from '../protocol/schemas.js';
import type { Faults } from './faults.js';

/** A connected device, as the hub uses it (see `DevicePeer` in websocket.ts). */
export interface Peer {
  /** Writes a whole WebSocket frame, built once by `textFrame` for every recipient. */
  sendFrame(frame: Buffer): void;
  readonly bufferedAmount: number;
  terminate(): void;
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
    async publish(empIds, message) {
      let frame: Buffer | undefined;
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
        frame ??= textFrame(JSON.stringify(message));
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
    async connectedIn(from, to) {
      const empIds: number[] = [];
      for (const empId of byEmployee.keys()) if (empId >= from && empId <= to) empIds.push(empId);
      return empIds;
    },
  };
}
