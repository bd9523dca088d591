/** The OpenAPI 3.1 document, generated from the route table and the protocol schemas. */
import { z } from 'zod';
import { ERROR_STATUS, type ErrorCode } from '../errors.js';
import { ErrorBody, registry } from '../protocol/schemas.js';
import type { Route } from './routes.js';

const REF_PREFIX = '#/components/schemas/';

type JsonSchema = Record<string, unknown>;

export function componentSchemas(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'output',
    uri: (id) => `${REF_PREFIX}${id}`,
    unrepresentable: 'any',
  }) as { schemas: Record<string, JsonSchema> };
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
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const inner = schema instanceof z.ZodOptional ? schema.unwrap() : schema;
  if (!(inner instanceof z.ZodObject)) return [];
  return Object.entries(inner.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const required = where === 'path' || !field.safeParse(undefined).success;
    const json = schemaOf(field, 'input');
    return {
      name,
      in: where,
      required,
      schema: where === 'path' ? { type: 'integer', minimum: 1 } : json,
      ...(json.description ? { description: json.description } : {}),
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
  if (r.method === 'post') codes.push('E_STORAGE_FULL', 'E_DATABASE_BUSY');
  return codes;
}

function errorResponses(codes: ErrorCode[]): Record<string, JsonSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set([...codes, 'E_INTERNAL' as const])) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, JsonSchema> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[String(status)] = {
      description: `Error: ${list.join(', ')}`,
      content: { 'application/json': { schema: schemaOf(ErrorBody, 'output') } },
    };
  }
  return out;
}

export interface OpenApiOptions {
  version: string;
  serverUrl?: string;
}

export function buildOpenApi(routes: Route[], options: OpenApiOptions): JsonSchema {
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
          content: { 'application/json': { schema: schemaOf(r.response, 'output') } },
        },
        ...errorResponses([...impliedErrors(r), ...r.errors]),
      },
    };
    // The Authorize button of /docs: tokens are needed when the server runs with a secret.
    op.security = r.access === 'public' ? [] : [{ bearer: [] }];
    if (r.body) {
      op.requestBody = {
        required: !r.bodyOptional,
        content: { 'application/json': { schema: schemaOf(r.body, 'input') } },
      };
    }
    paths[r.path] ??= {};
    (paths[r.path] as Record<string, JsonSchema>)[r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'shiftctl reference server',
      version: options.version,
      description:
        'The HTTP side of the shift-offer contract. WebSocket: connect to `/ws/{emp_id}`; the server pushes `ShiftOffer`, `Ping`, `OfferResult` and `ErrorMessage` frames (schemas below) and accepts only `Pong`.',
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    tags: [
      { name: 'app', description: 'Called by the mobile app.' },
      { name: 'test', description: "The seed's test endpoint." },
      { name: 'admin', description: 'Operators and test suites.' },
      { name: 'debug', description: 'Introspection.' },
    ],
    paths,
    components: {
      schemas: componentSchemas(),
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
