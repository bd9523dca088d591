/**
 * The app in a tab, at `/app/{emp_id}`: a phone-sized page that behaves as the Flutter app
 * does. The logic is app-model.ts; this file only renders its snapshots and wires the keys.
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatDate, formatExpiry, formatTimeRange } from '../client/card.js';
import type { HistoryItem, ShiftOfferMessage } from '../protocol/schemas.js';
import { type AppModel, type AppSnapshot, createAppModel } from './app-model.js';
import { TokenForm } from './parts/token-form.js';
import type { SocketState } from './socket.js';
import './parts/theme.css';
import './app.css';

function useSnapshot(model: AppModel): AppSnapshot {
  const [snapshot, setSnapshot] = useState(model.snapshot());
  useEffect(() => model.subscribe(() => setSnapshot(model.snapshot())), [model]);
  return snapshot;
}

function connectionText(c: SocketState): string {
  switch (c.state) {
    case 'connecting':
      return 'Connecting…';
    case 'connected':
      return 'Connected';
    case 'reconnecting':
      return `Disconnected: reconnecting in ${c.delaySeconds} s (attempt ${c.attempt} of ${c.maxRetries})`;
    case 'failed':
      return c.refused
        ? 'Disconnected: the server refused the connection'
        : `Disconnected: gave up after ${c.attempts} attempts`;
    case 'closed':
      return 'Not connected';
  }
}

function Field({ label, value }: { label: string; value: string | null | undefined }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{value || '—'}</dd>
    </>
  );
}

/** Ticks once a second while an offer has a deadline, and drops the offer when it passes. */
function useCountdown(model: AppModel, offer: ShiftOfferMessage): string | undefined {
  const [now, setNow] = useState(Date.now());
  const expiresAt = offer.expires_at;
  useEffect(() => {
    if (!expiresAt) return;
    const tick = setInterval(() => setNow(Date.now()), 1000);
    const left = Date.parse(expiresAt) - Date.now();
    const deadline =
      left < 2 ** 31 - 1
        ? setTimeout(() => model.expire(offer.shift_id), Math.max(0, left))
        : undefined;
    return () => {
      clearInterval(tick);
      clearTimeout(deadline);
    };
  }, [model, expiresAt, offer.shift_id]);
  return expiresAt ? formatExpiry(expiresAt, now) : undefined;
}

function OfferDialog({ model, snapshot }: { model: AppModel; snapshot: AppSnapshot }) {
  const offer = snapshot.queue[0] as ShiftOfferMessage;
  const dialog = useRef<HTMLDialogElement>(null);
  const accept = useRef<HTMLButtonElement>(null);
  const expiry = useCountdown(model, offer);
  const waiting = snapshot.queue.length - 1;

  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    if (!el.open) el.showModal();
    return () => el.close();
  }, []);
  // Each new offer takes the focus to its first button.
  useEffect(() => accept.current?.focus(), [offer.shift_id]);

  const busy = snapshot.answering !== undefined;
  const urgent = offer.priority === 'urgent';
  return (
    <dialog
      ref={dialog}
      class={urgent ? 'offer urgent' : 'offer'}
      aria-labelledby="offer-title"
      aria-describedby="offer-details"
      onCancel={(event) => event.preventDefault()}
    >
      <h2 id="offer-title">
        {urgent && <strong class="urgent-badge">Urgent</strong>}
        {urgent && ' '}New shift offer
      </h2>
      <dl id="offer-details">
        <Field label="Shift" value={String(offer.shift_id)} />
        <Field label="Date" value={formatDate(offer.date)} />
        <Field label="Time" value={formatTimeRange(offer.start_time, offer.end_time)} />
        <Field label="Location" value={offer.location_name} />
        <Field label="Client" value={offer.client_name} />
        <Field label="Service" value={offer.service_type} />
        <Field label="Description" value={offer.description} />
        {expiry && <Field label="Expires" value={expiry} />}
      </dl>
      {waiting > 0 && (
        <p class="waiting">
          {waiting} more {waiting === 1 ? 'offer' : 'offers'} waiting
        </p>
      )}
      {snapshot.answerError && (
        <p class="error" role="alert">
          Not sent: {snapshot.answerError}
        </p>
      )}
      <div class="actions">
        <button
          ref={accept}
          type="button"
          class="accept"
          aria-keyshortcuts="a"
          disabled={busy}
          onClick={() => model.answer('accepted')}
        >
          {snapshot.answering === 'accepted' ? 'Accepting…' : 'Accept'} <kbd>a</kbd>
        </button>
        <button
          type="button"
          class="reject"
          aria-keyshortcuts="r"
          disabled={busy}
          onClick={() => model.answer('rejected')}
        >
          {snapshot.answering === 'rejected' ? 'Rejecting…' : 'Reject'} <kbd>r</kbd>
        </button>
      </div>
    </dialog>
  );
}

