/** The OpenAPI 3.1 document, generated from the route table and the protocol schemas. */
import { z } from 'zod';
import { ERROR_STATUS, type ErrorCode } from '../errors.js';
import { ErrorBody, parameterSchemaOf, registry } from '../protocol/schemas.js';
import type { Route } from './routes.js';

const REF_PREFIX = '#/components/schemas/';

type JsonSchema = Record<string, unknown>;

/** zod writes a positive integer as `exclusiveMinimum: 0`; `minimum: 1` says the same, plainly. */
function plainMinimum(ctx: { jsonSchema: JsonSchema }): void {
  const json = ctx.jsonSchema;
  if (json.type === 'integer' && json.exclusiveMinimum === 0) {
    delete json.exclusiveMinimum;
    json.minimum = 1;
  }
}

function renderRegistry(io: 'input' | 'output'): Record<string, JsonSchema> {
  return (
    z.toJSONSchema(registry, {
      target: 'draft-2020-12',
      io,
      uri: (id) => `${REF_PREFIX}${id}`,
      unrepresentable: 'any',
      override: plainMinimum,
    }) as { schemas: Record<string, JsonSchema> }
  ).schemas;
}

/**
 * Every named schema, as the server sends it, except those in `inputs` (request bodies), which
 * are described as the server takes them: zod drops the unknown fields of an object that is not
 * strict, so such a body accepts them (no `additionalProperties: false`), while a strict one
 * refuses them.
 */
export function componentSchemas(
  inputs: ReadonlySet<string> = new Set(),
): Record<string, JsonSchema> {
  const schemas = renderRegistry('output');
  if (inputs.size > 0) {
    const asTaken = renderRegistry('input');
    for (const id of inputs) if (asTaken[id]) schemas[id] = asTaken[id];
  }
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    // zod names each component by a fragment `$id`, which JSON Schema 2020-12 forbids (ajv
    // refuses them, and Swagger UI then shows "string" for every example): the `$ref`s the
    // document uses resolve without them.
    delete schema.$id;
  }
  return schemas;
}

/** A schema inline, or a `$ref` when it is a named component. */
function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const id = registry.get(schema)?.id;
  if (id) return { $ref: `${REF_PREFIX}${id}` };
  const json = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    override: plainMinimum,
  }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** What "Try it out" on /docs fills in for a path parameter: the examples' employee and shift. */
const PATH_EXAMPLES: Record<string, number | string> = {
  token: 'fGx3kZ0pR1eXample:APA91bH-EXAMPLE_fcm_registration_token',
  emp_id: 123,
  shift_id: 999,
  id: 999,
  from: 1,
  to: 100,
};

/** The object schema of a route's params or query, under its refinements and `optional`. */
function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let inner: unknown = schema;
  for (;;) {
    if (inner instanceof z.ZodObject) return inner.shape as Record<string, z.ZodType>;
    if (inner instanceof z.ZodOptional) inner = inner.unwrap();
    else if (inner instanceof z.ZodPipe) inner = inner.in;
    else return undefined;
  }
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const shape = objectShape(schema);
  if (!shape) return [];
  return Object.entries(shape).map(([name, field]) => {
    const required = where === 'path' || !field.safeParse(undefined).success;
    const json = schemaOf(field, 'input');
    const { description, ...fromZod } = json;
    // A number in the URL is text to zod; the document says which numbers it takes.
    const documented = parameterSchemaOf(field) ?? fromZod;
    const example = where === 'path' ? PATH_EXAMPLES[name] : undefined;
    return {
      name,
      in: where,
      required,
      schema: documented,
      ...(description ? { description } : {}),
      ...(example !== undefined ? { example } : {}),
    };
  });
}

/** Errors every route of its kind can answer, besides those its own rules give. */
function impliedErrors(r: Route): ErrorCode[] {
  const codes: ErrorCode[] = [];
  if (r.params) codes.push('E_INVALID_PARAM');
  if (r.query) codes.push('E_INVALID_QUERY');
  if (r.body) {
    codes.push('E_BAD_JSON', 'E_INVALID_BODY', 'E_BODY_TOO_LARGE', 'E_UNSUPPORTED_MEDIA_TYPE');
  }
  if (r.access !== 'public') {
    codes.push('E_AUTH_REQUIRED', 'E_TOKEN_MALFORMED', 'E_TOKEN_SIGNATURE', 'E_TOKEN_EXPIRED');
    codes.push('E_FORBIDDEN');
  }
  if (r.rateLimited) codes.push('E_RATE_LIMITED');
  // A write can find the disk full or the database locked by another program.
  if (r.method !== 'get') codes.push('E_STORAGE_FULL', 'E_DATABASE_BUSY');
  return codes;
}

