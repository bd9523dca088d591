/** `/metrics`: what a Prometheus scrape reads, counted from what the server really did. */
import { afterEach, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth/token.js';
import type { ShiftServer } from '../src/server/create-server.js';
import { connect, post, respond, startServer } from './helpers.js';

let servers: ShiftServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function scrape(server: ShiftServer, token?: string) {
  const res = await fetch(`${server.url}/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('/metrics', () => {
  it('counts offers, answers, claims won and lost, pushes and connections', async () => {
    const server = await startServer();
    servers.push(server);
    const phone = await connect(server, 11);
    await post(server, '/api/test/send_offer/11?shift_id=1'); // live
    await post(server, '/api/test/send_offer/12?shift_id=1'); // pending
    await phone.offer(1);
    await respond(server, 11, 1, 'accepted');
    await respond(server, 12, 1, 'accepted');
    const { status, type, text } = await scrape(server);
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const line of [
      'shiftctl_offers_total{status="sent"} 1',
      'shiftctl_offers_total{status="pending"} 1',
      'shiftctl_answers_total{response="accepted"} 2',
      'shiftctl_claims_total{result="won"} 1',
      'shiftctl_claims_total{result="lost"} 1',
      'shiftctl_connections 1',
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toMatch(/^shiftctl_pushes_total\{outcome="sent"\} [1-9]/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    phone.close();
  });

  it('needs an admin token on a server with a secret', async () => {
    const secret = 'metrics-secret-for-a-test';
    const server = await startServer({ secret });
    servers.push(server);
    expect((await scrape(server)).status).toBe(401);
    const employee = await signToken({ emp_id: 5, role: 'employee' }, secret, 600);
    expect((await scrape(server, employee)).status).toBe(403);
    const admin = await signToken({ role: 'admin' }, secret, 600);
    expect((await scrape(server, admin)).status).toBe(200);
  });
});
