/**
 * The store behind the offer rules. This interface is all the rules know of persistence, so a
 * second implementation (PostgreSQL, for several `serve` instances) slots in without touching
 * them. Every method that decides something does it atomically on the store's side: `claim` is
 * one conditional update inside one transaction, never a read followed by a write.
 */
import type { OfferResponse, Outcome, ShiftDetails, ShiftStatus } from '../protocol/schemas.js';

export interface ShiftRecord extends ShiftDetails {
  id: number;
  status: ShiftStatus;
  slots: number;
  filled: number;
  createdAt: number;
}

export interface OfferRecord {
  shiftId: number;
  empId: number;
  sentAt: number;
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

export interface ShiftSummary {
  shift: ShiftRecord;
  assignedTo: number[];
  offers: { total: number; open: number; accepted: number; rejected: number };
}

export interface EmployeeSummary {
  empId: number;
  name: string | null;
  pending: number[];
  assigned: number[];
}

export type ClaimResult =
  /** Someone (a concurrent retry) answered this offer first; nothing was written. */
  | { recorded: false }
  /** The answer was recorded; `won` says whether this employee got a slot. */
  | { recorded: true; won: boolean; shiftFilled: boolean; closed: number[] };

export interface NewShift extends ShiftDetails {
  id?: number | undefined;
  slots?: number;
}

export interface Employee {
  id: number;
  name?: string | null | undefined;
  role?: string | null | undefined;
}

export interface Store {
  /** True when the store holds no shift yet (fixtures are loaded only then). */
  isEmpty(): Promise<boolean>;
  upsertEmployees(employees: Employee[]): Promise<void>;
  /** Creates a shift; throws E_SHIFT_EXISTS when the id is taken. */
  createShift(shift: NewShift, at: number): Promise<ShiftRecord>;
  updateShiftDetails(id: number, details: Partial<ShiftDetails>): Promise<ShiftRecord | undefined>;
  getShift(id: number): Promise<ShiftRecord | undefined>;
  listShifts(filter: {
    status?: ShiftStatus | undefined;
    id?: number | undefined;
  }): Promise<ShiftSummary[]>;
  /** Offers the shift to these employees; those who already hold an offer keep it as it is. */
  addOffers(shiftId: number, empIds: readonly number[], at: number): Promise<OfferRecord[]>;
  getOffer(shiftId: number, empId: number): Promise<OfferRecord | undefined>;
  offersForShift(shiftId: number): Promise<OfferRecord[]>;
  /** Unanswered offers of still-open shifts, oldest first. */
  openOffersFor(empId: number): Promise<OfferedShift[]>;
  history(empId: number, limit: number): Promise<OfferedShift[]>;
  /** Records a rejection unless the offer was already answered; false when it was. */
  reject(shiftId: number, empId: number, at: number): Promise<boolean>;
  /** Records an acceptance and, atomically, takes a slot of the shift if one is left. */
  claim(shiftId: number, empId: number, at: number): Promise<ClaimResult>;
  /** Notes that offers were written to a socket. Best effort, batched, never awaited. */
  markDelivered(shiftId: number, empIds: readonly number[], at: number): void;
  pendingCounts(): Promise<Map<number, number>>;
  employees(): Promise<EmployeeSummary[]>;
  close(): Promise<void>;
}