/** What the server says with each code it can answer, for the examples of the error responses. */
const ERROR_EXAMPLES: Partial<Record<ErrorCode, string>> = {
  E_BAD_JSON: 'Request body is not valid JSON: Unexpected end of JSON input',
  E_BAD_REQUEST: 'The request could not be read.',
  E_INVALID_BODY: 'Invalid request body: response: must be one of "accepted", "rejected"',
  E_INVALID_PARAM: 'Invalid path parameter: emp_id: must be a positive integer',
  E_INVALID_QUERY: 'Invalid query: limit: must be a whole number from 1 to 1000',
  E_AUTH_REQUIRED:
    'This server needs a token: send Authorization: Bearer <token> (or ?token= on the WebSocket).',
  E_TOKEN_MALFORMED: 'The token is not a well-formed shiftctl token.',
  E_TOKEN_SIGNATURE: "The token was not signed with this server's secret.",
  E_TOKEN_EXPIRED: 'The token has expired; mint a new one with `shiftctl token`.',
  E_FORBIDDEN: 'This token is for employee 124; it cannot act for employee 123.',
  E_NOT_FOUND: 'No endpoint at GET /api/shift_offers/pending; see GET / for the list.',
  E_OFFER_NOT_FOUND: 'Shift 999 was never offered to employee 123.',
  E_SHIFT_NOT_FOUND: 'Shift 999 does not exist.',
  E_METHOD_NOT_ALLOWED: 'GET is not allowed here; use POST.',
  E_ANSWER_CONFLICT: 'Employee 123 already accepted shift 999; an answer cannot be changed.',
  E_OFFER_ANSWERED: 'Employee 123 already answered shift 999 (accepted); use another shift_id.',
  E_SHIFT_EXISTS: 'Shift 1021 already exists.',
  E_SHIFT_TAKEN: 'Shift 999 is already assigned; it can no longer be offered.',
  E_SHIFT_CLOSED: 'Shift 999 is withdrawn; it can no longer be offered.',
  E_NOT_REQUESTED: 'Employee 123 has not asked for shift 1021.',
  E_OFFER_EXPIRED: 'The offer of shift 999 to employee 123 expired before it was answered.',
  E_OFFER_WITHDRAWN:
    'Shift 999 was withdrawn after employee 123 answered it; the answer no longer holds.',
  E_BODY_TOO_LARGE: 'Request body is larger than the limit of 16384 bytes.',
  E_UNSUPPORTED_MEDIA_TYPE: 'Unsupported charset "utf-16": send the JSON body in UTF-8.',
  E_RATE_LIMITED: 'Too many answers; try again in 2 s.',
  E_INTERNAL: 'The server failed to handle this request; see its log.',
  E_UNAVAILABLE: 'Not ready: starting or shutting down.',
  E_STORAGE_FULL:
    'The database is full (no space left on its disk): nothing was written. Try again once space is freed.',
  E_DATABASE_BUSY:
    'The database is locked by another program: nothing was written. Try again shortly.',
};

function errorExample(code: ErrorCode): JsonSchema {
  const value: JsonSchema = {
    success: false,
    code,
    message: ERROR_EXAMPLES[code] ?? code,
  };
  if (code === 'E_RATE_LIMITED') value.details = { retry_after_s: 2 };
  return { summary: code, value };
}

/** An error response: the JSON error shape, with an example of each code it stands for. */
function errorResponse(description: string, codes: ErrorCode[]): JsonSchema {
  return {
    description,
    content: {
      'application/json': {
        schema: schemaOf(ErrorBody, 'output'),
        examples: Object.fromEntries(codes.map((code) => [code, errorExample(code)])),
      },
    },
  };
}

function errorResponses(codes: ErrorCode[]): Record<string, JsonSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  // Any request can meet a shutdown or a database (or Redis) that is away, and a bug.
  for (const code of new Set([...codes, 'E_UNAVAILABLE' as const, 'E_INTERNAL' as const])) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, JsonSchema> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[String(status)] = errorResponse(`Error: ${list.join(', ')}`, list);
  }
  return out;
}

