/**
 * The store behind the offer rules. This interface is all the rules know of persistence, so a
 * second implementation (PostgreSQL, for several `serve` instances) slots in without touching
 * them. Every method that decides something does it atomically on the store's side: a claim is
 * one conditional update inside one transaction, never a read followed by a write.
 */
import type {
  DevicePlatform,
  OfferResponse,
  Outcome,
  Priority,
  ShiftDetails,
  ShiftMode,
  ShiftStatus,
} from '../protocol/schemas.js';

export interface ShiftRecord extends ShiftDetails {
  id: number;
  priority: Priority;
  status: ShiftStatus;
  mode: ShiftMode;
  approval: boolean;
  slots: number;
  filled: number;
  stepTtlS: number | null;
  createdAt: number;
  closedAt: number | null;
}

export interface OfferRecord {
  shiftId: number;
  empId: number;
  /** Cascade order, 1 first; null for a broadcast offer. */
  position: number | null;
  /** Null while a cascade step is queued. */
  sentAt: number | null;
  expiresAt: number | null;
  deliveredAt: number | null;
  answeredAt: number | null;
  response: OfferResponse | null;
  outcome: Outcome;
}

/** An offer joined with the shift it is for. */
export interface OfferedShift {
  offer: OfferRecord;
  shift: ShiftRecord;
}

export interface OfferCounts {
  total: number;
  queued: number;
  open: number;
  requested: number;
  accepted: number;
  rejected: number;
  expired: number;
}

export interface ShiftSummary {
  shift: ShiftRecord;
  assignedTo: number[];
  offers: OfferCounts;
}

export interface EmployeeSummary {
  empId: number;
  name: string | null;
  pending: number[];
  assigned: number[];
}

/** Employees whose offers a change closed, with the status to tell them. */
export interface Closed {
  shiftId: number;
  empIds: number[];
}

export type ClaimResult =
  /** Someone (a concurrent retry) answered this offer first; nothing was written. */
  | { recorded: false }
  /** The answer was recorded. */
  | {
      recorded: true;
      /** The outcome of this employee's offer now. */
      outcome: Outcome;
      /** Whether the shift has no slot left. */
      shiftFilled: boolean;
      /** Other employees whose open or requested offers closed as `taken`. */
      closed: number[];
    };

/** What offering a shift wrote: the offers, or nothing because the shift is not open. */
export type OfferWrite =
  /** The shift was open: each employee's offer now (new, or as it already was). */
  | { offered: true; offers: OfferRecord[] }
  /** The shift is closed (its status now) or does not exist (undefined); nothing was written. */
  | { offered: false; status: ShiftStatus | undefined };

export interface NewShift extends ShiftDetails {
  id?: number | undefined;
  slots?: number | undefined;
  mode?: ShiftMode | undefined;
  approval?: boolean | undefined;
  stepTtlS?: number | undefined;
}

export interface Employee {
  id: number;
  name?: string | null | undefined;
  role?: string | null | undefined;
}

/** One line of the journal: a message pushed or an API request answered. */
export interface JournalEntry {
  id: number;
  at: number;
  kind: 'push' | 'request';
  empId: number | null;
  shiftId: number | null;
  /** The message type (`shift_offer`, ...) or the request (`POST /api/shift_offer/respond`). */
  name: string;
  /** What came of it: `sent`, `dropped`, `no_device`, or the HTTP status. */
  outcome: string;
  detail: unknown;
}

export type NewJournalEntry = Omit<JournalEntry, 'id'>;

/** A journal line; with `empIds`, the same line once for each of these employees. */
export type JournalInput = NewJournalEntry & { empIds?: readonly number[] };

export interface JournalFilter {
  empId?: number | undefined;
  shiftId?: number | undefined;
  kind?: 'push' | 'request' | undefined;
  /** Only entries with a greater id (for following). */
  afterId?: number | undefined;
  limit: number;
}

/** Which journal lines may go: those beyond the newest `maxRows`, and those written before `before`. */
export interface JournalLimits {
  maxRows?: number | undefined;
  /** Milliseconds since the epoch. */
  before?: number | undefined;
}

/** A push token an employee registered (`POST /api/devices/{emp_id}`). */
export interface DeviceRecord {
  empId: number;
  token: string;
  platform: DevicePlatform;
  /** When the token was registered for this employee, ms since the epoch. */
  registeredAt: number;
  /** When it was last registered (again), ms since the epoch. */
  seenAt: number;
}

/** One webhook push: an offer, to one push token of its employee. */
export interface PushKey {
  shiftId: number;
  empId: number;
  token: string;
}

/** A push this caller claimed and is to send now (no other caller sends it meanwhile). */
export interface ClaimedPush extends PushKey {
  platform: DevicePlatform;
  /** This attempt, 1 for the first. */
  attempt: number;
  shift: ShiftRecord;
  expiresAt: number | null;
}

/** Why a push due was not sent: the offer no longer waits for it, or the token went. */
export type PushCancelReason =
  | 'answered'
  | 'delivered'
  | 'expired'
  | 'withdrawn'
  | 'taken'
  | 'closed'
  | 'unregistered';

