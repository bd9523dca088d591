/**
 * Sockets a hostile client abuses (pipelines it never reads, upgrades it resets) must never take
 * the server down: after each sequence, the server still answers.
 */
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServerOptions, ShiftServer } from '../src/server/create-server.js';
import { type SelfSigned, selfSignedCertificate } from '../src/server/self-signed.js';
import { serveJson } from './cli-harness.js';
import { startServer } from './helpers.js';

let servers: ShiftServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

let certificate: SelfSigned;
beforeAll(async () => {
  certificate = await selfSignedCertificate('127.0.0.1');
});
afterAll(() => rmSync(dirname(certificate.caFile), { recursive: true, force: true }));

async function started(kind: 'plain' | 'TLS', options: ServerOptions = {}): Promise<ShiftServer> {
  const tls = kind === 'TLS' ? { cert: certificate.cert, key: certificate.key } : undefined;
  const s = await startServer({ tls, ...options });
  servers.push(s);
  return s;
}

/**
 * A connection to `s`: `socket` to talk on and `tcp` under it (a TLS socket cannot be reset
 * itself; the TCP socket it runs on can).
 */
async function open(s: ShiftServer): Promise<{ socket: Socket; tcp: Socket }> {
  const { hostname, port, protocol } = new URL(s.url);
  const tcp = connect(Number(port), hostname);
  await once(tcp, 'connect');
  if (protocol === 'http:') return { socket: tcp, tcp };
  const socket = tlsConnect({ socket: tcp, rejectUnauthorized: false });
  await once(socket, 'secureConnect');
  return { socket, tcp };
}

/** Writes `text` on a new connection and resolves to all the server sent until it closed. */
async function exchange(s: ShiftServer, text: string, finish = true): Promise<string> {
  const { socket } = await open(s);
  let answer = '';
  socket.setEncoding('latin1').on('data', (d: string) => {
    answer += d;
  });
  socket.on('error', () => {});
  socket.write(text);
  if (finish) socket.end();
  await once(socket, 'close');
  return answer;
}

async function healthy(s: ShiftServer): Promise<boolean> {
  const answer = await exchange(s, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  return answer.startsWith('HTTP/1.1 200 ') && answer.includes('"status":"ok"');
}

const H2C =
  'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n';

const KINDS = ['plain', 'TLS'] as const;

describe('a client that pipelines, asks for h2c, never reads and resets', () => {
  it.each(KINDS)('leaves the server answering (%s)', async (kind) => {
    const s = await started(kind);
    const { socket, tcp } = await open(s);
    // Answers enough to fill the socket buffers both ways, so the last ones are still being
    // written when the h2c request is parsed and the reset comes.
    socket.write(
      `${'GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(200)}GET /healthz HTTP/1.1\r\nHost: x\r\n${H2C}\r\n`,
    );
    // Client and server share this thread: by the time the first answer arrives here, the
    // server has parsed the whole pipeline, h2c request included.
    await once(socket, 'data');
    socket.pause();
    tcp.resetAndDestroy();
    expect(await healthy(s)).toBe(true);
  });
});

describe('serve, under the same client', () => {
  it('keeps running and shuts down cleanly afterwards', async () => {
    const { cli, url } = await serveJson('--db', ':memory:', '--no-fixtures');
    const { port } = new URL(url);
    const tcp = connect(Number(port), '127.0.0.1');
    await once(tcp, 'connect');
    tcp.write(
      `${'GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(200)}GET /healthz HTTP/1.1\r\nHost: x\r\n${H2C}\r\n`,
    );
    await once(tcp, 'data');
    tcp.pause();
    tcp.resetAndDestroy();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const exit = await cli.stop();
    expect(exit.stderr).not.toMatch(/ECONNRESET|unexpected error/);
    expect(exit.code).toBe(0);
  });
});

describe('pipelined requests followed by the end of the client side', () => {
  it.each(
    KINDS.flatMap((kind) => [[kind, 'plain HTTP/1.1', ''] as const, [kind, 'h2c', H2C] as const]),
  )('are each answered (%s, %s)', async (kind, _, upgrade) => {
    const s = await started(kind);
    let text = '';
    for (let i = 1; i <= 20; i++) {
      text += `POST /api/test/send_offer/7?shift_id=${i} HTTP/1.1\r\nHost: x\r\n${upgrade}Content-Length: 0\r\n\r\n`;
    }
    const warnings: Error[] = [];
    const warned = (w: Error) => warnings.push(w);
    process.on('warning', warned);
    try {
      const answer = await exchange(s, text);
      expect(answer.match(/HTTP\/1\.1 \d{3}/g)).toEqual(Array(20).fill('HTTP/1.1 200'));
      // Each h2c request hands the socket back to the HTTP server: nothing may pile up on it
      // (a listener per request did, and Node warned of a leak past ten). Warnings come a tick on.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => w.message)).toEqual([]);
    } finally {
      process.off('warning', warned);
    }
  });
});