/**
 * What any request can get that no operation lists: a path that is not in the document is 404
 * `E_NOT_FOUND`, a method a path does not take is 405 `E_METHOD_NOT_ALLOWED` (with `Allow`).
 * Each operation's `default` response points here.
 */
const UNLISTED_RESPONSE: JsonSchema = {
  ...errorResponse(
    'Any other status, in the same JSON error shape: 404 `E_NOT_FOUND` for a path that is not listed here, 405 `E_METHOD_NOT_ALLOWED` for a method a listed path does not take (its `Allow` header names those it does), 408 `E_REQUEST_TIMEOUT` and 431 `E_HEADERS_TOO_LARGE` for a request that did not arrive whole.',
    ['E_NOT_FOUND', 'E_METHOD_NOT_ALLOWED'],
  ),
  headers: {
    Allow: {
      description: 'With 405: the methods the path takes.',
      schema: { type: 'string' },
      example: 'POST, OPTIONS',
    },
  },
};

/** Every `$ref` in `value`. */
function refsIn(value: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const item of value) refsIn(item, into);
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string') into.add(inner);
      else refsIn(inner, into);
    }
  }
  return into;
}

/** The named schemas `roots` use, directly or through others. */
export function reachableSchemas(
  schemas: Record<string, JsonSchema>,
  roots: unknown,
): Record<string, JsonSchema> {
  const names = new Set<string>();
  const queue = [...refsIn(roots, new Set())];
  while (queue.length > 0) {
    const ref = queue.pop() as string;
    if (!ref.startsWith(REF_PREFIX)) continue;
    const name = ref.slice(REF_PREFIX.length);
    if (names.has(name) || !schemas[name]) continue;
    names.add(name);
    queue.push(...refsIn(schemas[name], new Set()));
  }
  return Object.fromEntries(Object.entries(schemas).filter(([name]) => names.has(name)));
}

/** The first example of a named schema, for a media type's `example` (what "Try it out" sends). */
function firstExample(schema: JsonSchema, schemas: Record<string, JsonSchema>): unknown {
  const ref = schema.$ref;
  const target = typeof ref === 'string' ? schemas[ref.slice(REF_PREFIX.length)] : schema;
  const examples = target?.examples;
  return Array.isArray(examples) ? examples[0] : undefined;
}

function jsonContent(
  schema: JsonSchema,
  schemas: Record<string, JsonSchema>,
  fallback?: unknown,
): JsonSchema {
  const example = firstExample(schema, schemas) ?? fallback;
  return { 'application/json': { schema, ...(example !== undefined ? { example } : {}) } };
}

export interface OpenApiOptions {
  version: string;
}

const EVENT_STREAM_EXAMPLE = [
  'event: hello',
  'data: {"last_id":41,"instance":null}',
  '',
  'id: 42',
  'event: journal',
  'data: {"id":42,"time":"2026-12-01T21:58:02.113Z","kind":"push","emp_id":101,"shift_id":1021,"name":"shift_offer","outcome":"sent","detail":null}',
  '',
  'event: presence',
  'data: {"emp_id":101}',
  '',
  ': keep-alive',
  '',
  '',
].join('\n');

/**
 * `GET /api/admin/events`: not a route of the table (it streams rather than answers once), so
 * described here by hand.
 */
