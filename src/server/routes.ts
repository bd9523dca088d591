/**
 * Every HTTP endpoint, once: method, path, the schemas of its inputs and output, and the
 * handler. The Express app, the OpenAPI document and the `GET /` index are all built from this
 * table, so the docs describe exactly what the server validates.
 */
import { z } from 'zod';
import type { Access } from '../auth/policy.js';
import type { ErrorCode } from '../errors.js';
import type { Clock } from '../offers/ports.js';
import type { OfferService } from '../offers/service.js';
import { TEST_SHIFT_ID } from '../offers/service.js';
import {
  AdminShiftParams,
  ApproveParams,
  AvailableResponse,
  BroadcastParams,
  BroadcastResponse,
  ConnectionsResponse,
  CreateShiftRequest,
  DeleteDeviceResponse,
  DeviceListResponse,
  DeviceParams,
  EmployeeListResponse,
  EmpParams,
  FaultSettings,
  FaultSettingsRequest,
  HealthResponse,
  HistoryQuery,
  HistoryResponse,
  JournalQuery,
  JournalResponse,
  KickResponse,
  OfferResultResponse,
  OfferShiftRequest,
  PendingResponse,
  ReadyResponse,
  RegisterDeviceRequest,
  RegisterDeviceResponse,
  ResetResponse,
  RespondRequest,
  RespondResponse,
  SendOfferBody,
  SendOfferQuery,
  SendOfferResponse,
  ShiftDetailView,
  ShiftListQuery,
  ShiftListResponse,
  ShiftParams,
} from '../protocol/schemas.js';
import { StatsQuery, StatsResponse } from '../protocol/stats.js';
import { type Scenario, ScenarioFile, ScenarioStarted } from '../scenario.js';
import type { ServerFanout } from './fanout.js';
import type { Faults } from './faults.js';

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
}

export interface Route<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
> {
  method: 'get' | 'post' | 'delete';
  /** OpenAPI-style path, e.g. `/api/shift_offers/pending/{emp_id}`. */
  path: string;
  summary: string;
  description?: string;
  tag: 'app' | 'test' | 'admin' | 'debug';
  /** Who may call it when authentication is on (see src/auth/policy.ts). */
  access: Access;
  /** For `self` access: the employee the call acts for. */
  subject?(input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>): number;
  /** Answers are rate-limited per employee and per address. */
  rateLimited?: boolean;
  /** `false` for probes, which a load balancer asks every few seconds: no journal line. */
  journal?: false;
  params?: P;
  query?: Q;
  body?: B;
  /** Whether a missing body is allowed (the test endpoint's overrides are optional). */
  bodyOptional?: boolean;
  response: R;
  status?: 200 | 201;
  errors: ErrorCode[];
  handle(
    input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>,
  ): Promise<z.input<R>> | z.input<R>;
}

function route<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(
  r: Route<P, Q, B, R>,
): Route {
  return r as unknown as Route;
}

const NoInput = z.object({}).optional();

const DEFAULT_HISTORY_LIMIT = 50;

export interface RouteContext {
  startedAt: number;
  /** Open WebSocket connections on this instance. */
  sockets(): number;
  faults: Faults;
  fanout: Pick<ServerFanout, 'kick'>;
  clock: Clock;
  /** Requests refused at the gate so far, by error code. */
  refused(): Record<string, number>;
  /** Resolves when the server is ready to serve; throws a coded error saying why not. */
  ready(): Promise<void>;
  /** Plays a scenario from now, as `serve --scenario` does from the start. */
  playScenario(scenario: Scenario): void;
}

