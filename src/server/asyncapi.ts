/**
 * The AsyncAPI 3.0 document for the WebSocket side, from the same schemas the server validates
 * with (and the OpenAPI document uses), so the two cannot drift.
 */
import { componentSchemas, reachableSchemas } from './openapi.js';

type Json = Record<string, unknown>;

const ref = (id: string): Json => ({ $ref: `#/components/schemas/${id}` });

/** The host and port of a running `shiftctl serve`; the seed's docs use port 8000. */
const HOST_VARIABLE = {
  host: {
    default: 'localhost:8000',
    description: 'Host and port of the shiftctl server (`shiftctl serve --port`).',
  },
};

export function buildAsyncApi(options: { version: string }): Json {
  const schemas = componentSchemas();
  const message = (id: string, summary: string): Json => {
    const examples = schemas[id]?.examples;
    return {
      name: id,
      summary,
      contentType: 'application/json',
      payload: ref(id),
      ...(Array.isArray(examples)
        ? {
            // Each example named apart: `ShiftOffer`, then `ShiftOffer2` (an urgent one), ...
            examples: examples.map((payload, i) => ({
              name: i === 0 ? id : `${id}${i + 1}`,
              payload,
            })),
          }
        : {}),
    };
  };
  const channels = {
    employee: {
      address: '/ws/{emp_id}',
      title: "One employee's devices",
      servers: [{ $ref: '#/servers/ws' }, { $ref: '#/servers/wss' }],
      parameters: {
        emp_id: {
          description: 'The employee, a positive integer (1 to 2^53-1) written in decimal.',
          examples: ['123'],
        },
      },
      messages: {
        ShiftOffer: message(
          'ShiftOffer',
          'An open shift offered to the employee (must be parsed by the app).',
        ),
        Ping: message('Ping', 'Liveness check; the app answers {"type":"pong"}.'),
        OfferResult: message(
          'OfferResult',
          'An offer the employee holds closed: assigned, taken, expired or withdrawn.',
        ),
        ErrorMessage: message('ErrorMessage', 'The server could not use a frame the client sent.'),
        Pong: message('Pong', 'The answer to a ping; the only frame a client sends.'),
      },
      bindings: {
        ws: {
          method: 'GET',
          query: {
            type: 'object',
            properties: {
              token: {
                type: 'string',
                description:
                  'A token from `shiftctl token` for this employee (or an admin one); needed when the server runs with `--secret`.',
              },
            },
          },
          bindingVersion: '0.1.0',
        },
      },
    },
  };
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'shiftctl shift-offer WebSocket',
      version: options.version,
      description:
        'The app connects to `<wsUrl>/{emp_id}` (with `?token=` when authentication is on). Text frames, one JSON object each. Open offers are sent again on every connect: delivery is at-least-once, and clients drop duplicates by `shift_id`.',
      license: { name: 'MIT' },
    },
    servers: {
      ws: {
        host: '{host}',
        protocol: 'ws',
        description: 'A server run without TLS (local testing).',
        variables: HOST_VARIABLE,
      },
      wss: {
        host: '{host}',
        protocol: 'wss',
        description:
          'A server run with `--tls-cert` or `--tls-self-signed` (or behind a TLS proxy), as in production.',
        variables: HOST_VARIABLE,
      },
    },
    channels,
    operations: {
      receiveFromServer: {
        action: 'send',
        channel: { $ref: '#/channels/employee' },
        summary: 'What the server pushes to each device of the employee.',
        messages: ['ShiftOffer', 'Ping', 'OfferResult', 'ErrorMessage'].map((m) => ({
          $ref: `#/channels/employee/messages/${m}`,
        })),
      },
      answerPing: {
        action: 'receive',
        channel: { $ref: '#/channels/employee' },
        summary: 'What the server accepts from a client.',
        messages: [{ $ref: '#/channels/employee/messages/Pong' }],
      },
    },
    components: { schemas: reachableSchemas(schemas, channels) },
  };
}