function eventStreamOperation(): JsonSchema {
  return {
    tags: ['admin'],
    summary: 'The dashboard push stream: journal lines as they are written (server-sent events)',
    description:
      'A `text/event-stream` that stays open. First a `hello` event (`last_id`: the newest journal id; `instance`: this instance in a cluster), then a `journal` event for each journal line as it is written, its `id:` the line\'s id and its data a `JournalEntry`; `presence` (`{"emp_id"}`) when an employee\'s devices on this instance connect or go; `scenario` (`{"name","step","did"}`) when a scenario step plays; `gap` (`{"after_id","resumed_after_id"}`) when a client came back too far behind (1 000 lines) and the stream skipped ahead. A comment every 15 s keeps proxies from closing it. To catch up after a break, send `Last-Event-ID` (or `?after_id=`) with the last id seen: the stream starts with the lines after it. Without either, it starts with lines written from now. Read it with `fetch()` (or `curl -N`) so that the token goes in the `Authorization` header; EventSource cannot send one. In a cluster, it carries the lines of every instance (they share the journal), reading it at least once a second; `presence` is this instance\'s only.',
    operationId: 'getApiAdminEvents',
    parameters: [
      {
        name: 'after_id',
        in: 'query',
        required: false,
        description: 'Start with the journal lines after this id (as `Last-Event-ID` does).',
        schema: { type: 'integer', minimum: 0, maximum: 999_999_999_999_999 },
      },
      {
        name: 'Last-Event-ID',
        in: 'header',
        required: false,
        description: 'The last journal id seen; takes precedence over `after_id`.',
        schema: { type: 'integer', minimum: 0, maximum: 999_999_999_999_999 },
      },
    ],
    security: [{ bearer: [] }],
    responses: {
      '200': {
        description: 'The stream, until the client or the server closes it.',
        content: {
          'text/event-stream': {
            schema: { type: 'string' },
            example: EVENT_STREAM_EXAMPLE,
          },
        },
      },
      ...errorResponses([
        'E_INVALID_QUERY',
        'E_AUTH_REQUIRED',
        'E_TOKEN_MALFORMED',
        'E_TOKEN_SIGNATURE',
        'E_TOKEN_EXPIRED',
        'E_FORBIDDEN',
        'E_UNAVAILABLE',
      ]),
      default: { $ref: '#/components/responses/Unlisted' },
    },
  };
}

export function buildOpenApi(routes: Route[], options: OpenApiOptions): JsonSchema {
  const bodies = new Set<string>();
  for (const r of routes) {
    const id = r.body ? registry.get(r.body)?.id : undefined;
    if (id) bodies.add(id);
  }
  const schemas = componentSchemas(bodies);
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const r of routes) {
    const op: JsonSchema = {
      tags: [r.tag],
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      operationId: `${r.method}${r.path.replace(/[^a-zA-Z0-9]+(.)?/g, (_, ch?: string) => (ch ? ch.toUpperCase() : ''))}`,
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      responses: {
        [String(r.status ?? 200)]: {
          description: 'Success',
          content: jsonContent(schemaOf(r.response, 'output'), schemas),
        },
        ...errorResponses([...impliedErrors(r), ...r.errors]),
        default: { $ref: '#/components/responses/Unlisted' },
      },
    };
    // The Authorize button of /docs: tokens are needed when the server runs with a secret.
    op.security = r.access === 'public' ? [] : [{ bearer: [] }];
    if (r.body) {
      op.requestBody = {
        required: !r.bodyOptional,
        // zod leaves the examples out of the input rendering of a schema with transforms (a
        // scenario's `at`): the body's own first example, then.
        content: jsonContent(
          schemaOf(r.body, 'input'),
          schemas,
          (z.globalRegistry.get(r.body)?.examples as unknown[] | undefined)?.[0],
        ),
      };
    }
    paths[r.path] ??= {};
    (paths[r.path] as Record<string, JsonSchema>)[r.method] = op;
  }
  paths['/api/admin/events'] = { get: eventStreamOperation() };
  return {
    openapi: '3.1.0',
    info: {
      title: 'shiftctl reference server',
      version: options.version,
      description:
        'The HTTP side of the shift-offer contract. WebSocket: connect to `/ws/{emp_id}`; the server pushes `ShiftOffer` (schema below), `Ping`, `OfferResult` and `ErrorMessage` frames and accepts only `Pong`: `/asyncapi.json` describes them.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    // Relative: it resolves against the address the document was fetched from, so "Try it out"
    // calls the server that served /docs, whatever host, port, scheme or proxy stands in front.
    servers: [{ url: '/', description: 'The server that serves this document.' }],
    tags: [
      { name: 'app', description: 'Called by the mobile app.' },
      { name: 'test', description: "The seed's test endpoint." },
      { name: 'admin', description: 'Operators and test suites.' },
      { name: 'debug', description: 'Introspection.' },
    ],
    paths,
    components: {
      schemas: reachableSchemas(schemas, [paths, UNLISTED_RESPONSE]),
      responses: { Unlisted: UNLISTED_RESPONSE },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'A token from `shiftctl token` (an employee token for the app calls, `--admin` for the rest), needed when the server runs with `--secret`.',
        },
      },
    },
  };
}
