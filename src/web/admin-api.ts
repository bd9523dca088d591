/** The dashboard's calls: the admin API, with the admin's bearer token when there is one. */

import type {
  CreateShiftRequest,
  DeleteDeviceResponse,
  DevicePlatform,
  DeviceView,
  EmployeeView,
  FaultSettings,
  JournalEntry,
  Priority,
  RegisterDeviceResponse,
  SendOfferResponse,
  ShiftDetailView,
  ShiftView,
} from '../protocol/schemas.js';
import type { StatsQuery, StatsResponse } from '../protocol/stats.js';
import { callApi } from './api.js';

/** What `POST /api/admin/shifts` and `.../offers` answer: the shift and each delivery. */
export interface OfferResult {
  shift: ShiftView;
  offers: { emp_id: number; status: string }[];
}

/** What `POST /api/admin/scenarios` answers (ScenarioStarted in src/scenario.ts). */
export interface ScenarioStarted {
  name: string;
  steps: number;
  last_step_in_s: number;
}

export interface JournalFilter {
  emp_id?: number | undefined;
  shift_id?: number | undefined;
  kind?: 'push' | 'request' | undefined;
  after_id?: number | undefined;
  limit?: number | undefined;
}

export interface FaultInput {
  push_latency_ms?: number;
  http_latency_ms?: number;
  drop_rate?: number;
  refuse_connections_seconds?: number;
}

function query(params: Record<string, number | string | undefined>): string {
  const pairs = Object.entries(params).filter(([, v]) => v !== undefined && v !== '');
  return pairs.length === 0
    ? ''
    : `?${new URLSearchParams(pairs.map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
}

export type AdminApi = ReturnType<typeof createAdminApi>;

/** `token()` is read at each call, so a new token applies at once. */
export function createAdminApi(token: () => string | undefined) {
  const get = <T>(path: string) => callApi<T>('GET', path, token());
  const post = <T>(path: string, body?: unknown) => callApi<T>('POST', path, token(), body);
  return {
    employees: () => get<EmployeeView[]>('/admin/employees'),
    shifts: () => get<ShiftView[]>('/admin/shifts'),
    shift: (id: number) => get<ShiftDetailView>(`/admin/shifts/${id}`),
    faults: () => get<FaultSettings>('/admin/faults'),
    journal: (filter: JournalFilter) =>
      get<JournalEntry[]>(`/admin/journal${query({ ...filter })}`),
    stats: (q: StatsQuery) => get<StatsResponse>(`/admin/stats${query({ ...q })}`),
    /** With `priority`, a new test shift gets it, and a known open one changes to it. */
    sendTestOffer: (empId: number, shiftId?: number, ttlSeconds?: number, priority?: Priority) =>
      post<SendOfferResponse>(
        `/test/send_offer/${empId}${query({ shift_id: shiftId, ttl_seconds: ttlSeconds })}`,
        priority === undefined ? undefined : { priority },
      ),
    devices: (empId: number) => get<DeviceView[]>(`/devices/${empId}`),
    registerDevice: (empId: number, pushToken: string, platform: DevicePlatform) =>
      post<RegisterDeviceResponse>(`/devices/${empId}`, { token: pushToken, platform }),
    deleteDevice: (empId: number, pushToken: string) =>
      callApi<DeleteDeviceResponse>(
        'DELETE',
        `/devices/${empId}/${encodeURIComponent(pushToken)}`,
        token(),
      ),
    createShift: (body: CreateShiftRequest) => post<OfferResult>('/admin/shifts', body),
    offer: (id: number, body: { emp_ids: number[]; ttl_seconds?: number; expires_at?: string }) =>
      post<OfferResult>(`/admin/shifts/${id}/offers`, body),
    withdraw: (id: number) => post<ShiftDetailView>(`/admin/shifts/${id}/withdraw`),
    approve: (id: number, empId: number) =>
      post<ShiftDetailView>(`/admin/shifts/${id}/approve/${empId}`),
    kick: (empId: number) => post<{ emp_id: number; disconnected: number }>(`/admin/kick/${empId}`),
    setFaults: (body: FaultInput) => post<FaultSettings>('/admin/faults', body),
    playScenario: (scenario: unknown) => post<ScenarioStarted>('/admin/scenarios', scenario),
    reset: () => post<{ reset: true }>('/admin/reset'),
  };
}