export interface CancelledPush extends PushKey {
  reason: PushCancelReason;
  /** Attempts made before it was cancelled. */
  attempts: number;
}

/** What a push's attempt came to: done (`sent`, `failed`), or to be tried again at `dueAt`. */
export type PushNext = { state: 'sent' | 'failed' } | { state: 'due'; dueAt: number };
/** What the stats may be grouped by: a detail of the shift, or the employee offered it. */
export type StatsGrouping = 'location' | 'client' | 'service_type' | 'employee';

export interface StatsQuery {
  /**
   * The window, milliseconds since the epoch, `from` included and `to` not: offers by when they
   * were sent, shifts by when they were created. Unbounded when absent.
   */
  from?: number | undefined;
  to?: number | undefined;
  by?: StatsGrouping | undefined;
}

/** A duration's median and 90th percentile (interpolated, as percentile_cont), in ms. */
export interface Spread {
  median: number | null;
  p90: number | null;
}

/** Offers sent in the window, and what came of them. */
export interface OfferStats {
  sent: number;
  /** Written to a socket of the employee's at least once. */
  delivered: number;
  /** Any response recorded (accepted or rejected). */
  answered: number;
  accepted: number;
  rejected: number;
  /** Closed by their deadline unanswered. */
  expired: number;
  /** Holding an assignment now. */
  assigned: number;
  /** From sending to the response, over the answered offers. */
  responseMs: Spread;
}

/** Shifts created in the window that were offered to someone, and what became of them. */
export interface ShiftStats {
  offered: number;
  /** Every slot filled. */
  filled: number;
  /** The cascade ran out, or open with no offer left that could fill it. */
  unfilled: number;
  withdrawn: number;
  /** Open, with an offer still open, queued or awaiting approval. */
  open: number;
  /** From the first offer sent to the first acceptance, over shifts with one. */
  firstAcceptMs: Spread;
  /** From the first offer sent to the last slot taken, over filled shifts. */
  fillMs: Spread;
}

/** The figures of one group (or of everything); `shifts` is null for an employee's group. */
export interface StatsGroup {
  /** The location, client or service type (null: none given), or the employee's id. */
  key: string | number | null;
  /** The employee's name, when grouped by employee and known. */
  name?: string | null;
  offers: OfferStats;
  shifts: ShiftStats | null;
}

export interface Stats {
  total: StatsGroup;
  /** With `by`: one group per key, in no particular order. */
  groups?: StatsGroup[];
}

