/**
 * The dashboard at `/`: employees (and their push tokens), shifts, the journal and the stats,
 * live from the admin push stream, and a form for every admin action. The logic is dashboard-model.ts; this file renders its
 * snapshots. Every control is a native form control with a label, so all of it works from the
 * keyboard.
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatDate, formatTimeRange } from '../client/card.js';
import { DEVICE_PLATFORMS } from '../protocol/names.js';
import type {
  CreateShiftRequest,
  DeviceView,
  EmployeeView,
  JournalEntry,
  Priority,
  ShiftDetailView,
  ShiftView,
} from '../protocol/schemas.js';
import type { FaultInput } from './admin-api.js';
import {
  createDashboardModel,
  type DashboardModel,
  type DashboardSnapshot,
  matches,
  parseIds,
  shortToken,
} from './dashboard-model.js';
import type { StreamState } from './events.js';
import { LiveForm } from './parts/live-form.js';
import { StatsPanel } from './parts/stats-panel.js';
import { Table } from './parts/table.js';
import { TokenForm } from './parts/token-form.js';
import './parts/theme.css';
import './dashboard.css';

function useSnapshot(model: DashboardModel): DashboardSnapshot {
  const [snapshot, setSnapshot] = useState(model.snapshot());
  useEffect(() => model.subscribe(() => setSnapshot(model.snapshot())), [model]);
  return snapshot;
}

// ---------------------------------------------------------------------------------------------
// Reading forms

function text(form: FormData, name: string): string {
  return String(form.get(name) ?? '').trim();
}

function number(form: FormData, name: string): number | undefined {
  const value = text(form, name);
  return value === '' ? undefined : Number(value);
}

function optionalText(form: FormData, name: string): string | undefined {
  return text(form, name) || undefined;
}

/** YYYY-MM-DD of tomorrow, in the browser's time zone. */
function tomorrow(): string {
  const d = new Date(Date.now() + 86_400_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function priorityOf(form: FormData): Priority | undefined {
  const value = text(form, 'priority');
  return value === 'urgent' || value === 'normal' ? value : undefined;
}

/** Said in words, not by colour alone. */
function UrgentMark({ priority }: { priority: Priority | undefined }) {
  return priority === 'urgent' ? <span class="badge urgent">Urgent</span> : null;
}

function timeOf(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString([], { hour12: false });
}

// ---------------------------------------------------------------------------------------------
// Header and sign-in

function streamText(s: StreamState): string {
  switch (s.state) {
    case 'connecting':
      return 'Connecting to the live stream…';
    case 'live':
      return 'Live';
    case 'reconnecting':
      return `Disconnected: reconnecting in ${s.delaySeconds} s (attempt ${s.attempt})`;
    case 'refused':
      return `Refused: ${s.message}`;
    case 'closed':
      return 'Not connected';
  }
}

// ---------------------------------------------------------------------------------------------
// Actions

interface ActionProps {
  model: DashboardModel;
  busy: boolean;
}

/** A form whose submit reads its fields; `problem` is shown when they do not make sense. */
function useSubmit(run: (form: FormData) => string | undefined | Promise<unknown>) {
  const [problem, setProblem] = useState<string | undefined>();
  const onSubmit = (event: Event) => {
    event.preventDefault();
    const result = run(new FormData(event.currentTarget as HTMLFormElement));
    setProblem(typeof result === 'string' ? result : undefined);
  };
  return { problem, onSubmit };
}

function Problem({ text: message }: { text: string | undefined }) {
  return message ? (
    <p class="error" role="alert">
      {message}
    </p>
  ) : null;
}

function SendOfferForm({ model, busy }: ActionProps) {
  const { problem, onSubmit } = useSubmit((form) => {
    const empId = number(form, 'emp');
    if (!empId || empId < 1) return 'Give the employee id.';
    void model.sendTestOffer(empId, number(form, 'shift'), number(form, 'ttl'), priorityOf(form));
    return undefined;
  });
  return (
    <section class="panel" aria-labelledby="send-title">
      <h2 id="send-title">Send the test offer</h2>
      <form class="fields" onSubmit={onSubmit}>
        <label for="send-emp">Employee id</label>
        <input id="send-emp" name="emp" type="number" min="1" required />
        <label for="send-shift">Shift id</label>
        <input id="send-shift" name="shift" type="number" min="1" placeholder="999" />
        <label for="send-ttl">Expires after (s)</label>
        <input id="send-ttl" name="ttl" type="number" min="1" />
        <label for="send-priority">Priority</label>
        <select id="send-priority" name="priority">
          <option value="">as is (new: normal)</option>
          <option value="normal">normal</option>
          <option value="urgent">urgent</option>
        </select>
        <Problem text={problem} />
        <button type="submit" disabled={busy}>
          Send offer
        </button>
      </form>
    </section>
  );
}

function CreateShiftForm({ model, busy }: ActionProps) {
  const { problem, onSubmit } = useSubmit((form) => {
    const offerTo = parseIds(text(form, 'offer_to'));
    if (typeof offerTo === 'string') return offerTo;
    const expiresAt = text(form, 'expires_at');
    const body: CreateShiftRequest = {
      date: text(form, 'date'),
      start_time: text(form, 'start'),
      end_time: text(form, 'end'),
      location_name: optionalText(form, 'location'),
      client_name: optionalText(form, 'client'),
      service_type: optionalText(form, 'service'),
      description: optionalText(form, 'description'),
      mode: text(form, 'mode') === 'cascade' ? 'cascade' : 'broadcast',
      approval: form.get('approval') === 'on',
      priority: priorityOf(form) ?? 'normal',
    };
    const id = number(form, 'id');
    if (id !== undefined) body.id = id;
    if (offerTo.length > 0) body.offer_to = offerTo;
    const slots = number(form, 'slots');
    if (slots !== undefined) body.slots = slots;
    const stepTtl = number(form, 'step_ttl');
    if (stepTtl !== undefined) body.step_ttl_seconds = stepTtl;
    const ttl = number(form, 'ttl');
    if (ttl !== undefined) body.ttl_seconds = ttl;
    if (expiresAt) body.expires_at = new Date(expiresAt).toISOString();
    void model.createShift(body);
    return undefined;
  });
  return (
    <section class="panel" aria-labelledby="create-title">
      <h2 id="create-title">Create a shift</h2>
      <form class="fields" onSubmit={onSubmit}>
        <label for="create-offer-to">Offer to (employee ids)</label>
        <input id="create-offer-to" name="offer_to" placeholder="101, 102" />
        <label for="create-date">Date</label>
        <input id="create-date" name="date" type="date" required value={tomorrow()} />
        <label for="create-start">Start</label>
        <input id="create-start" name="start" type="time" required value="22:00" />
        <label for="create-end">End</label>
        <input id="create-end" name="end" type="time" required value="07:00" />
        <label for="create-location">Location</label>
        <input id="create-location" name="location" value="Maple Grove Care Home" />
        <label for="create-client">Client</label>
        <input id="create-client" name="client" value="Margaret Chen" />
        <label for="create-service">Service</label>
        <input id="create-service" name="service" value="Overnight Care" />
        <label for="create-description">Description</label>
        <input id="create-description" name="description" />
        <label for="create-priority">Priority</label>
        <select id="create-priority" name="priority">
          <option value="normal">normal</option>
          <option value="urgent">urgent: listed first, own deadline</option>
        </select>
        <label for="create-mode">Mode</label>
        <select id="create-mode" name="mode">
          <option value="broadcast">Broadcast: everyone at once</option>
          <option value="cascade">Cascade: one at a time, in order</option>
        </select>
        <label for="create-slots">Slots</label>
        <input id="create-slots" name="slots" type="number" min="1" max="1000" placeholder="1" />
        <label for="create-approval">Needs approval</label>
        <input id="create-approval" name="approval" type="checkbox" />
        <label for="create-step-ttl">Cascade step (s)</label>
        <input id="create-step-ttl" name="step_ttl" type="number" min="1" />
        <label for="create-ttl">Expires after (s)</label>
        <input id="create-ttl" name="ttl" type="number" min="1" />
        <label for="create-expires-at">or expires at</label>
        <input id="create-expires-at" name="expires_at" type="datetime-local" />
        <label for="create-id">Shift id</label>
        <input id="create-id" name="id" type="number" min="1" placeholder="chosen by the server" />
        <Problem text={problem} />
        <button type="submit" disabled={busy}>
          Create shift
        </button>
      </form>
    </section>
  );
}

function FaultsForm({ model, busy, snapshot }: ActionProps & { snapshot: DashboardSnapshot }) {
  const f = snapshot.faults;
  const { problem, onSubmit } = useSubmit((form) => {
    const faults: FaultInput = {};
    const push = number(form, 'push');
    const http = number(form, 'http');
    const drop = number(form, 'drop');
    const refuse = number(form, 'refuse');
    if (push !== undefined) faults.push_latency_ms = push;
    if (http !== undefined) faults.http_latency_ms = http;
    if (drop !== undefined) faults.drop_rate = drop;
    if (refuse !== undefined) faults.refuse_connections_seconds = refuse;
    if (Object.keys(faults).length === 0) return 'Give at least one fault.';
    void model.setFaults(faults);
    return undefined;
  });
  const inForce = f
    ? [
        f.push_latency_ms ? `push latency ${f.push_latency_ms} ms` : '',
        f.http_latency_ms ? `HTTP latency ${f.http_latency_ms} ms` : '',
        f.drop_rate ? `drop rate ${f.drop_rate}` : '',
        f.refusing_connections_until
          ? `refusing connections until ${timeOf(f.refusing_connections_until)}`
          : '',
      ].filter(Boolean)
    : [];
  return (
    <section class="panel" aria-labelledby="faults-title">
      <h2 id="faults-title">Faults</h2>
      <p class="faults-now" data-testid="faults-now">
        In force: {inForce.length === 0 ? 'none' : inForce.join(', ')}
      </p>
      <form class="fields" onSubmit={onSubmit}>
        <label for="fault-push">Push latency (ms)</label>
        <input id="fault-push" name="push" type="number" min="0" max="60000" />
        <label for="fault-http">HTTP latency (ms)</label>
        <input id="fault-http" name="http" type="number" min="0" max="60000" />
        <label for="fault-drop">Drop rate (0 to 1)</label>
        <input id="fault-drop" name="drop" type="number" min="0" max="1" step="0.05" />
        <label for="fault-refuse">Refuse connections (s)</label>
        <input id="fault-refuse" name="refuse" type="number" min="0" max="86400" />
        <Problem text={problem} />
        <div class="buttons">
          <button type="submit" disabled={busy}>
            Set faults
          </button>
          <button type="button" disabled={busy} onClick={() => void model.clearFaults()}>
            Clear faults
          </button>
        </div>
      </form>
    </section>
  );
}

function ScenarioForm({ model, busy }: ActionProps) {
  const area = useRef<HTMLTextAreaElement>(null);
  const { problem, onSubmit } = useSubmit((form) => {
    const json = text(form, 'scenario');
    if (!json) return 'Choose a scenario file or paste one.';
    void model.playScenario(json);
    return undefined;
  });
  return (
    <section class="panel" aria-labelledby="scenario-title">
      <h2 id="scenario-title">Play a scenario</h2>
      <form class="fields" onSubmit={onSubmit}>
        <label for="scenario-file">Scenario file</label>
        <input
          id="scenario-file"
          type="file"
          accept=".json,application/json"
          onChange={async (event) => {
            const file = (event.currentTarget as HTMLInputElement).files?.[0];
            if (file && area.current) area.current.value = await file.text();
          }}
        />
        <label for="scenario-json">or its JSON</label>
        <textarea id="scenario-json" name="scenario" ref={area} rows={4} spellcheck={false} />
        <Problem text={problem} />
        <button type="submit" disabled={busy}>
          Play scenario
        </button>
      </form>
    </section>
  );
}

function ResetControl({ model, busy }: ActionProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  return (
    <section class="panel" aria-labelledby="reset-title">
      <h2 id="reset-title">Reset</h2>
      <p>Deletes every shift, offer, assignment and journal line.</p>
      <button
        type="button"
        class="danger"
        disabled={busy}
        onClick={() => dialog.current?.showModal()}
      >
        Reset…
      </button>
      <dialog ref={dialog} aria-labelledby="reset-confirm-title" class="confirm">
        <h2 id="reset-confirm-title">Delete everything?</h2>
        <p>
          Every shift, offer, assignment and journal line goes. Employees holding offers are told
          they were withdrawn.
        </p>
        <div class="buttons">
          {/* The safe answer first: it has the focus when the dialog opens. */}
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button
            type="button"
            class="danger"
            onClick={() => {
              dialog.current?.close();
              void model.reset();
            }}
          >
            Delete everything
          </button>
        </div>
      </dialog>
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// Views

/** Shift ids, each marked when its shift is urgent. */
function ShiftIds({ ids, urgent }: { ids: readonly number[]; urgent: ReadonlySet<number> }) {
  if (ids.length === 0) return <>—</>;
  return (
    <>
      {ids.map((id, i) => (
        <span key={id}>
          {i > 0 && ', '}
          {id}
          {urgent.has(id) && (
            <>
              {' '}
              <span class="badge urgent">Urgent</span>
            </>
          )}
        </span>
      ))}
    </>
  );
}

function Employees({
  employees,
  shifts,
  selected,
  model,
  busy,
}: ActionProps & {
  employees: readonly EmployeeView[] | undefined;
  shifts: readonly ShiftView[] | undefined;
  selected: number | undefined;
}) {
  const urgent = new Set((shifts ?? []).filter((s) => s.priority === 'urgent').map((s) => s.id));
  return (
    <section class="panel" aria-labelledby="employees-title">
      <h2 id="employees-title">Employees</h2>
      {employees === undefined ? (
        <p>Loading…</p>
      ) : employees.length === 0 ? (
        <p>No employees yet.</p>
      ) : (
        <Table
          class="employees"
          label="Employees"
          columns={['Employee', 'Devices', 'Open offers', 'Assigned', '']}
        >
          {employees.map((e) => (
            <tr
              key={e.emp_id}
              data-emp={e.emp_id}
              class={selected === e.emp_id ? 'selected' : undefined}
            >
              <th scope="row">
                {e.emp_id}
                {e.name && <span class="muted"> {e.name}</span>}
              </th>
              <td class={e.devices > 0 ? 'online' : 'muted'} data-col="devices">
                {e.devices}
              </td>
              <td data-col="pending">
                <ShiftIds ids={e.pending} urgent={urgent} />
              </td>
              <td data-col="assigned">
                <ShiftIds ids={e.assigned} urgent={urgent} />
              </td>
              <td class="row-actions">
                <button
                  type="button"
                  class="small"
                  aria-pressed={selected === e.emp_id}
                  aria-label={`Push tokens of employee ${e.emp_id}`}
                  onClick={() => model.showDevices(selected === e.emp_id ? undefined : e.emp_id)}
                >
                  Push tokens
                </button>{' '}
                <a href={`/app/${e.emp_id}`} target="_blank" rel="noopener">
                  Open app<span class="sr-only"> of employee {e.emp_id} (new tab)</span>
                </a>
                {e.devices > 0 && (
                  <button
                    type="button"
                    class="small"
                    disabled={busy}
                    aria-label={`Kick employee ${e.emp_id}`}
                    onClick={() => void model.kick(e.emp_id)}
                  >
                    Kick
                  </button>
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}

function PushTokens({
  empId,
  devices,
  model,
  busy,
}: ActionProps & { empId: number; devices: readonly DeviceView[] | undefined }) {
  const formRef = useRef<HTMLFormElement>(null);
  const { problem, onSubmit } = useSubmit((form) => {
    const token = text(form, 'token');
    const platform = DEVICE_PLATFORMS.find((p) => p === text(form, 'platform'));
    if (!token) return 'Give the push token.';
    if (!platform) return 'Choose the platform.';
    // Registered: the field is emptied for the next one; refused, it keeps the token to fix.
    void model.registerDevice(empId, token, platform).then((done) => {
      if (done) formRef.current?.reset();
    });
    return undefined;
  });
  return (
    <section class="panel" aria-labelledby="devices-title">
      <h2 id="devices-title">Employee {empId}: push tokens</h2>
      {devices === undefined ? (
        <p>Loading…</p>
      ) : devices.length === 0 ? (
        <p>No push token registered.</p>
      ) : (
        <Table
          class="devices"
          label={`Push tokens of employee ${empId}`}
          columns={['Token', 'Platform', 'Registered', 'Last seen', '']}
        >
          {devices.map((d) => (
            <tr key={d.token} data-token={d.token}>
              <th scope="row">
                <code title={d.token}>{shortToken(d.token)}</code>
              </th>
              <td>{d.platform}</td>
              <td>{timeOf(d.registered_at)}</td>
              <td>{timeOf(d.seen_at)}</td>
              <td class="row-actions">
                <button
                  type="button"
                  class="small danger"
                  disabled={busy}
                  aria-label={`Delete push token ${shortToken(d.token)}`}
                  onClick={() => void model.deleteDevice(empId, d.token)}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </Table>
      )}
      <form class="inline" onSubmit={onSubmit} ref={formRef}>
        <label for="device-token">Push token</label>
        <input
          id="device-token"
          name="token"
          required
          minLength={8}
          maxLength={4096}
          spellcheck={false}
          autocomplete="off"
        />
        <label for="device-platform">Platform</label>
        <select id="device-platform" name="platform">
          {DEVICE_PLATFORMS.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
        <button type="submit" disabled={busy}>
          Register token
        </button>
        <Problem text={problem} />
      </form>
    </section>
  );
}

function offerCounts(s: ShiftView): string {
  const o = s.offers;
  const parts = [
    o.open && `${o.open} open`,
    o.requested && `${o.requested} requested`,
    o.accepted && `${o.accepted} accepted`,
    o.rejected && `${o.rejected} rejected`,
    o.expired && `${o.expired} expired`,
    o.queued && `${o.queued} queued`,
  ].filter(Boolean);
  return parts.join(', ') || 'none';
}

function Shifts({ snapshot, model }: { snapshot: DashboardSnapshot; model: DashboardModel }) {
  const { shifts } = snapshot;
  return (
    <section class="panel" aria-labelledby="shifts-title">
      <h2 id="shifts-title">Shifts</h2>
      {shifts === undefined ? (
        <p>Loading…</p>
      ) : shifts.length === 0 ? (
        <p>No shifts yet.</p>
      ) : (
        <Table
          class="shifts"
          label="Shifts"
          tall
          columns={['Shift', 'When', 'Status', 'Mode', 'Slots', 'Assigned to', 'Offers']}
        >
          {[...shifts].reverse().map((s) => (
            <tr
              key={s.id}
              data-shift={s.id}
              data-status={s.status}
              data-priority={s.priority}
              class={snapshot.selected === s.id ? 'selected' : undefined}
            >
              <th scope="row">
                <button
                  type="button"
                  class="link"
                  aria-pressed={snapshot.selected === s.id}
                  onClick={() => model.select(snapshot.selected === s.id ? undefined : s.id)}
                >
                  {s.id}
                  <span class="sr-only">: show its offers</span>
                </button>
              </th>
              <td>
                {formatDate(s.date)}, {s.start_time}-{s.end_time}
                {s.location_name && <div class="muted">{s.location_name}</div>}
              </td>
              <td>
                <span class={`badge status-${s.status}`}>{s.status}</span>{' '}
                <UrgentMark priority={s.priority} />
              </td>
              <td>
                {s.mode}
                {s.approval ? ', approval' : ''}
              </td>
              <td>{s.slots}</td>
              <td data-col="assigned">{s.assigned_to.join(', ') || '—'}</td>
              <td>{offerCounts(s)}</td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}

function ShiftDetail({
  detail,
  selected,
  model,
  busy,
}: ActionProps & { detail: ShiftDetailView | undefined; selected: number }) {
  const { problem, onSubmit } = useSubmit((form) => {
    const ids = parseIds(text(form, 'emp_ids'));
    if (typeof ids === 'string') return ids;
    if (ids.length === 0) return 'Give at least one employee id.';
    void model.offer(selected, ids, number(form, 'ttl'));
    return undefined;
  });
  const open = detail?.status === 'open';
  return (
    <section class="panel" aria-labelledby="detail-title">
      <h2 id="detail-title">
        Shift {selected}
        {detail && (
          <span class="muted">
            {' '}
            · {formatDate(detail.date)}, {formatTimeRange(detail.start_time, detail.end_time)} ·{' '}
            {detail.status}
          </span>
        )}{' '}
        {detail && <UrgentMark priority={detail.priority} />}
      </h2>
      {!detail ? (
        <p>Loading…</p>
      ) : (
        <>
          {detail.holders.length === 0 ? (
            <p>Not offered to anyone yet.</p>
          ) : (
            <Table
              class="holders"
              label={`Offers of shift ${selected}`}
              columns={['Employee', 'Order', 'Sent', 'Delivered', 'Answered', 'Outcome']}
            >
              {detail.holders.map((h) => (
                <tr key={h.emp_id} data-emp={h.emp_id} data-outcome={h.outcome}>
                  <th scope="row">{h.emp_id}</th>
                  <td>{h.position ?? '—'}</td>
                  <td>{timeOf(h.sent_at)}</td>
                  <td>{timeOf(h.delivered_at)}</td>
                  <td>
                    {timeOf(h.answered_at)}
                    {h.response ? ` (${h.response})` : ''}
                  </td>
                  <td>
                    {h.outcome}
                    {h.outcome === 'requested' && open && (
                      <button
                        type="button"
                        class="small"
                        disabled={busy}
                        aria-label={`Approve employee ${h.emp_id}`}
                        onClick={() => void model.approve(selected, h.emp_id)}
                      >
                        Approve
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </Table>
          )}
          {open && (
            <form class="inline" onSubmit={onSubmit}>
              <label for="offer-more">Offer to more employees</label>
              <input id="offer-more" name="emp_ids" placeholder="104, 105" required />
              <label for="offer-ttl">Expires after (s)</label>
              <input id="offer-ttl" name="ttl" type="number" min="1" />
              <button type="submit" disabled={busy}>
                Offer
              </button>
              <Problem text={problem} />
            </form>
          )}
          {(open || detail.status === 'assigned') && (
            <p>
              <button
                type="button"
                class="danger"
                disabled={busy}
                onClick={() => void model.withdraw(selected)}
              >
                Withdraw shift {selected}
              </button>
            </p>
          )}
        </>
      )}
    </section>
  );
}

/** Lines rendered at most: the newest. */
const JOURNAL_SHOWN = 300;

function Journal({ snapshot, model }: { snapshot: DashboardSnapshot; model: DashboardModel }) {
  const { filter } = snapshot;
  const visible = snapshot.journal.filter((e) => matches(e, filter));
  const shown = visible.slice(-JOURNAL_SHOWN).reverse();
  const update = (data: FormData) => {
    const kind = text(data, 'kind');
    model.setFilter({
      empId: number(data, 'emp') || undefined,
      shiftId: number(data, 'shift') || undefined,
      kind: kind === 'push' || kind === 'request' ? kind : undefined,
      reads: data.get('reads') === 'on',
    });
  };
  return (
    <section class="panel" aria-labelledby="journal-title">
      <h2 id="journal-title">Journal</h2>
      <LiveForm apply={update}>
        <label for="journal-emp">Employee</label>
        <input id="journal-emp" name="emp" type="number" min="1" class="narrow" />
        <label for="journal-shift">Shift</label>
        <input id="journal-shift" name="shift" type="number" min="1" class="narrow" />
        <label for="journal-kind">Kind</label>
        <select id="journal-kind" name="kind">
          <option value="">all</option>
          <option value="push">pushes</option>
          <option value="request">requests</option>
        </select>
        <input id="journal-reads" name="reads" type="checkbox" />
        <label for="journal-reads">GET requests too</label>
        <button
          type="button"
          aria-pressed={snapshot.paused}
          onClick={() => model.setPaused(!snapshot.paused)}
        >
          {snapshot.paused
            ? `Resume${snapshot.held > 0 ? ` (${snapshot.held} new)` : ''}`
            : 'Pause'}
        </button>
      </LiveForm>
      {snapshot.skipped && (
        <p class="muted">
          Lines written while the stream was away too long were skipped; see the journal API for
          them.
        </p>
      )}
      <p class="muted" data-testid="journal-count">
        {visible.length} {visible.length === 1 ? 'line' : 'lines'}
        {snapshot.paused ? ', paused' : ''}
      </p>
      <Table
        class="journal"
        label="Journal lines"
        tall
        columns={['Time', 'Kind', 'Employee', 'Shift', 'What', 'Outcome']}
      >
        {shown.map((e: JournalEntry) => (
          <tr key={e.id} data-id={e.id} data-kind={e.kind}>
            <td>{timeOf(e.time)}</td>
            <td>{e.kind}</td>
            <td>{e.emp_id ?? '—'}</td>
            <td>{e.shift_id ?? '—'}</td>
            <td>
              {e.name}
              {e.detail ? <span class="muted"> {JSON.stringify(e.detail)}</span> : null}
            </td>
            <td>{e.outcome}</td>
          </tr>
        ))}
      </Table>
    </section>
  );
}

// ---------------------------------------------------------------------------------------------

function Dashboard({ model }: { model: DashboardModel }) {
  const snapshot = useSnapshot(model);
  const { stream } = snapshot;
  const busy = snapshot.busy !== undefined;

  useEffect(() => {
    model.start();
    return () => model.stop();
  }, [model]);

  return (
    <>
      <header class="top">
        <h1>shiftctl</h1>
        <p
          class={`stream stream-${stream.state}`}
          role="status"
          id="stream-status"
          data-state={stream.state}
        >
          {streamText(stream)}
        </p>
        {stream.state === 'reconnecting' && (
          <button type="button" onClick={() => model.reconnectNow()}>
            Reconnect now
          </button>
        )}
        <div class="notices" role="status" id="notice" aria-live="polite">
          {snapshot.busy && <p>{snapshot.busy}…</p>}
          {snapshot.notice && (
            <p class={snapshot.notice.kind === 'error' ? 'error' : 'ok'}>{snapshot.notice.text}</p>
          )}
          {snapshot.problem && <p class="error">{snapshot.problem}</p>}
          {snapshot.scenario && <p class="muted">Scenario: {snapshot.scenario}</p>}
        </div>
        {snapshot.auth === 'ready' && (
          <button type="button" class="link" onClick={() => model.forgetToken()}>
            Forget token
          </button>
        )}
      </header>
      {snapshot.auth === 'needed' ? (
        <main class="single">
          <TokenForm
            id="admin-token"
            label="Admin token"
            class="panel signin"
            message={snapshot.authMessage}
            onToken={(token) => model.signIn(token)}
          >
            This server needs an admin token: make one with <code>shiftctl token --admin</code> and
            paste it here. It is kept in this tab only.
          </TokenForm>
        </main>
      ) : (
        <main class="grid">
          <div class="actions-column">
            <SendOfferForm model={model} busy={busy} />
            <CreateShiftForm model={model} busy={busy} />
            <FaultsForm model={model} busy={busy} snapshot={snapshot} />
            <ScenarioForm model={model} busy={busy} />
            <ResetControl model={model} busy={busy} />
          </div>
          <div class="views-column">
            <Employees
              employees={snapshot.employees}
              shifts={snapshot.shifts}
              selected={snapshot.employee}
              model={model}
              busy={busy}
            />
            {snapshot.employee !== undefined && (
              <PushTokens
                empId={snapshot.employee}
                devices={snapshot.devices}
                model={model}
                busy={busy}
              />
            )}
            <Shifts snapshot={snapshot} model={model} />
            {snapshot.selected !== undefined && (
              <ShiftDetail
                detail={snapshot.detail}
                selected={snapshot.selected}
                model={model}
                busy={busy}
              />
            )}
            <Journal snapshot={snapshot} model={model} />
            <StatsPanel snapshot={snapshot} model={model} />
          </div>
        </main>
      )}
    </>
  );
}

const root = document.getElementById('dashboard');
if (root) {
  const model = createDashboardModel({
    authRequired: root.dataset.auth === 'required',
    storage: sessionStorage,
  });
  render(<Dashboard model={model} />, root);
}
