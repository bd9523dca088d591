/** The machine-readable contract: served by the server and written by `shiftctl docs`. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { run } from './cli-harness.js';
import { connect, get, post, respond, startServer } from './helpers.js';

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

  it('compiles under JSON Schema 2020-12, and real answers and frames match it', async () => {
    const server = await startServer();
    try {
      const doc = (await get(server, '/openapi.json')).body;
      const ajv = new Ajv2020({ strict: false, validateFormats: false });
      ajv.addSchema({ $id: 'openapi', components: doc.components });
      const names = Object.keys(doc.components.schemas);
      expect(names.length).toBeGreaterThan(20);
      const schema = (name: string) => {
        const validate = ajv.getSchema(`openapi#/components/schemas/${name}`);
        if (!validate) throw new Error(`${name} does not compile`);
        return validate;
      };
      for (const name of names) expect(() => schema(name), name).not.toThrow();
      for (const s of Object.values(doc.components.schemas)) {
        expect(s).not.toHaveProperty('$id');
      }
      // What the server really sends matches what the document says.
      const phone = await connect(server, 21);
      await post(server, '/api/test/send_offer/21?shift_id=5');
      const frame = await phone.offer(5);
      phone.close();
      const shiftOffer = schema('ShiftOffer');
      expect(shiftOffer(frame), JSON.stringify(shiftOffer.errors)).toBe(true);
      const pending = await get(server, '/api/shift_offers/pending/21');
      expect(pending.body.every((o: unknown) => shiftOffer(o))).toBe(true);
      const answer = await respond(server, 21, 5, 'accepted');
      const respondResponse = doc.paths['/api/shift_offer/respond'].post.responses['200'];
      const ref = respondResponse.content['application/json'].schema.$ref.split('/').at(-1);
      expect(schema(ref)(answer.body)).toBe(true);
      // /docs offers an Authorize button: the app's calls take a bearer token.
      expect(doc.components.securitySchemes.bearer).toMatchObject({
        type: 'http',
        scheme: 'bearer',
      });
      expect(doc.paths['/api/shift_offer/respond'].post.security).toEqual([{ bearer: [] }]);
      expect(doc.paths['/healthz'].get.security).toEqual([]);
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