function History({ items }: { items: readonly HistoryItem[] | undefined }) {
  return (
    <section class="card" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      {items === undefined ? (
        <p>Not loaded yet.</p>
      ) : items.length === 0 ? (
        <p>No offers yet.</p>
      ) : (
        <ul class="history">
          {items.map((item) => (
            <li key={item.shift_id} data-shift={item.shift_id} data-outcome={item.outcome}>
              <span class="when">
                {formatDate(item.date)}, {item.start_time}-{item.end_time}
              </span>
              <span class="where">
                {item.priority === 'urgent' && <strong class="urgent-badge">Urgent</strong>}{' '}
                {item.location_name ?? `Shift ${item.shift_id}`}
              </span>
              <span class={`outcome outcome-${item.outcome}`}>{item.outcome}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function App({ model }: { model: AppModel }) {
  const snapshot = useSnapshot(model);
  const { connection } = snapshot;
  const dialogOpen = snapshot.auth !== 'needed' && snapshot.queue.length > 0;

  useEffect(() => {
    model.start();
    return () => model.stop();
  }, [model]);

  // `a` and `r` answer the open dialog, as in `listen`.
  useEffect(() => {
    if (!dialogOpen) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
      if (event.target instanceof HTMLInputElement) return;
      if (event.key === 'a' || event.key === 'A') model.answer('accepted');
      else if (event.key === 'r' || event.key === 'R') model.answer('rejected');
      else return;
      event.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [model, dialogOpen]);

  return (
    <main>
      <header>
        <h1>Shift offers</h1>
        <p class="who">Employee {snapshot.empId}</p>
        <p
          class={`connection connection-${connection.state}`}
          role="status"
          data-state={connection.state}
        >
          {connectionText(connection)}
        </p>
        {connection.state === 'failed' && !connection.refused && (
          <button type="button" onClick={() => model.reconnect()}>
            Reconnect
          </button>
        )}
      </header>
      {snapshot.auth === 'needed' ? (
        <TokenForm
          id="token"
          label="Employee token"
          class="card"
          message={snapshot.authMessage}
          onToken={(token) => model.signIn(token)}
        >
          This server needs a token. Ask the operator for one (<code>shiftctl token</code>) and
          paste it here. It is kept in this tab only.
        </TokenForm>
      ) : (
        <>
          <section class="card" aria-labelledby="outcomes-title">
            <h2 id="outcomes-title">Latest</h2>
            {snapshot.problem && <p class="error">{snapshot.problem}</p>}
            <ul class="notices" aria-live="polite">
              {snapshot.notices.length === 0 && (
                <li>No answers yet. Offers appear here as they come.</li>
              )}
              {snapshot.notices.map((notice) => (
                <li key={notice.shiftId} data-shift={notice.shiftId} data-status={notice.status}>
                  {notice.text}
                </li>
              ))}
            </ul>
          </section>
          <History items={snapshot.history} />
          {snapshot.auth === 'ready' && (
            <p>
              <button type="button" class="link" onClick={() => model.forgetToken()}>
                Forget token
              </button>
            </p>
          )}
          {dialogOpen && <OfferDialog model={model} snapshot={snapshot} />}
        </>
      )}
    </main>
  );
}

const root = document.getElementById('app');
if (root) {
  const model = createAppModel({
    empId: Number(root.dataset.empId),
    authRequired: root.dataset.auth === 'required',
    storage: sessionStorage,
    socketBase: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`,
  });
  render(<App model={model} />, root);
}
