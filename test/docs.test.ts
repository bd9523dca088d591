/** The machine-readable contract: served by the server and written by `shiftctl docs`. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Parser } from '@asyncapi/parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { contractDocuments } from '../src/server/docs.js';
import { run } from './cli-harness.js';
import { connect, get, http, post, respond, startServer } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

type Json = Record<string, any>;

/** An ajv that knows the document's components, so `$ref`s into them resolve. */
function validatorFor(doc: Json) {
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  ajv.addSchema({ $id: 'doc', components: doc.components });
  return (schema: Json) => {
    if (typeof schema.$ref === 'string') return ajv.compile({ $ref: `doc${schema.$ref}` });
    return ajv.compile(schema);
  };
}

/** The object a `$ref` into the document points at, or the value itself. */
function resolve(doc: Json, value: Json): Json {
  if (typeof value.$ref !== 'string') return value;
  return value.$ref
    .slice(2)
    .split('/')
    .reduce((at: Json, key: string) => at[key], doc);
}

/** Every example a media type gives: its `example`, its `examples`, or its schema's. */
function examplesOf(doc: Json, media: Json): unknown[] {
  if (media.example !== undefined) return [media.example];
  if (media.examples) return Object.values(media.examples).map((e: any) => e.value);
  return resolve(doc, media.schema).examples ?? [];
}

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

  it('gives every request body and response an example that its own schema takes', () => {
    const doc = contractDocuments().openapi as Json;
    const compile = validatorFor(doc);
    const checked: string[] = [];
    for (const [path, item] of Object.entries(doc.paths as Json)) {
      for (const [method, op] of Object.entries(item as Json)) {
        const media: [string, Json][] = [];
        if (op.requestBody) media.push(['request', op.requestBody.content['application/json']]);
        for (const [status, response] of Object.entries(op.responses as Json)) {
          if (!/^[24]\d\d$/.test(status) && status !== 'default') continue;
          const content = resolve(doc, response).content;
          // The dashboard's event stream: text, with an example of it.
          if (content['text/event-stream']) {
            expect(content['text/event-stream'].example).toMatch(/^event: hello\n/);
            checked.push(`${method.toUpperCase()} ${path} ${status} event stream`);
            continue;
          }
          media.push([status, content['application/json']]);
        }
        for (const [what, m] of media) {
          const where = `${method.toUpperCase()} ${path} ${what}`;
          const examples = examplesOf(doc, m);
          expect(examples.length, `${where} has an example`).toBeGreaterThan(0);
          const validate = compile(m.schema);
          for (const example of examples) {
            expect(validate(example), `${where}: ${JSON.stringify(validate.errors)}`).toBe(true);
          }
          checked.push(where);
        }
      }
    }
    expect(checked).toContain('POST /api/shift_offer/respond request');
    expect(checked).toContain('POST /api/shift_offer/respond 409');
    expect(checked).toContain('GET /api/admin/events 200 event stream');
    expect(checked).toContain('POST /api/admin/scenarios request');
    // Every named schema's own examples too (the AsyncAPI messages show them).
    for (const [name, schema] of Object.entries(doc.components.schemas as Json)) {
      const validate = compile({ $ref: `#/components/schemas/${name}` });
      for (const example of schema.examples ?? []) {
        expect(validate(example), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
      }
    }
    // What "Try it out" sends to answer: the app's own shape, for the seed's test shift.
    const answer =
      doc.paths['/api/shift_offer/respond'].post.requestBody.content['application/json'];
    expect(answer.example).toMatchObject({ emp_id: 123, shift_id: 999, response: 'accepted' });
  });

  it('says what the server enforces: extra answer fields, ranges, dates, 404 and 405', async () => {
    const doc = contractDocuments().openapi as Json;
    const compile = validatorFor(doc);
    const schemas = doc.components.schemas;
    const body = (path: string) =>
      compile(doc.paths[path].post.requestBody.content['application/json'].schema);
    const param = (path: string, method: string, name: string) =>
      compile(doc.paths[path][method].parameters.find((p: Json) => p.name === name).schema);
    // The app's answer may carry fields it does not know yet: they are ignored, not refused.
    expect(schemas.RespondRequest).not.toHaveProperty('additionalProperties');
    const extra = { emp_id: 31, shift_id: 7, response: 'accepted', device: 'pixel-8' };
    expect(body('/api/shift_offer/respond')(extra)).toBe(true);
    // The admin and test bodies are strict: unknown fields are refused, and the document says so.
    expect(schemas.SendOfferBody.additionalProperties).toBe(false);
    expect(body('/api/test/send_offer/{emp_id}')({ color: 'red' })).toBe(false);
    // Ranges and real dates, as the server checks them.
    const id = param('/api/shift_offers/pending/{emp_id}', 'get', 'emp_id');
    expect([id(1), id(Number.MAX_SAFE_INTEGER), id(0), id(2 ** 53)]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    const limit = param('/api/shift_offers/history/{emp_id}', 'get', 'limit');
    expect([limit(1), limit(1000), limit(0), limit(1001)]).toEqual([true, true, false, false]);
    const ttl = param('/api/test/send_offer/{emp_id}', 'post', 'ttl_seconds');
    expect([ttl(1), ttl(2_592_000), ttl(2_592_001)]).toEqual([true, true, false]);
    expect(schemas.RespondRequest.properties.emp_id).toMatchObject({
      minimum: 1,
      maximum: 2 ** 53 - 1,
    });
    expect(schemas.CreateShift.properties.date.format).toBe('date');
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    const unlisted = doc.components.responses.Unlisted.content['application/json'];
    expect(Object.keys(unlisted.examples)).toEqual(['E_NOT_FOUND', 'E_METHOD_NOT_ALLOWED']);
    for (const item of Object.values(doc.paths as Json)) {
      for (const op of Object.values(item as Json)) {
        expect(op.responses.default).toEqual({ $ref: '#/components/responses/Unlisted' });
      }
    }

    const server = await startServer();
    try {
      const error = compile({ $ref: '#/components/schemas/Error' });
      await post(server, '/api/test/send_offer/31?shift_id=7');
      const answered = await post(server, '/api/shift_offer/respond', extra);
      expect(answered.status).toBe(200);
      expect(answered.body).toMatchObject({ assigned: true, outcome: 'assigned' });
      const refused = await post(server, '/api/test/send_offer/31?shift_id=8', { color: 'red' });
      expect(refused.status).toBe(400);
      expect(refused.body.code).toBe('E_INVALID_BODY');
      const badDate = await post(server, '/api/test/send_offer/31?shift_id=8', {
        date: '2026-02-30',
      });
      expect(badDate.body.code).toBe('E_INVALID_BODY');
      expect((await get(server, '/api/shift_offers/history/31?limit=1001')).status).toBe(400);
      expect((await post(server, '/api/test/send_offer/31?ttl_seconds=2592001')).status).toBe(400);
      const missing = await get(server, '/api/no/such/path');
      expect([missing.status, missing.body.code]).toEqual([404, 'E_NOT_FOUND']);
      expect(error(missing.body)).toBe(true);
      const wrongMethod = await http(server, 'GET', '/api/shift_offer/respond');
      expect([wrongMethod.status, wrongMethod.body.code]).toEqual([405, 'E_METHOD_NOT_ALLOWED']);
      expect(wrongMethod.headers.get('allow')).toContain('POST');
      expect(error(wrongMethod.body)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('passes redocly lint with its recommended rules, offline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shiftctl-lint-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(contractDocuments().openapi));
      // No telemetry, no update check: nothing but the file is read.
      const env = {
        ...process.env,
        REDOCLY_TELEMETRY: 'off',
        REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
        NO_COLOR: '1',
      };
      const bin = join(ROOT, 'node_modules', '.bin', 'redocly');
      const args = ['lint', file, '--extends=recommended', '--format=json'];
      const { stdout } = await promisify(execFile)(bin, args, { cwd: dir, env }).catch(
        (err: { stdout: string; stderr: string }) => {
          throw new Error(`redocly lint failed:\n${err.stdout}\n${err.stderr}`);
        },
      );
      const report = JSON.parse(stdout.slice(stdout.indexOf('{')));
      expect(report.totals.errors, JSON.stringify(report.problems, null, 1)).toBe(0);
      expect(report.totals.warnings, JSON.stringify(report.problems, null, 1)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('gives the AsyncAPI document servers and WebSocket bindings, and @asyncapi/parser takes it', async () => {
    const doc = contractDocuments().asyncapi as Json;
    expect(Object.values(doc.servers).map((s: any) => s.protocol)).toEqual(['ws', 'wss']);
    const channel = doc.channels.employee;
    expect(channel.address).toBe('/ws/{emp_id}');
    expect(channel.servers).toEqual([{ $ref: '#/servers/ws' }, { $ref: '#/servers/wss' }]);
    expect(channel.bindings.ws).toMatchObject({ method: 'GET', bindingVersion: '0.1.0' });
    expect(channel.bindings.ws.query.properties.token.type).toBe('string');
    // Only the frames: the HTTP bodies are the OpenAPI document's.
    expect(Object.keys(doc.components.schemas).sort()).toEqual([
      'ErrorMessage',
      'OfferResult',
      'Ping',
      'Pong',
      'ShiftOffer',
    ]);
    const diagnostics = await new Parser().validate(JSON.stringify(doc));
    // 0 is an error, 1 a warning; 2 and 3 are information and hints.
    const problems = diagnostics.filter((d) => d.severity <= 1);
    expect(problems.map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`)).toEqual([]);
  }, 60_000);

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