export interface Store {
  /** True when the store holds no shift yet (fixtures are loaded only then). */
  isEmpty(): Promise<boolean>;
  upsertEmployees(employees: Employee[]): Promise<void>;
  /** Creates a shift; throws E_SHIFT_EXISTS when the id is taken. */
  createShift(shift: NewShift, at: number): Promise<ShiftRecord>;
  /**
   * Creates the shift unless its id exists; resolves to the shift as it is after the write.
   * With `offer`, the shift is offered to those employees in the same write, as `addOffers`
   * does (open at once, or queued behind a cascade), but only while it is open: `offers` is
   * absent when it is not, and nothing is written. With `update`, an existing open shift takes
   * these details first, in the same write.
   */
  ensureShift(
    shift: NewShift & { id: number },
    at: number,
    offer?: { empIds: readonly number[]; expiresAt: number | null },
    update?: Partial<ShiftDetails>,
  ): Promise<{ shift: ShiftRecord; created: boolean; offers?: OfferRecord[] }>;
  updateShiftDetails(id: number, details: Partial<ShiftDetails>): Promise<ShiftRecord | undefined>;
  getShift(id: number): Promise<ShiftRecord | undefined>;
  listShifts(filter: {
    status?: ShiftStatus | undefined;
    id?: number | undefined;
  }): Promise<ShiftSummary[]>;
  /**
   * Offers the shift to these employees, open at once with an optional deadline, or (for a
   * cascade) queued after the steps it already has. Those who already hold an offer keep it.
   * Only an open shift is offered: the check and the insert are one conditional write, so an
   * offer never opens on a shift that a concurrent answer or withdrawal just closed.
   */
  addOffers(
    shiftId: number,
    empIds: readonly number[],
    at: number,
    options: { expiresAt?: number | null | undefined; queued?: boolean },
  ): Promise<OfferWrite>;
  getOffer(shiftId: number, empId: number): Promise<OfferRecord | undefined>;
  offersForShift(shiftId: number): Promise<OfferRecord[]>;
  /** Unanswered open offers of still-open shifts: urgent shifts first, then oldest first. */
  openOffersFor(empId: number): Promise<OfferedShift[]>;
  history(empId: number, limit: number): Promise<OfferedShift[]>;
  /**
   * Records a rejection of an offer that was sent, is unanswered and not closed by its deadline
   * or a withdrawal; resolves to the offer's outcome after it, or undefined when nothing was
   * recorded.
   */
  reject(shiftId: number, empId: number, at: number): Promise<Outcome | undefined>;
  /**
   * Records an acceptance. When the shift needs approval, an open offer becomes `requested`;
   * otherwise it takes a slot of the shift, atomically, if one is left.
   */
  claim(shiftId: number, empId: number, at: number): Promise<ClaimResult>;
  /**
   * Turns a `requested` offer into an assignment if a slot of the open shift is left (one
   * conditional write: a withdrawal or another approval in between wins); undefined when the
   * offer is not requested (any more).
   */
  approve(shiftId: number, empId: number, at: number): Promise<ClaimResult | undefined>;
  /** Closes open offers whose deadline has passed; returns them by shift. */
  expireDue(now: number): Promise<Closed[]>;
  /** The earliest deadline of an open offer, if any. */
  nextDeadline(): Promise<number | undefined>;
  /**
   * Cascade: when the shift is open and nobody holds it now, opens the next queued step
   * (returning it), or marks the shift `unfilled` when none is left (returning undefined). The
   * conditions are checked by the write that opens the step or closes the shift, never before it.
   */
  advanceCascade(
    shiftId: number,
    at: number,
    fallbackTtlS?: number,
  ): Promise<OfferRecord | undefined>;
  /**
   * Withdraws an open shift, cancelling its assignments (a shift with slots left can have some):
   * every offer still queued, open, requested or assigned becomes `withdrawn` and the shift has
   * no slot filled. Returns who is to be told (holders and the assigned), or undefined if the
   * shift was not open.
   */
  withdraw(shiftId: number, at: number): Promise<number[] | undefined>;
  /** Notes that offers were written to a socket. Best effort, batched, never awaited. */
  markDelivered(shiftId: number, empIds: readonly number[], at: number): void;
  pendingCounts(): Promise<Map<number, number>>;
  employees(): Promise<EmployeeSummary[]>;
  /** Appends to the journal. Batched, never awaited. */
  journal(entry: JournalInput): void;
  readJournal(filter: JournalFilter): Promise<JournalEntry[]>;
  /**
   * Deletes up to `max` of the oldest journal lines beyond the limits, in one short write;
   * resolves to how many went. The newest line always stays, so ids keep growing.
   */
  trimJournal(limits: JournalLimits, max: number): Promise<number>;
  /**
   * Resolves when the store takes writes now; rejects with `E_STORAGE_FULL` or
   * `E_DATABASE_BUSY` (or another error) when it does not. Writes nothing.
   */
  checkWritable(): Promise<void>;
  /**
   * Registers a push token for an employee, in one write: again (the same employee) only
   * refreshes it; a token another employee registered moves to this one. Keeps at most
   * `maxPerEmployee` tokens per employee: the least recently registered go.
   */
  registerDevice(
    device: { empId: number; token: string; platform: DevicePlatform },
    at: number,
    maxPerEmployee: number,
  ): Promise<{ device: DeviceRecord; created: boolean }>;
  /** The employee's push tokens, most recently registered first. */
  listDevices(empId: number): Promise<DeviceRecord[]>;
  /** Deletes one of the employee's tokens; false when they had no such token. */
  deleteDevice(empId: number, token: string): Promise<boolean>;
  /**
   * Schedules a webhook push of the offer of `shiftId` to each of these employees, one per push
   * token they have now, due at `dueAt`. A push already scheduled for an offer and token (even
   * one sent or cancelled) is kept as it is. Resolves to how many were added.
   */
  schedulePushes(shiftId: number, empIds: readonly number[], dueAt: number): Promise<number>;
  /**
   * The employee registered `token` after some of their offers had found no device: schedules a
   * push of each offer still waiting for them (open, sent, never delivered, unanswered, not past
   * its deadline) to that token, due `afterMs` after the offer was sent or at `now` when that
   * is past. Only while the token is still theirs; existing pushes are kept as they are.
   * Resolves to how many were added.
   */
  schedulePushesForToken(
    empId: number,
    token: string,
    afterMs: number,
    now: number,
  ): Promise<number>;
  /** When the earliest push waiting (or claimed, until its claim lapses) falls due. */
  nextPushDue(): Promise<number | undefined>;
  /**
   * Claims up to `limit` pushes due by `now`, in one write: those whose offer no longer waits
   * (answered, delivered to a device, closed) or whose token went are cancelled instead. A
   * claimed push is this caller's until `leaseUntil` (then another caller may claim it again,
   * as when its claimer died), whoever else claims at the same moment.
   */
  claimPushes(
    now: number,
    leaseUntil: number,
    claimId: string,
    limit: number,
  ): Promise<{ claimed: ClaimedPush[]; cancelled: CancelledPush[] }>;
  /**
   * Records what a claimed push came to; false (nothing written) when the claim is no longer
   * this caller's.
   */
  finishPush(push: PushKey, claimId: string, next: PushNext, at: number): Promise<boolean>;
  /**
   * Analytics over offers and shifts, computed by the database (aggregates, percentiles); the
   * bookkeeping queued before it (deliveries) is counted.
   */
  stats(query: StatsQuery): Promise<Stats>;
  /**
   * Deletes every shift, offer, assignment, employee, push token, push and journal entry (journal
   * ids keep growing).
   */
  reset(at: number): Promise<void>;
  close(): Promise<void>;
}
