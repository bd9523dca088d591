/**
 * What the dashboard knows and does, without any DOM: the views (employees, shifts, one shift's
 * offers, one employee's push tokens, faults, the stats) fetched from the admin API, the journal
 * kept from the push stream, and the actions, each one admin API call. The stream's events
 * refetch the views, debounced, and the stats, at most once per `statsEveryMs`; nothing polls.
 * The view (dashboard.tsx) renders snapshots and calls the actions.
 */
import { isRead } from '../protocol/names.js';
import type {
  CreateShiftRequest,
  DevicePlatform,
  DeviceView,
  EmployeeView,
  FaultSettings,
  JournalEntry,
  Priority,
  ShiftDetailView,
  ShiftView,
} from '../protocol/schemas.js';
import type { StatsQuery, StatsResponse } from '../protocol/stats.js';
import { type AdminApi, createAdminApi, type FaultInput, type OfferResult } from './admin-api.js';
import { ApiError } from './api.js';
import { createEventStream, type EventStream, type StreamState } from './events.js';

export interface JournalFilter {
  empId: number | undefined;
  shiftId: number | undefined;
  kind: 'push' | 'request' | undefined;
  /** Whether GET requests show (the dashboard's own reads are most of them). */
  reads: boolean;
}

export interface Notice {
  /** `ok`: what an action did; `error`: why it did not. */
  kind: 'ok' | 'error';
  text: string;
}

/** The stats panel's window and grouping: dates (`YYYY-MM-DD`, UTC days), as the API takes. */
export interface StatsWindow {
  from: string | undefined;
  to: string | undefined;
  by: StatsQuery['by'];
}

export interface DashboardSnapshot {
  /** `needed`: the server wants an admin token and the page has none (or a refused one). */
  auth: 'open' | 'needed' | 'ready';
  authMessage: string | undefined;
  stream: StreamState;
  employees: readonly EmployeeView[] | undefined;
  shifts: readonly ShiftView[] | undefined;
  faults: FaultSettings | undefined;
  /** The shift whose offers are shown, and them. */
  selected: number | undefined;
  detail: ShiftDetailView | undefined;
  /** Journal lines kept, oldest first (the newest JOURNAL_KEPT). */
  journal: readonly JournalEntry[];
  filter: JournalFilter;
  paused: boolean;
  /** Lines that came while paused and pass the filter: those resume will show. */
  held: number;
  /** Lines the stream skipped after a long break (see the journal API for them). */
  skipped: boolean;
  /** The action being sent, by name. */
  busy: string | undefined;
  notice: Notice | undefined;
  /** The last load that failed, until one succeeds. */
  problem: string | undefined;
  /** The last scenario step played, as the stream said. */
  scenario: string | undefined;
  /** The employee whose push tokens are shown, and them. */
  employee: number | undefined;
  devices: readonly DeviceView[] | undefined;
  /** The stats panel: what it asks for, the figures for it, and when they came. */
  statsWindow: StatsWindow;
  stats: StatsResponse | undefined;
  statsAt: Date | undefined;
  statsProblem: string | undefined;
}

export interface DashboardModelOptions {
  authRequired: boolean;
  /** Where the token is kept: the tab's `sessionStorage`, never a URL. */
  storage: {
    getItem(key: string): string | null;
    setItem(key: string, value: string): void;
    removeItem(key: string): void;
  };
  api?: AdminApi;
  /** How long after an event the views are fetched again (events come in bursts). */
  refreshDelayMs?: number;
  /**
   * The stats are fetched again at most this often as events come (each fetch reads every offer
   * in the window: on SQLite nothing else is served meanwhile).
   */
  statsEveryMs?: number;
}

/** A push token as a list shows it: its start and end, enough to tell tokens apart. */
export function shortToken(token: string): string {
  return token.length <= 16 ? token : `${token.slice(0, 8)}…${token.slice(-6)}`;
}

/**
 * Runs `run` at most once per `everyMs` for `request()`: the first request of a quiet spell runs
 * at once, a later one at the end of the spell, and a request while a run is under way once
 * that run is done. `now()` runs at once, whatever the time (a new question, not a new event).
 * `stop()` drops what is scheduled.
 */
