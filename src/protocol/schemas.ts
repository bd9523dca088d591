/**
 * The wire contract of ../shared/PROTOCOL.md, defined once. Runtime validation, the TypeScript
 * types and the OpenAPI document are all derived from these schemas, so they cannot drift.
 */
import { z } from 'zod';
import { idFromText, isId, isRecord, keyCount, oneIdParam, withFastPath } from './fast.js';
import { DEVICE_PLATFORMS, PRIORITIES } from './names.js';

export { DEVICE_PLATFORMS, PRIORITIES };

export const registry = z.registry<{ id: string; description?: string }>();

/**
 * How a path or query parameter is documented: by the value it stands for (an integer and its
 * range), where its zod schema has to read the text of a URL first.
 */
const parameterJson = new WeakMap<z.ZodType, Record<string, unknown>>();

function documentedAs<S extends z.ZodType>(schema: S, json: Record<string, unknown>): S {
  parameterJson.set(schema, json);
  return schema;
}

/** The JSON Schema a parameter is documented with, when it is not the one zod would give. */
export function parameterSchemaOf(schema: z.ZodType): Record<string, unknown> | undefined {
  let inner = schema;
  while (inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
  return parameterJson.get(inner);
}

const MAX_TEXT = 500;

// Examples for the documents (each one a value its schema takes; test/docs.test.ts checks):
// employee 123 and the seed's test shift 999, so that on /docs, "Try it out" on send_offer and
// then on respond makes a real offer and answers it.
const EXAMPLE_OFFER = {
  type: 'shift_offer' as const,
  shift_id: 999,
  date: '2026-01-20',
  start_time: '09:00',
  end_time: '17:00',
  location_name: 'Outreach Center',
  client_name: 'Test Client',
  service_type: 'Home Care',
  description: 'Test shift offer from backend',
};
/** An urgent offer: the same shape with `priority` (a normal one has none). */
const EXAMPLE_URGENT_OFFER = {
  type: 'shift_offer' as const,
  shift_id: 1022,
  date: '2026-01-20',
  start_time: '13:00',
  end_time: '21:00',
  location_name: 'Maple Grove Care Home',
  service_type: 'Personal Care',
  expires_at: '2026-01-20T12:15:00.000Z',
  priority: 'urgent' as const,
};
const EXAMPLE_SHIFT = {
  id: 1021,
  date: '2026-12-01',
  start_time: '22:00',
  end_time: '07:00',
  location_name: 'Maple Grove Care Home',
  client_name: 'Margaret Chen',
  service_type: 'Overnight Care',
  description: 'Overnight supervision.',
  priority: 'normal' as const,
  status: 'open' as const,
  mode: 'broadcast' as const,
  approval: false,
  slots: 1,
  step_ttl_seconds: null,
  assigned_to: [],
  created_at: '2026-11-25T20:01:00.000Z',
  closed_at: null,
  offers: { total: 3, queued: 0, open: 3, requested: 0, accepted: 0, rejected: 0, expired: 0 },
};
const EXAMPLE_HISTORY_ITEM = {
  ...EXAMPLE_OFFER,
  position: null,
  sent_at: '2026-01-14T15:29:58.101Z',
  expires_at: null,
  delivered_at: '2026-01-14T15:29:58.102Z',
  answered_at: '2026-01-14T15:30:00.412Z',
  response: 'accepted' as const,
  outcome: 'assigned' as const,
};
const EXAMPLE_EMPLOYEE = {
  emp_id: 123,
  name: 'Alex Rivera',
  devices: 1,
  pending: [999],
  assigned: [1021],
};
const EXAMPLE_JOURNAL_ENTRY = {
  id: 42,
  time: '2026-01-14T15:30:00.413Z',
  kind: 'request' as const,
  emp_id: 123,
  shift_id: 999,
  name: 'POST /api/shift_offer/respond',
  outcome: '200',
  detail: null,
};
const EXAMPLE_PUSH_ENTRY = {
  id: 41,
  time: '2026-01-14T15:29:58.102Z',
  kind: 'push' as const,
  emp_id: 123,
  shift_id: 999,
  name: 'shift_offer',
  outcome: 'sent',
  detail: null,
};
const EXAMPLE_HOLDER = {
  emp_id: 123,
  position: null,
  sent_at: '2026-11-25T20:01:00.004Z',
  expires_at: null,
  delivered_at: '2026-11-25T20:01:00.006Z',
  answered_at: null,
  response: null,
  outcome: 'open' as const,
};

/** A positive integer that survives a round trip through JSON and SQLite. */
export const Id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** A path or query parameter that must be a positive integer, written in decimal. */
export const IdParam = documentedAs(
  z
    .string()
    .regex(/^[1-9][0-9]*$/, 'must be a positive integer')
    .transform(Number)
    .refine((n) => Number.isSafeInteger(n), `must be at most ${Number.MAX_SAFE_INTEGER}`),
  { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
);

const isRealDate = (s: string): boolean => {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
};

export const DateString = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine(isRealDate, 'is not a real calendar date')
  .meta({ format: 'date' });

export const TimeString = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time as HH:MM');

/** A lone UTF-16 surrogate: JSON can carry one (`"\\ud800"`), UTF-8 storage cannot. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text both stores keep as given, of at most `max` characters. */
export const storedText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((text) => !LONE_SURROGATE.test(text), 'must be valid Unicode text (no lone surrogate)')
    // JSON can carry U+0000 too (`"\\u0000"`): SQLite would store it, PostgreSQL refuses it, so
    // it is refused here and both stores take the same data.
    .refine((text) => !text.includes('\u0000'), 'must not contain U+0000 (a NUL character)');

const OptionalText = storedText(MAX_TEXT).nullable().optional();

export const Priority = z.enum(PRIORITIES);
export type Priority = z.infer<typeof Priority>;

/** The details of a shift, as the app shows them (and its priority, which the app ignores). */
export const ShiftDetails = z.object({
  date: DateString,
  start_time: TimeString,
  end_time: TimeString,
  location_name: OptionalText,
  client_name: OptionalText,
  service_type: OptionalText,
  description: OptionalText,
  priority: Priority.optional().describe(
    '`urgent`: listed and shown before normal offers, with its own default deadline (`serve --urgent-ttl`). Default `normal`.',
  ),
});
export type ShiftDetails = z.infer<typeof ShiftDetails>;

/** The details of a shift with every optional field present, as `null` when absent. */
export function detailsOf(
  shift: ShiftDetails,
): Required<{ [K in keyof ShiftDetails]: Exclude<ShiftDetails[K], undefined> }> {
  return {
    date: shift.date,
    start_time: shift.start_time,
    end_time: shift.end_time,
    location_name: shift.location_name ?? null,
    client_name: shift.client_name ?? null,
    service_type: shift.service_type ?? null,
    description: shift.description ?? null,
    priority: shift.priority ?? 'normal',
  };
}

// ---------------------------------------------------------------------------------------------
// Server -> app, over the WebSocket

export const ShiftOfferMessage = z
  .object({
    type: z.literal('shift_offer'),
    shift_id: Id,
    date: z.string(),
    start_time: z.string(),
    end_time: z.string(),
    location_name: z.string().nullable().optional(),
    client_name: z.string().nullable().optional(),
    service_type: z.string().nullable().optional(),
    description: z.string().nullable().optional(),
    expires_at: z
      .string()
      .optional()
      .describe('When the offer closes unanswered (ISO-8601, UTC); absent when it does not.'),
    priority: Priority.optional().describe(
      '`urgent` for an urgent shift (listed first; show it first); absent for a normal one.',
    ),
  })
  .meta({
    id: 'ShiftOffer',
    examples: [EXAMPLE_OFFER, EXAMPLE_URGENT_OFFER],
    description: 'An open shift offered to an employee.',
  });
export type ShiftOfferMessage = z.infer<typeof ShiftOfferMessage>;

export const PingMessage = z.object({ type: z.literal('ping') }).meta({
  id: 'Ping',
  examples: [{ type: 'ping' }],
  description: 'Liveness check; the client answers {"type":"pong"}.',
});

export const OFFER_RESULT_STATUSES = [
  'assigned',
  'requested',
  'rejected',
  'taken',
  'expired',
  'withdrawn',
] as const;
export const OfferResultStatus = z.enum(OFFER_RESULT_STATUSES);
export type OfferResultStatus = z.infer<typeof OfferResultStatus>;

export const OfferResultMessage = z
  .object({ type: z.literal('offer_result'), shift_id: Id, status: OfferResultStatus })
  .meta({
    id: 'OfferResult',
    examples: [{ type: 'offer_result', shift_id: 999, status: 'assigned' }],
    description:
      'An offer the employee holds is no longer open: `assigned` to the winner, `taken`, `expired` or `withdrawn` to the others; `requested` (approval pending) or `rejected` to every device of an employee who answered, so that all of them close the offer.',
  });
export type OfferResultMessage = z.infer<typeof OfferResultMessage>;

export const ErrorMessage = z
  .object({ type: z.literal('error'), code: z.string(), message: z.string() })
  .meta({
    id: 'ErrorMessage',
    examples: [{ type: 'error', code: 'E_BAD_JSON', message: 'The frame is not valid JSON.' }],
    description: 'The server could not use a frame the client sent.',
  });
export type ErrorMessage = z.infer<typeof ErrorMessage>;

export const ServerMessage = z.discriminatedUnion('type', [
  ShiftOfferMessage,
  PingMessage,
  OfferResultMessage,
  ErrorMessage,
]);
export type ServerMessage = z.infer<typeof ServerMessage>;

// ---------------------------------------------------------------------------------------------
// App -> server, over the WebSocket

export const ClientMessage = z.object({ type: z.literal('pong') }).meta({
  id: 'Pong',
  examples: [{ type: 'pong' }],
  description: 'The answer to a ping. Clients send nothing else.',
});
export type ClientMessage = z.infer<typeof ClientMessage>;

// ---------------------------------------------------------------------------------------------
// HTTP

export const RESPONSES = ['accepted', 'rejected'] as const;
export const OfferResponse = z.enum(RESPONSES);
export type OfferResponse = z.infer<typeof OfferResponse>;

const isResponse = (value: unknown): value is OfferResponse =>
  value === 'accepted' || value === 'rejected';

export const RespondRequest = withFastPath(
  z
    .object({
      emp_id: Id,
      shift_id: Id,
      response: OfferResponse,
      timestamp: z.string().max(64).nullable().optional(),
    })
    .meta({
      id: 'RespondRequest',
      examples: [
        {
          emp_id: 123,
          shift_id: 999,
          response: 'accepted',
          timestamp: '2026-01-14T15:30:00.000',
        },
      ],
      description: "An employee's answer to an offer, as the app sends it.",
    }),
  (input) => {
    if (!isRecord(input)) return undefined;
    const { emp_id: empId, shift_id: shiftId, response, timestamp } = input;
    if (!isId(empId) || !isId(shiftId)) return undefined;
    if (!isResponse(response)) return undefined;
    if (timestamp === undefined) {
      return keyCount(input) === 3 ? { emp_id: empId, shift_id: shiftId, response } : undefined;
    }
    if (timestamp !== null && (typeof timestamp !== 'string' || timestamp.length > 64)) {
      return undefined;
    }
    return keyCount(input) === 4
      ? { emp_id: empId, shift_id: shiftId, response, timestamp }
      : undefined;
  },
);
export type RespondRequest = z.infer<typeof RespondRequest>;

/**
 * What became of one employee's offer: `queued` (a later step of a cascade, not sent yet),
 * `open` until answered or closed, `requested` (accepted, waiting for an operator's approval),
 * then `assigned`, `taken`, `rejected`, `expired` or `withdrawn`.
 */
export const OUTCOMES = [
  'queued',
  'open',
  'requested',
  'assigned',
  'taken',
  'rejected',
  'expired',
  'withdrawn',
] as const;
export const Outcome = z.enum(OUTCOMES);
export type Outcome = z.infer<typeof Outcome>;

export const RespondResponse = z
  .object({
    success: z.literal(true),
    assigned: z.boolean(),
    message: z.string(),
    timestamp: z.string().describe('When the server recorded the answer (ISO-8601, UTC).'),
    shift_id: Id,
    emp_id: Id,
    outcome: Outcome,
  })
  .meta({
    id: 'RespondResponse',
    examples: [
      {
        success: true,
        assigned: true,
        message: 'Shift successfully assigned',
        timestamp: '2026-01-14T15:30:00.412Z',
        shift_id: 999,
        emp_id: 123,
        outcome: 'assigned',
      },
    ],
    description:
      '`assigned` is true only for the one employee who won the shift (first come, first served).',
  });
export type RespondResponse = z.infer<typeof RespondResponse>;

export const PendingResponse = z.array(ShiftOfferMessage).meta({
  id: 'PendingOffers',
  examples: [[EXAMPLE_URGENT_OFFER, EXAMPLE_OFFER]],
  description:
    'Open offers this employee has not answered yet: urgent ones first, then oldest first.',
});

export const HistoryQuery = z.object({
  limit: documentedAs(
    z
      .string()
      .regex(/^[0-9]{1,4}$/, 'must be a whole number from 1 to 1000')
      .transform(Number)
      .refine((n) => n >= 1 && n <= 1000, 'must be a whole number from 1 to 1000'),
    { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
  )
    .optional()
    .describe('At most this many offers, newest first.'),
});

/** `open` until every slot is filled (`assigned`), the cascade runs out (`unfilled`), or it is withdrawn. */
export const SHIFT_STATUSES = ['open', 'assigned', 'unfilled', 'withdrawn'] as const;
export const ShiftStatus = z.enum(SHIFT_STATUSES);
export type ShiftStatus = z.infer<typeof ShiftStatus>;

export const AvailableResponse = z
  .object({ available: z.boolean(), shift_id: Id, status: ShiftStatus })
  .meta({
    id: 'Availability',
    examples: [{ available: true, shift_id: 999, status: 'open' }],
    description: 'Whether the shift can still be taken.',
  });

const TTL_MAX_S = 30 * 24 * 3600;

/** A time to live in whole seconds, from 1 s to 30 days. */
export const TtlSeconds = z.number().int().min(1).max(TTL_MAX_S);

const TtlParam = documentedAs(
  z
    .string()
    .regex(/^[0-9]+$/, 'must be a whole number of seconds')
    .transform(Number)
    .refine((n) => n >= 1 && n <= TTL_MAX_S, `must be from 1 to ${TTL_MAX_S} seconds`),
  { type: 'integer', minimum: 1, maximum: TTL_MAX_S },
);

export const SendOfferQuery = withFastPath(
  z.object({
    shift_id: IdParam.optional(),
    ttl_seconds: TtlParam.optional().describe('The offer expires this many seconds from now.'),
  }),
  // The usual calls: no query, or only a shift id.
  (input) => {
    if (!isRecord(input)) return undefined;
    const keys = keyCount(input);
    if (keys === 0) return {};
    const shiftId = idFromText(input.shift_id);
    return keys === 1 && shiftId !== undefined ? { shift_id: shiftId } : undefined;
  },
);

/** Path parameters that are one id each. */
export const EmpParams = withFastPath(z.object({ emp_id: IdParam }), oneIdParam('emp_id'));
export const ShiftParams = withFastPath(z.object({ shift_id: IdParam }), oneIdParam('shift_id'));
export const AdminShiftParams = withFastPath(z.object({ id: IdParam }), oneIdParam('id'));

export const SendOfferBody = ShiftDetails.partial()
  .strict()
  .meta({
    id: 'SendOfferBody',
    examples: [{ date: '2026-02-01', location_name: 'Elm House' }, { priority: 'urgent' }],
    description:
      "Optional overrides of the seed's test offer. On a new shift they fill its details; on a known one they update them.",
  });

export const BroadcastParams = z
  .object({ from: IdParam, to: IdParam })
  .refine((p) => p.to >= p.from && p.to - p.from < 100_000, {
    message: 'to must be at least from, and the range at most 100 000 ids',
    path: ['to'],
  });

export const BroadcastResponse = z
  .object({ status: z.literal('sent'), sent: z.number().int(), shift_id: Id })
  .meta({
    id: 'BroadcastResult',
    examples: [{ status: 'sent', sent: 40, shift_id: 999 }],
    description: 'How many connected employees were offered the shift.',
  });

export const DELIVERIES = ['sent', 'pending'] as const;
export const Delivery = z.enum(DELIVERIES);
export type Delivery = z.infer<typeof Delivery>;

export const SendOfferResponse = z
  .object({ status: Delivery, emp_id: Id, shift_id: Id, devices: z.number().int() })
  .meta({
    id: 'SendOfferResult',
    examples: [{ status: 'sent', emp_id: 123, shift_id: 999, devices: 1 }],
    description:
      '`sent` when the employee had at least one connected device (`devices` of them), `pending` when the offer was stored for their next connect.',
  });
export type SendOfferResponse = z.infer<typeof SendOfferResponse>;

export const ConnectionsResponse = z
  .object({
    active_connections: z.array(Id).describe('Employees with at least one connected device.'),
    total: z.number().int().describe('Number of connected employees.'),
    sockets: z.number().int().describe('Number of open WebSocket connections.'),
    employees: z.array(
      z.object({
        emp_id: Id,
        connected: z.boolean(),
        devices: z.number().int(),
        pending: z.number().int(),
      }),
    ),
    refused_requests: z
      .record(z.string(), z.number().int())
      .optional()
      .describe(
        'Requests refused at the gate (bad or missing token, forbidden, rate-limited) since the server started, by error code; they get no journal line.',
      ),
  })
  .meta({
    id: 'Connections',
    examples: [
      {
        active_connections: [123],
        total: 1,
        sockets: 2,
        employees: [
          { emp_id: 101, connected: false, devices: 0, pending: 4 },
          { emp_id: 123, connected: true, devices: 2, pending: 3 },
        ],
        refused_requests: { E_AUTH_REQUIRED: 12 },
      },
    ],
    description: 'Connected employees and pending offers per employee.',
  });
export type ConnectionsResponse = z.infer<typeof ConnectionsResponse>;

// ---------------------------------------------------------------------------------------------
// Admin

export const SHIFT_MODES = ['broadcast', 'cascade'] as const;
export const ShiftMode = z.enum(SHIFT_MODES);
export type ShiftMode = z.infer<typeof ShiftMode>;

/** When offers made now should expire: a TTL or a moment, not both. */
const Expiry = {
  ttl_seconds: TtlSeconds.optional().describe('Offers made now expire this many seconds later.'),
  expires_at: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('Offers made now expire at this moment (ISO-8601).'),
};

function oneExpiry(v: { ttl_seconds?: number | undefined; expires_at?: string | undefined }) {
  return v.ttl_seconds === undefined || v.expires_at === undefined;
}
const ONE_EXPIRY = { message: 'give ttl_seconds or expires_at, not both', path: ['expires_at'] };

export const CreateShiftRequest = ShiftDetails.extend({
  id: Id.optional().describe('Shift id; chosen by the server when absent.'),
  offer_to: z
    .array(Id)
    .max(10_000)
    .optional()
    .describe('Employees to offer the shift to now; for a cascade, in the order to ask them.'),
  slots: z.number().int().min(1).max(1000).optional().describe('Employees needed; default 1.'),
  mode: ShiftMode.optional().describe(
    '`broadcast` (default): everyone at once. `cascade`: one employee at a time, in order.',
  ),
  approval: z
    .boolean()
    .optional()
    .describe('Accepts become requests that an operator approves; default false.'),
  step_ttl_seconds: TtlSeconds.optional().describe(
    'Cascade: how long each employee has before the next one is asked.',
  ),
  ...Expiry,
})
  .strict()
  .refine(oneExpiry, ONE_EXPIRY)
  .meta({
    id: 'CreateShift',
    examples: [
      {
        date: '2026-12-01',
        start_time: '22:00',
        end_time: '07:00',
        location_name: 'Maple Grove Care Home',
        client_name: 'Margaret Chen',
        service_type: 'Overnight Care',
        description: 'Overnight supervision.',
        priority: 'urgent',
        offer_to: [101, 102, 123],
      },
    ],
    description: 'A new shift, optionally offered at once.',
  });
export type CreateShiftRequest = z.infer<typeof CreateShiftRequest>;

export const OfferShiftRequest = z
  .object({ emp_ids: z.array(Id).min(1).max(10_000), ...Expiry })
  .strict()
  .refine(oneExpiry, ONE_EXPIRY)
  .meta({
    id: 'OfferShift',
    examples: [{ emp_ids: [104, 105], ttl_seconds: 900 }],
    description: 'Employees to offer an existing shift to (for a cascade: added to its end).',
  });

export const ApproveParams = z.object({ id: IdParam, emp_id: IdParam });

export const OfferDelivery = z.object({
  emp_id: Id,
  status: z
    .enum([...DELIVERIES, 'answered', 'queued'])
    .describe(
      '`answered`: the employee had already answered this shift, so nothing was sent. `queued`: a later step of a cascade.',
    ),
});

export const OfferState = z.object({
  emp_id: Id,
  position: z.number().int().nullable().describe('Cascade order (1 first); null for broadcast.'),
  sent_at: z.string().nullable().describe('Null while a cascade step is still queued.'),
  expires_at: z.string().nullable(),
  delivered_at: z.string().nullable(),
  answered_at: z.string().nullable(),
  response: OfferResponse.nullable(),
  outcome: Outcome,
});
export type OfferState = z.infer<typeof OfferState>;

export const HistoryItem = ShiftOfferMessage.extend(OfferState.omit({ emp_id: true }).shape).meta({
  id: 'HistoryItem',
  examples: [EXAMPLE_HISTORY_ITEM],
  description: 'One past offer, with what became of it.',
});
export type HistoryItem = z.infer<typeof HistoryItem>;

export const HistoryResponse = z.array(HistoryItem).meta({
  id: 'History',
  examples: [[EXAMPLE_HISTORY_ITEM]],
  description: "This employee's offers, newest first.",
});

export const ShiftView = ShiftDetails.extend({
  id: Id,
  priority: Priority,
  status: ShiftStatus,
  mode: ShiftMode,
  approval: z.boolean(),
  slots: z.number().int(),
  step_ttl_seconds: z.number().int().nullable(),
  assigned_to: z.array(Id),
  created_at: z.string(),
  closed_at: z.string().nullable(),
  offers: z.object({
    total: z.number().int(),
    queued: z.number().int(),
    open: z.number().int(),
    requested: z.number().int(),
    accepted: z.number().int(),
    rejected: z.number().int(),
    expired: z.number().int(),
  }),
}).meta({
  id: 'Shift',
  examples: [EXAMPLE_SHIFT],
  description: 'A shift with its state and a count of its offers.',
});
export type ShiftView = z.infer<typeof ShiftView>;

export const ShiftDetailView = ShiftView.extend({ holders: z.array(OfferState) }).meta({
  id: 'ShiftDetail',
  examples: [{ ...EXAMPLE_SHIFT, holders: [EXAMPLE_HOLDER] }],
  description: 'A shift with the state of every offer made for it.',
});
export type ShiftDetailView = z.infer<typeof ShiftDetailView>;

export const ShiftListQuery = z.object({ status: ShiftStatus.optional() });
export const ShiftListResponse = z
  .array(ShiftView)
  .meta({ id: 'ShiftList', examples: [[EXAMPLE_SHIFT]] });

export const OfferResultResponse = z
  .object({ shift: ShiftView, offers: z.array(OfferDelivery) })
  .meta({
    id: 'OfferResultSummary',
    examples: [
      {
        shift: EXAMPLE_SHIFT,
        offers: [
          { emp_id: 101, status: 'pending' },
          { emp_id: 102, status: 'sent' },
          { emp_id: 123, status: 'sent' },
        ],
      },
    ],
    description: 'The shift and how each offer was delivered.',
  });

export const EmployeeView = z
  .object({
    emp_id: Id,
    name: z.string().nullable(),
    devices: z.number().int(),
    pending: z.array(Id).describe('Shift ids this employee holds open offers for.'),
    assigned: z.array(Id).describe('Shift ids assigned to this employee.'),
  })
  .meta({ id: 'Employee', examples: [EXAMPLE_EMPLOYEE], description: 'Who holds what.' });
export type EmployeeView = z.infer<typeof EmployeeView>;
export const EmployeeListResponse = z
  .array(EmployeeView)
  .meta({ id: 'EmployeeList', examples: [[EXAMPLE_EMPLOYEE]] });

export const JournalQuery = z.object({
  emp_id: IdParam.optional(),
  shift_id: IdParam.optional(),
  kind: z.enum(['push', 'request']).optional(),
  after_id: documentedAs(
    z
      .string()
      .regex(/^[0-9]{1,15}$/, 'must be a whole number')
      .transform(Number),
    { type: 'integer', minimum: 0, maximum: 999_999_999_999_999 },
  )
    .optional()
    .describe('Only the entries after this one (to follow the journal).'),
  limit: documentedAs(
    z
      .string()
      .regex(/^[0-9]{1,5}$/, 'must be a whole number from 1 to 10000')
      .transform(Number)
      .refine((n) => n >= 1 && n <= 10_000, 'must be a whole number from 1 to 10000'),
    { type: 'integer', minimum: 1, maximum: 10_000, default: 100 },
  ).optional(),
});

export const JournalEntry = z
  .object({
    id: z.number().int(),
    time: z.string(),
    kind: z.enum(['push', 'request']),
    emp_id: Id.nullable(),
    shift_id: Id.nullable(),
    name: z.string().describe('The message type pushed, or the request as `METHOD /path`.'),
    outcome: z
      .string()
      .describe('Pushes: `sent`, `no_device` or `dropped` (a fault). Requests: the HTTP status.'),
    detail: z.unknown(),
  })
  .meta({
    id: 'JournalEntry',
    examples: [EXAMPLE_JOURNAL_ENTRY],
    description: 'One message pushed or one API request answered.',
  });
export type JournalEntry = z.infer<typeof JournalEntry>;
export const JournalResponse = z
  .array(JournalEntry)
  .meta({ id: 'Journal', examples: [[EXAMPLE_PUSH_ENTRY, EXAMPLE_JOURNAL_ENTRY]] });

export const FaultSettingsRequest = z
  .object({
    push_latency_ms: z.number().int().min(0).max(60_000).optional(),
    http_latency_ms: z.number().int().min(0).max(60_000).optional(),
    drop_rate: z.number().min(0).max(1).optional(),
    refuse_connections_seconds: z.number().int().min(0).max(86_400).optional(),
  })
  .strict()
  .meta({
    id: 'FaultSettingsRequest',
    examples: [{ push_latency_ms: 200, drop_rate: 0.1 }],
    description:
      'Faults to inject; fields left out keep their value. `refuse_connections_seconds: 0` stops refusing.',
  });

export const FaultSettings = z
  .object({
    push_latency_ms: z.number().int(),
    http_latency_ms: z.number().int(),
    drop_rate: z.number(),
    refusing_connections_until: z.string().nullable(),
  })
  .meta({
    id: 'FaultSettings',
    examples: [
      {
        push_latency_ms: 200,
        http_latency_ms: 0,
        drop_rate: 0.1,
        refusing_connections_until: null,
      },
    ],
    description: 'The faults in force.',
  });
export type FaultSettings = z.infer<typeof FaultSettings>;

export const KickResponse = z.object({ emp_id: Id, disconnected: z.number().int() }).meta({
  id: 'KickResult',
  examples: [{ emp_id: 123, disconnected: 2 }],
  description: 'How many connections of the employee were cut.',
});

export const ResetResponse = z
  .object({ reset: z.literal(true) })
  .meta({ id: 'Reset', examples: [{ reset: true }] });

export const HealthResponse = z
  .object({ status: z.literal('ok'), uptime_s: z.number(), connections: z.number().int() })
  .meta({ id: 'Health', examples: [{ status: 'ok', uptime_s: 42, connections: 2 }] });

export const ReadyResponse = z.object({ status: z.literal('ready') }).meta({
  id: 'Ready',
  examples: [{ status: 'ready' }],
  description: 'The database takes writes and fixtures are loaded.',
});

export const ErrorBody = z
  .object({
    success: z.literal(false),
    code: z.string().describe('Stable machine-readable code, e.g. E_OFFER_NOT_FOUND.'),
    message: z.string().describe('What went wrong, for a human.'),
    details: z.unknown().optional(),
  })
  .meta({
    id: 'Error',
    examples: [
      {
        success: false,
        code: 'E_INVALID_BODY',
        message: 'Invalid request body: response: must be one of "accepted", "rejected"',
        details: {
          issues: [{ path: 'response', message: 'must be one of "accepted", "rejected"' }],
        },
      },
    ],
    description: 'Every HTTP error has this shape.',
  });
export type ErrorBody = z.infer<typeof ErrorBody>;

// Push tokens (push fallback, docs/push.md): what the app registers so that a webhook can wake
// a phone whose socket is not there.
const EXAMPLE_TOKEN = 'fGx3kZ0pR1eXample:APA91bH-EXAMPLE_fcm_registration_token';
const EXAMPLE_DEVICE = {
  emp_id: 123,
  token: EXAMPLE_TOKEN,
  platform: 'android' as const,
  registered_at: '2026-01-14T15:29:00.000Z',
  seen_at: '2026-01-14T15:29:00.000Z',
};
export const DevicePlatform = z.enum(DEVICE_PLATFORMS);
export type DevicePlatform = z.infer<typeof DevicePlatform>;
/** Longest push token taken: FCM's are about 160 characters, APNs' 64. */
export const PUSH_TOKEN_MAX = 4096;
/** A push token as FCM or APNs hands it out: printable ASCII, no spaces. */
export const PushToken = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(PUSH_TOKEN_MAX, `must be at most ${PUSH_TOKEN_MAX} characters`)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

export const RegisterDeviceRequest = z
  .object({
    token: PushToken.describe('The FCM registration token, or the APNs device token (hex).'),
    platform: DevicePlatform,
  })
  .strict()
  .meta({
    id: 'RegisterDeviceRequest',
    examples: [{ token: EXAMPLE_TOKEN, platform: 'android' }],
    description:
      "A push token of one of the employee's phones. Registering a token again is harmless (it refreshes it); a token registered by another employee moves to this one.",
  });

export const DeviceView = z
  .object({
    emp_id: Id,
    token: z.string(),
    platform: DevicePlatform,
    registered_at: z.string(),
    seen_at: z.string().describe('When the token was last registered.'),
  })
  .meta({
    id: 'Device',
    examples: [EXAMPLE_DEVICE],
    description: 'A push token registered for an employee.',
  });
export type DeviceView = z.infer<typeof DeviceView>;

export const RegisterDeviceResponse = DeviceView.extend({
  created: z.boolean().describe('false when the token was already registered for this employee.'),
}).meta({
  id: 'RegisteredDevice',
  examples: [{ ...EXAMPLE_DEVICE, created: true }],
  description: 'The token as registered.',
});
export type RegisterDeviceResponse = z.infer<typeof RegisterDeviceResponse>;

export const DeviceListResponse = z.array(DeviceView).meta({
  id: 'DeviceList',
  examples: [[EXAMPLE_DEVICE]],
  description: "The employee's push tokens, most recently registered first.",
});

export const DeviceParams = z.object({ emp_id: IdParam, token: PushToken });

export const DeleteDeviceResponse = z
  .object({ emp_id: Id, token: z.string(), deleted: z.boolean() })
  .meta({
    id: 'DeletedDevice',
    examples: [{ emp_id: 123, token: EXAMPLE_TOKEN, deleted: true }],
    description:
      '`deleted: false` when the employee had no such token (already deleted: a retried delete is harmless).',
  });
export type DeleteDeviceResponse = z.infer<typeof DeleteDeviceResponse>;

/** Schemas listed in the OpenAPI components, each under its `id`. */
const NAMED = [
  ShiftOfferMessage,
  PingMessage,
  OfferResultMessage,
  ErrorMessage,
  ClientMessage,
  RespondRequest,
  RespondResponse,
  PendingResponse,
  HistoryItem,
  HistoryResponse,
  AvailableResponse,
  SendOfferBody,
  SendOfferResponse,
  BroadcastResponse,
  ConnectionsResponse,
  CreateShiftRequest,
  OfferShiftRequest,
  ShiftView,
  ShiftDetailView,
  ShiftListResponse,
  OfferResultResponse,
  EmployeeView,
  EmployeeListResponse,
  JournalEntry,
  JournalResponse,
  FaultSettingsRequest,
  FaultSettings,
  KickResponse,
  ResetResponse,
  RegisterDeviceRequest,
  DeviceView,
  RegisterDeviceResponse,
  DeviceListResponse,
  DeleteDeviceResponse,
  HealthResponse,
  ReadyResponse,
  ErrorBody,
];
for (const schema of NAMED) {
  const meta = z.globalRegistry.get(schema);
  if (meta?.id) registry.add(schema, { id: meta.id, description: meta.description });
}
