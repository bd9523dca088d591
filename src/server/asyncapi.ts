/**
 * The AsyncAPI 3.0 document for the WebSocket side, from the same schemas the server validates
 * with (and the OpenAPI document uses), so the two cannot drift.
 */
import { componentSchemas } from './openapi.js';

type Json = Record<string, unknown>;

const ref = (id: string): Json => ({ $ref: `#/components/schemas/${id}` });

export function buildAsyncApi(options: { version: string }): Json {
  const message = (id: string, summary: string): Json => ({ name: id, summary, payload: ref(id) });
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'shiftctl shift-offer WebSocket',
      version: options.version,
      description:
        'The app connects to `<wsUrl>/{emp_id}` (with `?token=` when authentication is on). Text frames, one JSON object each. Open offers are sent again on every connect: delivery is at-least-once, and clients drop duplicates by `shift_id`.',
    },
    channels: {
      employee: {
        address: '/ws/{emp_id}',
        parameters: { emp_id: { description: 'The employee, a positive integer.' } },
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
          ErrorMessage: message(
            'ErrorMessage',
            'The server could not use a frame the client sent.',
          ),
          Pong: message('Pong', 'The answer to a ping; the only frame a client sends.'),
        },
      },
    },
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
    components: { schemas: componentSchemas() },
  };
}