export function buildRoutes(service: OfferService, context: RouteContext): Route[] {
  return [
    route({
      method: 'post',
      path: '/api/shift_offer/respond',
      access: 'self',
      subject: ({ body }) => body.emp_id,
      rateLimited: true,
      tag: 'app',
      summary: 'Answer an offer (accept or reject)',
      description:
        'First come, first served: exactly one accepter wins and gets `assigned: true`; later accepters get 200 with `assigned: false`. Repeating the same answer returns the original outcome; a different answer after one was recorded is 409.',
      body: RespondRequest,
      response: RespondResponse,
      errors: ['E_OFFER_NOT_FOUND', 'E_ANSWER_CONFLICT', 'E_OFFER_EXPIRED', 'E_OFFER_WITHDRAWN'],
      handle: ({ body }) => service.respond(body),
    }),
    route({
      method: 'get',
      path: '/api/shift_offers/pending/{emp_id}',
      access: 'self',
      subject: ({ params }) => params.emp_id,
      tag: 'app',
      summary: 'Open offers this employee has not answered (offline recovery)',
      description:
        'Urgent offers (`"priority":"urgent"`) first, then oldest first; the same order as the offers pushed again on connect.',
      params: EmpParams,
      response: PendingResponse,
      errors: ['E_INVALID_PARAM'],
      handle: ({ params }) => service.pending(params.emp_id),
    }),
    route({
      method: 'get',
      path: '/api/shift_offers/history/{emp_id}',
      access: 'self',
      subject: ({ params }) => params.emp_id,
      tag: 'app',
      summary: "This employee's offers, newest first",
      params: EmpParams,
      query: HistoryQuery,
      response: HistoryResponse,
      errors: ['E_INVALID_PARAM', 'E_INVALID_QUERY'],
      handle: ({ params, query }) =>
        service.history(params.emp_id, query.limit ?? DEFAULT_HISTORY_LIMIT),
    }),
    route({
      method: 'get',
      path: '/api/shift_offer/{shift_id}/available',
      access: 'any',
      tag: 'app',
      summary: 'Whether a shift can still be taken',
      params: ShiftParams,
      response: AvailableResponse,
      errors: ['E_INVALID_PARAM', 'E_SHIFT_NOT_FOUND'],
      handle: ({ params }) => service.availability(params.shift_id),
    }),
    route({
      method: 'post',
      path: '/api/devices/{emp_id}',
      access: 'self',
      subject: ({ params }) => params.emp_id,
      tag: 'app',
      summary: "Register a push token of one of this employee's phones",
      description:
        'With `serve --push-webhook`, an offer that finds no connected device of the employee and is still unanswered after `--push-after` is POSTed to the webhook once per registered token (see docs/push.md). Registering the same token again only refreshes it (`created: false`); a token registered by another employee moves to this one. An employee keeps at most 10 tokens: the least recently registered go.',
      params: EmpParams,
      body: RegisterDeviceRequest,
      response: RegisterDeviceResponse,
      errors: ['E_INVALID_PARAM', 'E_BAD_JSON', 'E_INVALID_BODY'],
      handle: ({ params, body }) =>
        service.registerDevice(params.emp_id, body.token, body.platform),
    }),
    route({
      method: 'get',
      path: '/api/devices/{emp_id}',
      access: 'self',
      subject: ({ params }) => params.emp_id,
      tag: 'app',
      summary: "This employee's push tokens",
      params: EmpParams,
      response: DeviceListResponse,
      errors: ['E_INVALID_PARAM'],
      handle: ({ params }) => service.devices(params.emp_id),
    }),
    route({
      method: 'delete',
      path: '/api/devices/{emp_id}/{token}',
      access: 'self',
      subject: ({ params }) => params.emp_id,
      tag: 'app',
      summary: 'Unregister a push token (on logout)',
      description:
        'The token gets no more pushes. Deleting a token the employee does not have answers 200 with `deleted: false`, so that a retried delete is harmless. Percent-encode a token with characters outside the URL path alphabet.',
      params: DeviceParams,
      response: DeleteDeviceResponse,
      errors: ['E_INVALID_PARAM'],
      handle: ({ params }) => service.deleteDevice(params.emp_id, params.token),
    }),
    route({
      method: 'post',
      path: '/api/test/send_offer/{emp_id}',
      access: 'admin',
      tag: 'test',
      summary: "Send the seed's test offer to one employee",
      description: `Creates the shift (\`shift_id\`, default ${TEST_SHIFT_ID}) when unknown, with the seed's test details overridden by the optional JSON body (which may also set \`priority\`; on a known open shift it updates it, and its holders get the offer again), and offers it to the employee: \`sent\` when a device of theirs is connected, \`pending\` when stored for their next connect. Refused with 409 once the shift is assigned, unfilled or withdrawn (nothing is stored or pushed), or when the employee already answered it.`,
      params: EmpParams,
      query: SendOfferQuery,
      body: SendOfferBody,
      bodyOptional: true,
      response: SendOfferResponse,
      errors: [
        'E_INVALID_PARAM',
        'E_INVALID_QUERY',
        'E_INVALID_BODY',
        'E_SHIFT_TAKEN',
        'E_SHIFT_CLOSED',
        'E_OFFER_ANSWERED',
      ],
      handle: async ({ params, query, body }): Promise<SendOfferResponse> => {
        const shiftId = query.shift_id ?? TEST_SHIFT_ID;
        const result = await service.sendTestOffer(params.emp_id, shiftId, body ?? {}, {
          ttlSeconds: query.ttl_seconds,
        });
        return {
          status: result.status === 'sent' ? 'sent' : 'pending',
          emp_id: params.emp_id,
          shift_id: shiftId,
          devices: result.devices,
        };
      },
    }),
    route({
      method: 'post',
      path: '/api/test/broadcast/{from}/{to}',
      access: 'admin',
      tag: 'test',
      summary: 'Offer one shift to every connected employee with an id in [from, to]',
      description: `The same call as the reference floor server's, for benchmarks: the shift (\`shift_id\`, default ${TEST_SHIFT_ID}) is created from the seed's test offer when unknown, and offered to every employee in the range who has a device connected. At most 100 000 ids.`,
      params: BroadcastParams,
      query: SendOfferQuery,
      response: BroadcastResponse,
      errors: ['E_INVALID_PARAM', 'E_INVALID_QUERY', 'E_SHIFT_TAKEN', 'E_SHIFT_CLOSED'],
      handle: async ({ params, query }) => {
        const shiftId = query.shift_id ?? TEST_SHIFT_ID;
        const sent = await service.broadcast(params.from, params.to, shiftId, {
          ttlSeconds: query.ttl_seconds,
        });
        return { status: 'sent' as const, sent, shift_id: shiftId };
      },
    }),
    route({
      method: 'get',
      path: '/api/connections',
      access: 'admin',
      tag: 'debug',
      summary: 'Connected employees and pending offers per employee',
      response: ConnectionsResponse,
      errors: [],
      handle: async () => ({
        ...(await service.connections()),
        refused_requests: context.refused(),
      }),
    }),
    route({
      method: 'post',
      path: '/api/admin/shifts',
      access: 'admin',
      tag: 'admin',
      summary: 'Create a shift and optionally offer it to employees',
      body: CreateShiftRequest,
      response: OfferResultResponse,
      status: 201,
      errors: ['E_BAD_JSON', 'E_INVALID_BODY', 'E_SHIFT_EXISTS'],
      handle: ({ body }) => service.createShiftRequest(body),
    }),
    route({
      method: 'get',
      path: '/api/admin/shifts',
      access: 'admin',
      tag: 'admin',
      summary: 'List shifts with their state',
      query: ShiftListQuery,
      response: ShiftListResponse,
      errors: ['E_INVALID_QUERY'],
      handle: ({ query }) => service.shifts(query.status),
    }),
    route({
      method: 'get',
      path: '/api/admin/shifts/{id}',
      access: 'admin',
      tag: 'admin',
      summary: 'One shift with the state of every offer made for it',
      params: AdminShiftParams,
      response: ShiftDetailView,
      errors: ['E_INVALID_PARAM', 'E_SHIFT_NOT_FOUND'],
      handle: ({ params }) => service.shiftDetail(params.id),
    }),
    route({
      method: 'post',
      path: '/api/admin/shifts/{id}/offers',
      access: 'admin',
      tag: 'admin',
      summary: 'Offer an existing open shift to more employees',
      params: AdminShiftParams,
      body: OfferShiftRequest,
      response: OfferResultResponse,
      errors: [
        'E_BAD_JSON',
        'E_INVALID_PARAM',
        'E_INVALID_BODY',
        'E_SHIFT_NOT_FOUND',
        'E_SHIFT_TAKEN',
        'E_SHIFT_CLOSED',
      ],
      handle: ({ params, body }) =>
        service.offerShift(params.id, body.emp_ids, {
          ttlSeconds: body.ttl_seconds,
          expiresAt: body.expires_at,
        }),
    }),
    route({
      method: 'post',
      path: '/api/admin/shifts/{id}/withdraw',
      access: 'admin',
      tag: 'admin',
      summary:
        "Withdraw a shift: its open offers and its assignments close, and their holders get 'withdrawn'",
      params: AdminShiftParams,
      response: ShiftDetailView,
      errors: ['E_INVALID_PARAM', 'E_SHIFT_NOT_FOUND', 'E_SHIFT_TAKEN', 'E_SHIFT_CLOSED'],
      handle: ({ params }) => service.withdraw(params.id),
    }),
    route({
      method: 'post',
      path: '/api/admin/shifts/{id}/approve/{emp_id}',
      access: 'admin',
      tag: 'admin',
      summary: 'Approval mode: give the shift to an employee who asked for it',
      description:
        'The employee gets `offer_result` `assigned`; once every slot is filled, everyone else still holding or requesting the shift gets `taken`.',
      params: ApproveParams,
      response: ShiftDetailView,
      errors: [
        'E_INVALID_PARAM',
        'E_SHIFT_NOT_FOUND',
        'E_OFFER_NOT_FOUND',
        'E_NOT_REQUESTED',
        'E_SHIFT_TAKEN',
        'E_SHIFT_CLOSED',
      ],
      handle: ({ params }) => service.approve(params.id, params.emp_id),
    }),
    route({
      method: 'get',
      path: '/api/admin/journal',
      access: 'admin',
      tag: 'admin',
      summary: 'Every message pushed and every API request, oldest first',
      description:
        'Without `after_id`, the newest `limit` entries; with it, the entries after that id (to follow the journal).',
      query: JournalQuery,
      response: JournalResponse,
      errors: ['E_INVALID_QUERY'],
      handle: ({ query }) => service.journal(query),
    }),
    route({
      method: 'get',
      path: '/api/admin/stats',
      access: 'admin',
      tag: 'admin',
      summary: 'Analytics: offers sent, answered and accepted, fill rate, how fast shifts fill',
      description:
        "Offers are counted by when they were sent, shifts by when they were created, within `from` (included) and `to` (excluded; a date there includes that whole day). Durations are medians and 90th percentiles in seconds. With `by`, the same figures per location, client, service type or employee (an employee group has no shift figures). Each figure is defined in docs/stats.md. On SQLite the question is answered on the server's one database connection, a range of offers at a time, and other requests are served between ranges; docs/stats.md gives what it costs.",
      query: StatsQuery,
      response: StatsResponse,
      errors: ['E_INVALID_QUERY'],
      handle: ({ query }) => service.stats(query),
    }),
    route({
      method: 'get',
      path: '/api/admin/faults',
      access: 'admin',
      tag: 'admin',
      summary: 'The faults in force',
      response: FaultSettings,
      errors: [],
      handle: () => context.faults.view(context.clock.now()),
    }),
    route({
      method: 'post',
      path: '/api/admin/faults',
      access: 'admin',
      tag: 'admin',
      summary: 'Inject faults: push and HTTP latency, dropped pushes, refused connections',
      description:
        'Fields left out keep their value; `{"push_latency_ms":0,"http_latency_ms":0,"drop_rate":0,"refuse_connections_seconds":0}` turns everything off. Admin endpoints are never delayed. A dropped push is lost on the way (the offer stays pending, so offline recovery must find it).',
      body: FaultSettingsRequest,
      response: FaultSettings,
      errors: ['E_BAD_JSON', 'E_INVALID_BODY'],
      handle: ({ body }) => {
        const now = context.clock.now();
        context.faults.update(body, now);
        return context.faults.view(now);
      },
    }),
    route({
      method: 'post',
      path: '/api/admin/kick/{emp_id}',
      access: 'admin',
      tag: 'admin',
      summary: 'Cut every connection of an employee, as a network drop would',
      params: EmpParams,
      response: KickResponse,
      errors: ['E_INVALID_PARAM'],
      handle: async ({ params }) => ({
        emp_id: params.emp_id,
        disconnected: await context.fanout.kick(params.emp_id),
      }),
    }),
    route({
      method: 'post',
      path: '/api/admin/reset',
      access: 'admin',
      tag: 'admin',
      summary:
        'Delete every shift, offer, assignment, push token and journal entry (for test suites)',
      response: ResetResponse,
      errors: [],
      handle: async () => {
        await service.reset();
        return { reset: true as const };
      },
    }),
    route({
      method: 'post',
      path: '/api/admin/scenarios',
      access: 'admin',
      tag: 'admin',
      summary: 'Play a scenario file from now, on the server',
      description:
        "The body is a scenario file, as `serve --scenario` takes (see docs/serve.md): its steps play on the server's clock from the moment of this request, through the same rules as the API, until they are done or the server stops. A step a rule refuses is skipped and logged. Several scenarios may play at once. Larger files than the body limit (16 KiB by default): use `serve --scenario`.",
      body: ScenarioFile,
      response: ScenarioStarted,
      errors: ['E_BAD_JSON', 'E_INVALID_BODY'],
      handle: ({ body }) => {
        context.playScenario(body);
        return {
          name: body.name,
          steps: body.steps.length,
          last_step_in_s: Math.max(...body.steps.map((step) => step.at)),
        };
      },
    }),
    route({
      method: 'get',
      path: '/api/admin/employees',
      access: 'admin',
      tag: 'admin',
      summary: 'Who holds what: devices, open offers and assignments per employee',
      response: EmployeeListResponse,
      errors: [],
      handle: () => service.employees(),
    }),
    route({
      method: 'get',
      path: '/healthz',
      access: 'public',
      tag: 'debug',
      summary: 'Liveness probe',
      description: 'Never touches the database: it answers while the process can.',
      journal: false,
      query: NoInput,
      response: HealthResponse,
      errors: [],
      handle: () => ({
        status: 'ok' as const,
        uptime_s: Math.round((Date.now() - context.startedAt) / 1000),
        connections: context.sockets(),
      }),
    }),
    route({
      method: 'get',
      path: '/readyz',
      access: 'public',
      tag: 'debug',
      summary: 'Readiness probe: the database takes writes and fixtures are loaded',
      description: `503 while starting or shutting down (\`E_UNAVAILABLE\`), when the disk is full (\`E_STORAGE_FULL\`), or when the database does not take a write within 1 s (\`E_DATABASE_BUSY\`).`,
      journal: false,
      query: NoInput,
      response: ReadyResponse,
      errors: ['E_UNAVAILABLE', 'E_STORAGE_FULL', 'E_DATABASE_BUSY'],
      handle: async () => {
        await context.ready();
        return { status: 'ready' as const };
      },
    }),
  ];
}