export function throttle(run: () => Promise<void>, everyMs: number) {
  let last = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = 0;
  let again = false;
  function go(): void {
    clearTimeout(timer);
    timer = undefined;
    last = Date.now();
    running++;
    void run().finally(() => {
      running--;
      if (again && running === 0) {
        again = false;
        request();
      }
    });
  }
  function request(): void {
    if (timer) return;
    if (running > 0) {
      again = true;
      return;
    }
    timer = setTimeout(go, Math.max(0, last + everyMs - Date.now()));
  }
  return {
    request,
    now: go,
    stop(): void {
      again = false;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

export const TOKEN_KEY = 'shiftctl.admin-token';
const JOURNAL_KEPT = 1000;
/** The journal's first screenful, fetched on start. */
const JOURNAL_FIRST = 200;
const RESET_MARK = 'reset: journal cleared';

/** Whether a journal line passes the filter. */
export function matches(entry: JournalEntry, filter: JournalFilter): boolean {
  return (
    (filter.reads || !isRead(entry)) &&
    (filter.empId === undefined || entry.emp_id === filter.empId) &&
    (filter.shiftId === undefined || entry.shift_id === filter.shiftId) &&
    (filter.kind === undefined || entry.kind === filter.kind)
  );
}

/** `101, 102 103` as ids; a string says what is wrong. */
export function parseIds(text: string): number[] | string {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const bad = parts.find((p) => !/^\d{1,15}$/.test(p) || Number(p) < 1);
  if (bad !== undefined) return `"${bad}" is not an employee id`;
  return parts.map(Number);
}

/** Lines merged by id, oldest first, the newest `JOURNAL_KEPT`. */
function merge(a: readonly JournalEntry[], b: readonly JournalEntry[]): JournalEntry[] {
  const byId = new Map<number, JournalEntry>();
  for (const e of a) byId.set(e.id, e);
  for (const e of b) byId.set(e.id, e);
  return [...byId.values()].sort((x, y) => x.id - y.id).slice(-JOURNAL_KEPT);
}

/** What a refused call says, with the fields a refused body names. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const issues = (err as ApiError).details as { issues?: { path: string; message: string }[] };
  if (Array.isArray(issues?.issues) && issues.issues.length > 0 && !err.message.includes(':')) {
    return `${err.message}: ${issues.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`;
  }
  return err.message;
}

function deliveries(result: OfferResult): string {
  if (result.offers.length === 0) return 'offered to nobody yet';
  return `offered to ${result.offers.map((o) => `${o.emp_id} (${o.status})`).join(', ')}`;
}

export function createDashboardModel(options: DashboardModelOptions) {
  const { storage } = options;
  const token = (): string | undefined => storage.getItem(TOKEN_KEY) ?? undefined;
  const api = options.api ?? createAdminApi(() => (state.auth === 'open' ? undefined : token()));
  const refreshDelayMs = options.refreshDelayMs ?? 100;
  const listeners = new Set<() => void>();
  let state: DashboardSnapshot = {
    auth: options.authRequired ? (token() ? 'ready' : 'needed') : 'open',
    authMessage: undefined,
    stream: { state: 'closed' },
    employees: undefined,
    shifts: undefined,
    faults: undefined,
    selected: undefined,
    detail: undefined,
    journal: [],
    filter: { empId: undefined, shiftId: undefined, kind: undefined, reads: false },
    paused: false,
    held: 0,
    skipped: false,
    busy: undefined,
    notice: undefined,
    problem: undefined,
    scenario: undefined,
    employee: undefined,
    devices: undefined,
    statsWindow: { from: undefined, to: undefined, by: undefined },
    stats: undefined,
    statsAt: undefined,
    statsProblem: undefined,
  };
  /** Lines that came while paused. */
  let held: JournalEntry[] = [];
  /** Lines from the stream not yet taken in. */
  const incoming: JournalEntry[] = [];
  /** The newest journal id seen: where the stream resumes. */
  let lastId: number | undefined;
  let running = false;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  let refreshing: Promise<void> | undefined;
  let refreshAgain = false;

  function set(patch: Partial<DashboardSnapshot>): void {
    state = { ...state, ...patch };
    for (const listener of listeners) listener();
  }

  const stream: EventStream = createEventStream({
    token: () => (state.auth === 'open' ? undefined : token()),
    lastId: () => lastId,
    onState(s) {
      set({ stream: s });
      if (s.state === 'refused') needToken(`The server refused the token: ${s.message}`);
    },
    onEvent({ event, data }) {
      if (event === 'journal') {
        // The lines of one read come together: one update for all of them.
        if (incoming.length === 0) queueMicrotask(() => receive(incoming.splice(0)));
        incoming.push(data as JournalEntry);
      } else if (event === 'hello') {
        const newest = (data as { last_id?: unknown }).last_id;
        // A server with another database (ids started again): its journal replaces ours.
        if (typeof newest === 'number' && lastId !== undefined && newest < lastId) {
          lastId = newest;
          held = [];
          set({ journal: [], held: 0 });
        }
        refreshSoon(0);
      } else if (event === 'gap') set({ skipped: true });
      else if (event === 'scenario') {
        const step = data as { name: string; step: number; did: string };
        set({ scenario: `${step.name}, step ${step.step}: ${step.did}` });
        refreshSoon();
      } else refreshSoon();
    },
  });

  function receive(lines: JournalEntry[]): void {
    for (const line of lines) lastId = Math.max(lastId ?? 0, line.id);
    const reset = lines.findLastIndex((l) => l.name === RESET_MARK);
    if (reset >= 0) {
      // Everything before the mark is gone from the server: drop it here too.
      held = [];
      set({ journal: [], held: 0 });
      lines = lines.slice(reset);
    }
    if (state.paused) {
      held = merge(held, lines);
      set({ held: heldShown(state.filter) });
    } else {
      set({ journal: merge(state.journal, lines) });
    }
    // Reads change nothing, and the views' own reads are journalled: refreshing on them would
    // refresh for ever.
    if (lines.some((line) => !isRead(line))) refreshSoon();
  }

  /** How many held lines `filter` shows (hidden reads are not news). */
  function heldShown(filter: JournalFilter): number {
    let shown = 0;
    for (const line of held) if (matches(line, filter)) shown++;
    return shown;
  }

  function needToken(message: string): void {
    storage.removeItem(TOKEN_KEY);
    running = false;
    statsRefresh.stop();
    stream.stop();
    set({ auth: 'needed', authMessage: message });
  }

  /** Says why a call failed; a refused token is forgotten and asked for again. */
  function failed(err: unknown): string {
    const message = describeError(err);
    if (err instanceof ApiError && err.unauthorized && state.auth !== 'open') {
      needToken(`The server refused the token: ${message}`);
    }
    return message;
  }

  async function refresh(): Promise<void> {
    try {
      const { selected, employee } = state;
      const [employees, shifts, faults, detail, devices] = await Promise.all([
        api.employees(),
        api.shifts(),
        api.faults(),
        selected === undefined ? undefined : api.shift(selected).catch(() => undefined),
        employee === undefined ? undefined : api.devices(employee).catch(() => undefined),
      ]);
      set({
        employees,
        shifts,
        faults,
        problem: undefined,
        ...(state.selected === selected ? { detail } : {}),
        ...(state.employee === employee && devices ? { devices } : {}),
      });
    } catch (err) {
      set({ problem: `Could not load the views: ${failed(err)}` });
    }
    // The stats follow the views, throttled: after them, so that the page holds no more
    // requests at once than the views need (the stats are the slower question).
    if (running) statsRefresh.request();
  }

  async function loadStats(): Promise<void> {
    const asked = state.statsWindow;
    try {
      const stats = await api.stats({ from: asked.from, to: asked.to, by: asked.by });
      // An answer to a question since changed is dropped: the new one is on its way.
      if (state.statsWindow === asked) {
        set({ stats, statsAt: new Date(), statsProblem: undefined });
      }
    } catch (err) {
      if (state.statsWindow === asked) {
        set({ statsProblem: `Could not load the stats: ${failed(err)}` });
      }
    }
  }
  const statsRefresh = throttle(loadStats, options.statsEveryMs ?? 2000);

  /** Fetches the views again shortly, once for a burst of events (and then the stats). */
  function refreshSoon(delay = refreshDelayMs): void {
    if (!running) return;
    if (refreshing) {
      refreshAgain = true;
      return;
    }
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = undefined;
      refreshing = refresh().finally(() => {
        refreshing = undefined;
        if (refreshAgain) {
          refreshAgain = false;
          refreshSoon();
        }
      });
    }, delay);
  }

  async function start(): Promise<void> {
    if (running || state.auth === 'needed') return;
    running = true;
    try {
      // The first screenful of the journal; the stream goes on from its last line.
      const first = await api.journal({ limit: JOURNAL_FIRST });
      if (!running) return;
      // From the last line, or from the start of an empty journal (nothing written meanwhile
      // is missed).
      lastId = first.at(-1)?.id ?? 0;
      set({ journal: merge(state.journal, first), problem: undefined });
    } catch (err) {
      const message = failed(err);
      if (!running) return; // the token was refused
      set({ problem: `Could not load the journal: ${message}` });
    }
    // The stream's hello fetches the views and the stats.
    stream.start();
  }

  /** Runs one action: says it is busy, then what it did or why it failed. */
  async function act(name: string, run: () => Promise<string>): Promise<boolean> {
    if (state.busy) return false;
    set({ busy: name, notice: undefined });
    try {
      const text = await run();
      set({ busy: undefined, notice: { kind: 'ok', text } });
      refreshSoon(0);
      return true;
    } catch (err) {
      set({ busy: undefined, notice: { kind: 'error', text: `${name}: ${failed(err)}` } });
      return false;
    }
  }

  return {
    snapshot: () => state,
    subscribe(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start() {
      void start();
    },
    stop() {
      running = false;
      clearTimeout(refreshTimer);
      statsRefresh.stop();
      stream.stop();
    },
    /** Asks the stats for another window or grouping, at once. */
    setStatsWindow(window: StatsWindow) {
      set({ statsWindow: window, statsProblem: undefined });
      if (running) statsRefresh.now();
    },
    signIn(value: string) {
      storage.setItem(TOKEN_KEY, value.trim());
      set({ auth: 'ready', authMessage: undefined });
      void start();
    },
    forgetToken() {
      needToken('Token forgotten.');
    },
    reconnectNow() {
      stream.reconnectNow();
    },
    setFilter(filter: JournalFilter) {
      set(state.paused ? { filter, held: heldShown(filter) } : { filter });
      if (filter.empId === undefined && filter.shiftId === undefined && !filter.kind) return;
      // The older lines that match, beyond those kept here.
      api
        .journal({
          emp_id: filter.empId,
          shift_id: filter.shiftId,
          kind: filter.kind,
          limit: JOURNAL_FIRST,
        })
        .then(
          (lines) => set({ journal: merge(lines, state.journal) }),
          (err: unknown) => set({ problem: `Could not load the journal: ${failed(err)}` }),
        );
    },
    setPaused(paused: boolean) {
      if (paused === state.paused) return;
      if (paused) {
        set({ paused: true });
        return;
      }
      const lines = held;
      held = [];
      set({ paused: false, held: 0, journal: merge(state.journal, lines) });
    },
    select(shiftId: number | undefined) {
      set({ selected: shiftId, detail: undefined });
      if (shiftId === undefined) return;
      api.shift(shiftId).then(
        (detail) => {
          if (state.selected === shiftId) set({ detail });
        },
        (err: unknown) =>
          set({ notice: { kind: 'error', text: `Shift ${shiftId}: ${failed(err)}` } }),
      );
    },
    /** The push tokens of one employee (undefined: none shown). */
    showDevices(empId: number | undefined) {
      set({ employee: empId, devices: undefined });
      if (empId === undefined) return;
      api.devices(empId).then(
        (devices) => {
          if (state.employee === empId) set({ devices });
        },
        (err: unknown) =>
          set({ notice: { kind: 'error', text: `Employee ${empId}: ${failed(err)}` } }),
      );
    },
    registerDevice(empId: number, token: string, platform: DevicePlatform) {
      return act('Register the push token', async () => {
        const r = await api.registerDevice(empId, token, platform);
        if (state.employee === empId) set({ devices: await api.devices(empId) });
        return `Push token ${shortToken(r.token)} (${r.platform}) ${r.created ? 'registered' : 'registered again'} for employee ${empId}.`;
      });
    },
    deleteDevice(empId: number, token: string) {
      return act('Delete the push token', async () => {
        const r = await api.deleteDevice(empId, token);
        if (state.employee === empId) set({ devices: await api.devices(empId) });
        return r.deleted
          ? `Push token ${shortToken(token)} of employee ${empId} deleted.`
          : `Employee ${empId} had no push token ${shortToken(token)}.`;
      });
    },
    sendTestOffer(empId: number, shiftId?: number, ttlSeconds?: number, priority?: Priority) {
      return act('Send the test offer', async () => {
        const r = await api.sendTestOffer(empId, shiftId, ttlSeconds, priority);
        return `Shift ${r.shift_id} offered to employee ${r.emp_id}: ${r.status} (${r.devices} ${r.devices === 1 ? 'device' : 'devices'}).`;
      });
    },
    createShift(body: CreateShiftRequest) {
      return act('Create the shift', async () => {
        const r = await api.createShift(body);
        set({ selected: r.shift.id });
        return `Created shift ${r.shift.id}, ${deliveries(r)}.`;
      });
    },
    offer(shiftId: number, empIds: number[], ttlSeconds?: number) {
      return act('Offer the shift', async () => {
        const r = await api.offer(shiftId, {
          emp_ids: empIds,
          ...(ttlSeconds ? { ttl_seconds: ttlSeconds } : {}),
        });
        return `Shift ${shiftId} ${deliveries(r)}.`;
      });
    },
    withdraw(shiftId: number) {
      return act('Withdraw', async () => {
        await api.withdraw(shiftId);
        return `Shift ${shiftId} withdrawn.`;
      });
    },
    approve(shiftId: number, empId: number) {
      return act('Approve', async () => {
        await api.approve(shiftId, empId);
        return `Shift ${shiftId} given to employee ${empId}.`;
      });
    },
    kick(empId: number) {
      return act('Kick', async () => {
        const r = await api.kick(empId);
        return `Employee ${empId}: ${r.disconnected} ${r.disconnected === 1 ? 'connection' : 'connections'} cut.`;
      });
    },
    setFaults(faults: FaultInput) {
      return act('Set faults', async () => {
        set({ faults: await api.setFaults(faults) });
        return 'Faults set.';
      });
    },
    clearFaults() {
      return act('Clear faults', async () => {
        set({
          faults: await api.setFaults({
            push_latency_ms: 0,
            http_latency_ms: 0,
            drop_rate: 0,
            refuse_connections_seconds: 0,
          }),
        });
        return 'Faults cleared.';
      });
    },
    playScenario(text: string) {
      return act('Play the scenario', async () => {
        let scenario: unknown;
        try {
          scenario = JSON.parse(text);
        } catch (err) {
          throw new Error(`not JSON: ${(err as Error).message}`);
        }
        const r = await api.playScenario(scenario);
        return `Playing "${r.name}": ${r.steps} ${r.steps === 1 ? 'step' : 'steps'} over ${r.last_step_in_s} s.`;
      });
    },
    reset() {
      return act('Reset', async () => {
        await api.reset();
        set({ selected: undefined, detail: undefined });
        return 'Every shift, offer, assignment and journal line was deleted.';
      });
    },
  };
}

export type DashboardModel = ReturnType<typeof createDashboardModel>;
