/** The machine-readable contract: served by the server and written by `shiftctl docs`. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from './cli-harness.js';
import { get, startServer } from './helpers.js';

describe('the contract documents', () => {
  it('serves an AsyncAPI document for the WebSocket from the same schemas as the OpenAPI one', async () => {
    const server = await startServer();
    try {
      const res = await get(server, '/asyncapi.json');
      expect(res.status).toBe(200);
      expect(res.body.asyncapi).toBe('3.0.0');
      expect(res.body.channels.employee.address).toBe('/ws/{emp_id}');
      expect(Object.keys(res.body.channels.employee.messages)).toEqual([
        'ShiftOffer',
        'Ping',
        'OfferResult',
        'ErrorMessage',
        'Pong',
      ]);
      const offer = res.body.components.schemas.ShiftOffer;
      expect(offer.required).toEqual(['type', 'shift_id', 'date', 'start_time', 'end_time']);
      expect(offer.properties.shift_id.type).toBe('integer');
      const openapi = await get(server, '/openapi.json');
      expect(openapi.body.components.schemas.ShiftOffer).toEqual(offer);
    } finally {
      await server.close();
    }
  });

  it('writes both documents with shiftctl docs --out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shiftctl-docs-'));
    try {
      const exit = await run('docs', '--out', join(dir, 'contract'));
      expect(exit.code).toBe(0);
      expect(exit.stdout.trim().split('\n')).toEqual([
        join(dir, 'contract', 'openapi.json'),
        join(dir, 'contract', 'asyncapi.json'),
      ]);
      const openapi = JSON.parse(readFileSync(join(dir, 'contract', 'openapi.json'), 'utf8'));
      expect(Object.keys(openapi.paths)).toContain('/api/shift_offer/respond');
      const asyncapi = JSON.parse(readFileSync(join(dir, 'contract', 'asyncapi.json'), 'utf8'));
      expect(asyncapi.operations.answerPing.action).toBe('receive');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
