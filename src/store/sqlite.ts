/**
 * The embedded SQLite store: the only module, with its parts (sqlite-*.ts), that imports the
 * database driver. This one assembles the parts into the store.
 *
 * Durability: WAL journal with synchronous=NORMAL. A transaction is in the WAL file, handed to
 * the operating system, before its statement returns, so anything the server acknowledged
 * survives the process being killed (`kill -9`). `durability: 'full'` also survives a power
 * cut, at the cost of an fsync per commit.
 */
import { createGroupCommit, prepareBookkeeping } from './sqlite-batch.js';
import { prepareDecisions } from './sqlite-decisions.js';
import { prepareJournal } from './sqlite-journal.js';
import { prepareOffering } from './sqlite-offers.js';
import { preparePushes } from './sqlite-pushes.js';
import { prepareQueries } from './sqlite-queries.js';
import { isOnDisk, openSqlite, unlockDatabase, writableCheck } from './sqlite-schema.js';
import { prepareStats } from './sqlite-stats.js';
import type { Store } from './types.js';

export interface SqliteStoreOptions {
  /** A file path, or `:memory:` for a throwaway database. */
  path: string;
  /** `normal` survives a crash of the process; `full` also survives a crash of the machine. */
  durability?: 'normal' | 'full';
  /** Where the store reports trouble no caller hears of (journal lines it had to drop). */
  warn?: (message: string, fields?: Record<string, unknown>) => void;
  /**
   * Offers the stats read per step, between which the server serves other requests (tests use
   * a few, to see a request served meanwhile); STATS_CHUNK_OFFERS by default.
   */
  statsChunkOffers?: number;
}

/** The SQLite store, with a handle tests use to fill its "disk". */
export interface SqliteStore extends Store {
  /**
   * For tests only: caps the database at its current size plus `pages` pages (SQLite's
   * `max_page_count`), so that writes fail as on a full disk; `null` lifts the cap.
   */
  limitPages(pages: number | null): void;
}

/** Opens (and creates or migrates) a SQLite database and returns the store over it. */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const db = openSqlite(options.path, options.durability);
  const onDisk = isOnDisk(options.path);
  const books = prepareBookkeeping(db);
  const queries = prepareQueries(db);
  const offering = prepareOffering(db, queries);
  const decisions = prepareDecisions(db, queries);
  const journal = prepareJournal(db, books.insertJournal);
  const pushes = preparePushes(db);
  const analytics = prepareStats(db, { chunkOffers: options.statsChunkOffers });
  const checkWritable = writableCheck(db, options.path);
  const commit = createGroupCommit(db, books, options.warn);
  const { write, flush } = commit;

  const store: SqliteStore = {
    async isEmpty() {
      return queries.isEmpty();
    },
    upsertEmployees(employees) {
      return write(() => offering.upsertEmployees(employees));
    },
    createShift(shift, at) {
      return write(() => offering.createShift(shift, at));
    },
    ensureShift(shift, at, offer, update) {
      return write(() => offering.ensureShift(shift, at, offer, update));
    },
    async updateShiftDetails(id, details) {
      return write(() => offering.updateShiftDetails(id, details));
    },
    async getShift(id) {
      return queries.getShift(id);
    },
    async listShifts(filter) {
      return queries.listShifts(filter.status ?? null, filter.id ?? null);
    },
    addOffers(shiftId, empIds, at, options) {
      return write(() => offering.addOffers(shiftId, empIds, at, options));
    },
    async getOffer(shiftId, empId) {
      return queries.getOffer(shiftId, empId);
    },
    async offersForShift(shiftId) {
      return queries.offersForShift(shiftId);
    },
    async openOffersFor(empId) {
      return queries.openOffersFor(empId);
    },
    async history(empId, limit) {
      return queries.history(empId, limit);
    },
    reject(shiftId, empId, at) {
      return write(() => decisions.reject(shiftId, empId, at));
    },
    claim(shiftId, empId, at) {
      return write(() => decisions.claim(shiftId, empId, at));
    },
    approve(shiftId, empId, at) {
      return write(() => decisions.approve(shiftId, empId, at));
    },
    expireDue(now) {
      return write(() => decisions.expireDue(now));
    },
    async nextDeadline() {
      return queries.nextDeadline();
    },
    advanceCascade(shiftId, at, fallbackTtlS) {
      return write(() => decisions.advanceCascade(shiftId, at, fallbackTtlS));
    },
    withdraw(shiftId, at) {
      return write(() => decisions.withdraw(shiftId, at));
    },
    markDelivered(shiftId, empIds, at) {
      commit.markDelivered(shiftId, empIds, at);
    },
    async pendingCounts() {
      return queries.pendingCounts();
    },
    async employees() {
      return queries.employees();
    },
    journal(entry) {
      commit.journal(entry);
    },
    trimJournal(limits, max) {
      return write(() => journal.trimJournal(limits, max));
    },
    registerDevice(device, at, maxPerEmployee) {
      return write(() => pushes.registerDevice(device, at, maxPerEmployee));
    },
    async listDevices(empId) {
      return pushes.listDevices(empId);
    },
    deleteDevice(empId, token) {
      return write(() => pushes.deleteDevice(empId, token));
    },
    schedulePushes(shiftId, empIds, dueAt) {
      return write(() => pushes.schedulePushes(shiftId, empIds, dueAt));
    },
    schedulePushesForToken(empId, token, afterMs, now) {
      return write(() => pushes.schedulePushesForToken(empId, token, afterMs, now));
    },
    async nextPushDue() {
      return pushes.nextPushDue();
    },
    claimPushes(now, leaseUntil, claimId, limit) {
      return write(() => pushes.claimPushes(now, leaseUntil, claimId, limit));
    },
    finishPush(push, claimId, next) {
      return write(() => pushes.finishPush(push, claimId, next));
    },
    async checkWritable() {
      await write(checkWritable);
    },
    limitPages(pages) {
      const cap =
        pages === null
          ? 4_294_967_294
          : (db.pragma('page_count', { simple: true }) as number) + pages;
      db.pragma(`max_page_count = ${cap}`);
    },
    async readJournal(filter) {
      flush();
      return journal.readJournal(filter);
    },
    async stats(query) {
      // Deliveries noted before the question count.
      flush();
      return analytics.stats(query);
    },
    async reset(at) {
      flush();
      await write(() => journal.reset(at));
    },
    async close() {
      if (!db.open) return;
      flush();
      db.close();
      if (onDisk) unlockDatabase(options.path);
    },
  };

  return store;
}
