/**
 * The `Cluster` port on PostgreSQL alone, for instances that share the store's database and no
 * Redis: presence and instances in tables, the bus on LISTEN/NOTIFY, the timer lease an advisory
 * lock. The shape of Socket.IO's Postgres adapter (see /work/shared/SCALE.md): NOTIFY carries a
 * small message whole, and a large one's row id in `cluster_messages`.
 *
 * Every time is the database's (`now()`), so the instances' clocks never matter.
 *
 * Connections per instance: a pool of three (presence, reads, heartbeat; one of them reserved
 * for the lease while this instance holds or seeks it), one for sending on the bus (so that what
 * one instance sends commits, and so is delivered, in the order sent), and postgres.js's own
 * listening connection.
 *
 * Limits of the bus, inherited from LISTEN/NOTIFY: every notifying commit takes one lock for
 * the whole server, so sends are serialised cluster-wide (about 1,500-3,000 a second from one
 * instance here, pipelined; batch pushes rather than send many small ones); a message sent while
 * an instance's listening connection is down is lost to it (hence `resumed`); the server queues
 * notifications until the slowest listener reads them (8 GB at most, then NOTIFY fails); a
 * pooler in transaction mode (PgBouncer) cannot carry LISTEN; and a large message is read from
 * its row within a minute or not at all.
 *
 * No shared rate limiter (`rateLimiter` is left undefined): each instance limits on its own, so
 * a client whose requests the load balancer spreads over n instances gets up to n times the
 * rate. A shared bucket here would be one write to the database per request, on the database
 * that is already the cluster's ceiling (durable claims and offers); Redis keeps them instead.
 */
import { createHash, randomBytes } from 'node:crypto';
import postgres, { type PendingQuery, type Row, type Sql } from 'postgres';
import { ShiftctlError } from '../errors.js';
import { redactUrl } from '../redact.js';
import { BIGINT_AS_NUMBER, CONNECT_TIMEOUT_S } from '../store/postgres.js';
import { SCHEMA_NAME } from '../store/schema-name.js';
import type { Cluster, ClusterHandlers, ClusterMessage, SharedFaults } from './types.js';

export interface PostgresClusterOptions {
  /** `postgres://user:password@host:5432/database`, as the store's. */
  url: string;
  /** The store's schema (created if missing); the tables are `cluster_*` in it. Default `public`. */
  schema?: string | undefined;
  /** How often this instance refreshes its row; 2000 ms by default. */
  heartbeatMs?: number | undefined;
  /** How long an instance counts as alive after its last refresh; 6000 ms by default. */
  instanceTtlMs?: number | undefined;
  /** How often the server calls `lead()`; 1000 ms by default. */
  leaseRenewMs?: number | undefined;
  /** Where background trouble goes when `start` is given no `warn`; stderr by default. */
  warn?: ((message: string, fields?: Record<string, unknown>) => void) | undefined;
}

export interface PostgresCluster extends Cluster {
  readonly engine: 'postgres';
  /** For tests: drops every connection without a goodbye and stops the timers, as `kill -9` would. */
  crash(): Promise<void>;
}

/** Advisory lock class of creating the cluster's tables (second key: the schema's name). */
const SETUP_LOCK = 0x53_48_49_48; // "SHIH"
/** Advisory lock class of the timer lease (second key: the schema's name). */
const LEASE_LOCK = 0x53_48_49_49; // "SHII"
/**
 * A NOTIFY payload must be shorter than 8000 bytes (the server's default block size); anything
 * as long or longer goes through `cluster_messages`.
 */
export const NOTIFY_MAX_BYTES = 7999;
/** Longest channel name LISTEN keeps whole (NAMEDATALEN - 1); longer ones would be truncated. */
const MAX_IDENTIFIER = 63;
/** Connections in the pool: one may be reserved for the lease. */
const POOL_SIZE = 3;

/**
 * Created if missing, under an advisory lock so that instances starting together do it once.
 * Presence, instances and large messages say nothing a restart of the database should keep, so
 * they are UNLOGGED (no WAL, commits that do not wait for the disk); after a crash the database
 * empties them, and each instance's next heartbeat writes its row and its presence back.
 * Changing a table here later needs a migration, as the store's tables have.
 */
const TABLES = [
  `CREATE UNLOGGED TABLE IF NOT EXISTS cluster_instances (
    id         TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
  )`,
  `CREATE UNLOGGED TABLE IF NOT EXISTS cluster_presence (
    instance TEXT NOT NULL,
    emp_id   BIGINT NOT NULL,
    devices  INTEGER NOT NULL CHECK (devices > 0),
    PRIMARY KEY (instance, emp_id)
  )`,
  'CREATE INDEX IF NOT EXISTS cluster_presence_by_employee ON cluster_presence (emp_id)',
  `CREATE TABLE IF NOT EXISTS cluster_faults (
    id       INTEGER PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    settings TEXT NOT NULL,
    saved_at TIMESTAMPTZ NOT NULL DEFAULT now()
  )`,
  `CREATE UNLOGGED TABLE IF NOT EXISTS cluster_messages (
    id         BIGSERIAL PRIMARY KEY,
    body       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
  )`,
  'CREATE INDEX IF NOT EXISTS cluster_messages_by_age ON cluster_messages (created_at)',
];

/** Presence rows of live instances (the caller adds its own conditions with AND). */
const LIVE = `
  FROM cluster_presence p JOIN cluster_instances i ON i.id = p.instance
  WHERE i.expires_at > now()`;
/** Devices per employee on live instances (the caller filters by employee and groups). */
const LIVE_PRESENCE = `SELECT p.emp_id, SUM(p.devices)::int AS n ${LIVE}`;

/**
 * Devices of the employees listed in `param` that have any on live instances, as two arrays
 * (`ids`, `ns`), always one row; `countsOf` puts them in the caller's order. Matching the list
 * against presence (an index probe per id, or a hashed filter) stays linear whatever the plan;
 * unnesting the list and joining it here did not: a plan that guessed a few rows for the unnest
 * ran a nested loop, 5 s for 50,000 ids. The list comes as an array literal in text (`idList`),
 * which costs half the time of postgres.js writing a bigint[] of 50,000 numbers; the scalar
 * subquery parses it once per statement (a bare cast would parse it again for every row).
 */
const PRESENT_IN = (param: string) => `
  present AS (${LIVE_PRESENCE}
    AND p.emp_id = ANY((SELECT ${param}::text::bigint[])::bigint[]) GROUP BY p.emp_id)`;
/** Employee ids as a PostgreSQL array literal, for PRESENT_IN. */
function idList(empIds: readonly number[]): string {
  for (const id of empIds) {
    if (!Number.isSafeInteger(id)) {
      throw new ShiftctlError('E_INTERNAL', `Employee id ${id} is not an integer.`);
    }
  }
  return `{${empIds.join(',')}}`;
}
const PRESENT_ARRAYS = `
  COALESCE(array_agg(present.emp_id), '{}') AS ids, COALESCE(array_agg(present.n), '{}') AS ns`;

/**
 * A push with its payload in the notification: notify and count in one statement, one round
 * trip. The aggregate always makes one row, whose scalar subquery runs the notifying CTE.
 */
const PUSH_INLINE = `
  WITH sent AS (SELECT pg_notify($1, $2)), ${PRESENT_IN('$3')}
  SELECT (SELECT COUNT(*) FROM sent) AS sent, ${PRESENT_ARRAYS} FROM present`;
/** A push too large for a notification: its body in a row, the row's id in the notification. */
const PUSH_STORED = `
  WITH stored AS (INSERT INTO cluster_messages (body) VALUES ($2) RETURNING id),
  sent AS (SELECT pg_notify($1, json_build_object('o', $4::text, 'r', id::text)::text) FROM stored),
  ${PRESENT_IN('$3')}
  SELECT (SELECT COUNT(*) FROM sent) AS sent, ${PRESENT_ARRAYS} FROM present`;
const DEVICES = `WITH ${PRESENT_IN('$1')} SELECT ${PRESENT_ARRAYS} FROM present`;

interface Present {
  ids: number[];
  ns: number[];
}

/** The devices of each of `empIds`, in their order, from what PRESENT_ARRAYS found. */
function countsOf(empIds: readonly number[], present: Present | undefined): number[] {
  const found = new Map<number, number>();
  present?.ids.forEach((id, i) => {
    found.set(id, present.ns[i] ?? 0);
  });
  return empIds.map((id) => found.get(id) ?? 0);
}
const SEND_INLINE = 'SELECT pg_notify($1, $2)';
const SEND_STORED = `
  WITH stored AS (INSERT INTO cluster_messages (body) VALUES ($2) RETURNING id)
  SELECT pg_notify($1, json_build_object('o', $3::text, 'r', id::text)::text) FROM stored`;

/**
 * Refreshes this instance's row ($1, for $2 ms) and says whether it was still alive: when it was
 * not (the database was out of reach longer than the TTL, or restarted), another instance may
 * have cleaned its presence away, which the caller then writes back. Cleans, lazily, whatever
 * has expired: instances (with their presence) and large messages older than a minute.
 *
 * "Alive" is what the refresh itself found under the row's lock, not what the statement's
 * snapshot saw: an instance that deleted this row (and its presence) while the refresh was under
 * way leaves `live` empty, so the row is inserted anew and the presence written back. Reading
 * `expires_at > now()` from the snapshot instead said "alive" for a row deleted meanwhile, and
 * the presence was never restored.
 */
const HEARTBEAT = `
  WITH live AS (
    UPDATE cluster_instances SET expires_at = now() + $2::int * interval '1 ms'
    WHERE id = $1 AND expires_at > now() RETURNING 1),
  revived AS (
    INSERT INTO cluster_instances (id, expires_at)
    SELECT $1, now() + $2::int * interval '1 ms' WHERE NOT EXISTS (SELECT 1 FROM live)
    ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at
    RETURNING 1),
  dead AS (DELETE FROM cluster_instances WHERE expires_at <= now() AND id <> $1 RETURNING id),
  ghosts AS (DELETE FROM cluster_presence WHERE instance IN (SELECT id FROM dead) RETURNING 1),
  old AS (DELETE FROM cluster_messages WHERE created_at < now() - interval '1 minute' RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM live) AS alive, (SELECT COUNT(*) FROM revived) AS revived`;

/** Puts this instance's presence ($1) back as it knows it ($2 employees, $3 devices). */
const RESTORE_PRESENCE = `
  WITH gone AS (
    DELETE FROM cluster_presence WHERE instance = $1 AND NOT (emp_id = ANY($2::bigint[])))
  INSERT INTO cluster_presence (instance, emp_id, devices)
  SELECT $1, e.emp_id, e.devices FROM unnest($2::bigint[], $3::int[]) AS e (emp_id, devices)
  ON CONFLICT (instance, emp_id) DO UPDATE SET devices = EXCLUDED.devices`;

/**
 * Joins ($1 instance, $2 employee, $3 cap) after JOIN_LOCK in the same transaction. In READ
 * COMMITTED each statement reads a fresh snapshot, so this one sees every join that held the
 * lock before it (they committed before letting go).
 */
const JOIN = `
  WITH cur AS (
    SELECT COALESCE((SELECT SUM(p.devices)::int ${LIVE} AND p.emp_id = $2), 0) AS n),
  added AS (
    INSERT INTO cluster_presence (instance, emp_id, devices)
    SELECT $1, $2, 1 FROM cur WHERE cur.n < $3
    ON CONFLICT (instance, emp_id) DO UPDATE SET devices = cluster_presence.devices + 1
    RETURNING 1)
  SELECT CASE WHEN EXISTS (SELECT 1 FROM added) THEN cur.n + 1 END AS n FROM cur`;
/**
 * Racing joins for one employee take turns on this lock, held to the end of their transaction;
 * joins of other employees go on. A 64-bit hash of (schema, employee): a collision only makes
 * two employees' joins wait for each other. (Single-key locks never meet the two-key ones above.)
 */
const JOIN_LOCK = `SELECT pg_advisory_xact_lock(hashtextextended($1::text || '/' || $2::text, 0))`;

/** Leaves ($1 instance, $2 employee): the employee's devices left on live instances. */
const LEAVE = `
  WITH gone AS (
    DELETE FROM cluster_presence WHERE instance = $1 AND emp_id = $2 AND devices <= 1),
  fewer AS (
    UPDATE cluster_presence SET devices = devices - 1
    WHERE instance = $1 AND emp_id = $2 AND devices > 1
    RETURNING devices)
  SELECT (COALESCE((SELECT SUM(p.devices) ${LIVE} AND p.emp_id = $2 AND p.instance <> $1), 0)
    + COALESCE((SELECT devices FROM fewer), 0))::int AS n`;

/**
 * Takes the lease, or says it is still held. The lock belongs to the session: checking
 * `pg_locks` (not just remembering it) notices a connection that dropped and came back without
 * it. Trying again while holding it would stack the lock, which one unlock would not undo.
 */
const LEAD = `
  SELECT CASE WHEN EXISTS (
    SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
      AND classid = $1::int::oid AND objid = hashtext($2)::oid AND objsubid = 2)
  THEN true ELSE pg_try_advisory_lock($1::int, hashtext($2)) END AS held`;

/** The channel of a schema's cluster: plain when it fits an identifier, else shortened with a hash. */
export function channelOf(schema: string): string {
  const plain = `shiftctl/${schema}`;
  if (Buffer.byteLength(plain) <= MAX_IDENTIFIER) return plain;
  const hash = createHash('sha256').update(schema).digest('hex').slice(0, 16);
  return `shiftctl/${schema.slice(0, MAX_IDENTIFIER - 'shiftctl/'.length - 17)}/${hash}`;
}

function positive(value: number | undefined, fallback: number, what: string): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1) {
    throw new ShiftctlError(
      'E_USAGE',
      `${what} must be a positive number of milliseconds, not ${n}.`,
    );
  }
  return n;
}

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
}

/** A notification: who sent it, and the message or the row holding it. */
interface Envelope {
  o: string;
  m?: ClusterMessage;
  r?: string;
}

/** Connects, creates the tables if missing, and returns the cluster (started by `start`). */
export async function createPostgresCluster(
  options: PostgresClusterOptions,
): Promise<PostgresCluster> {
  const { url } = options;
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    throw new ShiftctlError(
      'E_DATABASE',
      `The schema name ${JSON.stringify(options.schema)} is not a plain identifier (letters, digits, _).`,
    );
  }
  const heartbeatMs = positive(options.heartbeatMs, 2000, 'The heartbeat');
  const instanceTtlMs = positive(options.instanceTtlMs, 6000, 'The instance TTL');
  const leaseRenewMs = positive(options.leaseRenewMs, 1000, 'The lease renewal');
  if (instanceTtlMs <= heartbeatMs) {
    throw new ShiftctlError(
      'E_USAGE',
      `The instance TTL (${instanceTtlMs} ms) must be longer than the heartbeat (${heartbeatMs} ms).`,
    );
  }
  const instanceId = randomBytes(6).toString('hex');
  const connect = (max: number): Sql =>
    postgres(url, {
      max,
      connect_timeout: CONNECT_TIMEOUT_S,
      onnotice: () => {},
      // A connection that lives on: the lease is a session lock, lost with the session.
      max_lifetime: null,
      types: BIGINT_AS_NUMBER,
      connection: {
        application_name: `shiftctl/${instanceId}${options.schema ? `/${options.schema}` : ''}`,
        // Nothing here must survive a crash of the database (see TABLES); faults are saved
        // again by whoever changes them.
        synchronous_commit: 'off',
        ...(options.schema === undefined ? {} : { search_path: `"${options.schema}"` }),
      },
    });
  const sql = connect(POOL_SIZE);
  /** Sends on the bus, one statement after another on one connection: delivered in that order. */
  const bus = connect(1);

  let schema: string;
  try {
    schema = await sql.begin(async (tx) => {
      const [row] = await tx<{ schema: string }[]>`
        SELECT COALESCE(${options.schema ?? null}::text, current_schema()) AS schema`;
      const name = row?.schema ?? 'public';
      await tx`SELECT pg_advisory_xact_lock(${SETUP_LOCK}::int, hashtext(${name}))`;
      if (options.schema !== undefined) await tx`CREATE SCHEMA IF NOT EXISTS ${tx(options.schema)}`;
      for (const statement of TABLES) await tx.unsafe(statement);
      return name;
    });
  } catch (err) {
    await Promise.all([sql.end({ timeout: 1 }), bus.end({ timeout: 1 })]).catch(() => {});
    throw new ShiftctlError(
      'E_DATABASE',
      `Cannot use the database at ${redactUrl(url)} for the cluster: ${messageOf(err)}`,
    );
  }
  const channel = channelOf(schema);

  const run = (db: Sql, text: string, params: unknown[]) =>
    db.unsafe(text, params as never[], { prepare: true }) as unknown as PendingQuery<Row[]>;
  const rows = async <T>(db: Sql, text: string, params: unknown[]) =>
    (await run(db, text, params)) as unknown as T[];

  let handlers: ClusterHandlers | undefined;
  const warn = (message: string, fields?: Record<string, unknown>) => {
    const to = handlers?.warn ?? options.warn;
    if (to) to(message, fields);
    else process.stderr.write(`${message}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`);
  };

  /** This instance's presence as it knows it, to write back after it was taken for dead. */
  const mine = new Map<number, number>();
  /** Joins and leaves under way, which close waits for before taking the presence away. */
  const writing = new Set<Promise<unknown>>();
  let state: 'open' | 'closing' | 'closed' = 'open';

  function tracked<T>(work: Promise<T>): Promise<T> {
    writing.add(work);
    const done = () => writing.delete(work);
    work.then(done, done);
    return work;
  }

  function refuseWhenClosed(): void {
    if (state !== 'open') throw new ShiftctlError('E_UNAVAILABLE', 'The cluster link is closed.');
  }

  // --- heartbeat ---------------------------------------------------------------------------
  let beatTimer: NodeJS.Timeout | undefined;
  let beating: Promise<void> = Promise.resolve();
  let beatFailures = 0;

  async function beat(): Promise<void> {
    const [row] = await rows<{ alive: boolean }>(sql, HEARTBEAT, [instanceId, instanceTtlMs]);
    if (row?.alive === false && started) {
      // Taken for dead (or the database restarted): put this instance's presence back.
      warn('cluster: this instance had expired; writing its presence back', {
        instance: instanceId,
        employees: mine.size,
      });
      await run(sql, RESTORE_PRESENCE, [instanceId, [...mine.keys()], [...mine.values()]]);
    }
  }

  /** One heartbeat, then the next one `heartbeatMs` after this one began; never rejects. */
  function beatOnce(): void {
    const began = Date.now();
    beating = beat().then(
      () => {
        if (beatFailures > 0) warn('cluster heartbeat recovered', { failures: beatFailures });
        beatFailures = 0;
      },
      (err: unknown) => {
        beatFailures++;
        if (beatFailures === 1) {
          warn(`cluster heartbeat failed; retrying every ${heartbeatMs} ms`, {
            error: messageOf(err),
            ...codeOf(err),
          });
        }
      },
    );
    void beating.then(() => {
      if (state !== 'open') return;
      beatTimer = setTimeout(beatOnce, Math.max(0, heartbeatMs - (Date.now() - began)));
      beatTimer.unref();
    });
  }

  // --- bus -----------------------------------------------------------------------------------
  let started = false;
  let unlisten: (() => Promise<void>) | undefined;
  /** Notifications waiting behind a large message's row, delivered in the order they came. */
  let queue: Promise<void> = Promise.resolve();
  let queued = 0;

  function deliver(message: ClusterMessage, from: string): void {
    try {
      handlers?.message(message, from);
    } catch (err) {
      warn('cluster: a message handler threw', { kind: message.kind, error: messageOf(err) });
    }
  }

  async function stored(id: string): Promise<ClusterMessage | undefined> {
    const [row] = await rows<{ body: string }>(
      sql,
      'SELECT body FROM cluster_messages WHERE id = $1::bigint',
      [id],
    );
    if (!row) {
      warn('cluster: a large message was gone before it was read (over a minute late?)', { id });
      return undefined;
    }
    return JSON.parse(row.body) as ClusterMessage;
  }

  function onNotify(payload: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(payload) as Envelope;
    } catch {
      warn('cluster: a notification that is not JSON was ignored', { bytes: payload.length });
      return;
    }
    if (envelope.o === instanceId) return;
    const { m: message, r: row, o: from } = envelope;
    // Deliver at once unless a large message before this one is still being read.
    if (message !== undefined && queued === 0) {
      deliver(message, from);
      return;
    }
    queued++;
    queue = queue
      .then(async () => {
        const whole = message ?? (row === undefined ? undefined : await stored(row));
        if (whole !== undefined) deliver(whole, from);
      })
      .catch((err: unknown) => {
        warn('cluster: a large message could not be read; it is lost', {
          id: row,
          error: messageOf(err),
        });
      })
      .finally(() => {
        queued--;
      });
  }

  /** The notification for `message`, or the row to store it in when too large for one. */
  function envelope(message: ClusterMessage): { inline: string } | { body: string } {
    const inline = JSON.stringify({ o: instanceId, m: message });
    return Buffer.byteLength(inline) <= NOTIFY_MAX_BYTES
      ? { inline }
      : { body: JSON.stringify(message) };
  }

  // --- lease ---------------------------------------------------------------------------------
  let lease: postgres.ReservedSql | undefined;
  let leading: Promise<boolean> | undefined;

  async function tryLead(): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      lease ??= await sql.reserve();
      try {
        const [row] = await lease.unsafe(LEAD, [LEASE_LOCK, schema] as never[]);
        return row?.held === true;
      } catch (err) {
        // A lost connection lost the lock with it: try once more on a fresh one.
        lease.release();
        lease = undefined;
        if (attempt > 0 || !/^CONNECTION_/.test(String((err as { code?: unknown }).code)))
          throw err;
      }
    }
  }

  async function endAll(timeout: number): Promise<void> {
    await Promise.all([sql.end({ timeout }).catch(() => {}), bus.end({ timeout }).catch(() => {})]);
  }

  let closing: Promise<void> | undefined;

  const cluster: PostgresCluster = {
    engine: 'postgres',
    instanceId,
    leaseRenewMs,

    async start(given) {
      refuseWhenClosed();
      if (started) throw new ShiftctlError('E_INTERNAL', 'The cluster link is already started.');
      handlers = given;
      await beat();
      started = true;
      let listened = false;
      const listening = await sql.listen(channel, onNotify, () => {
        // Called on every (re)connect of the listening connection; after the first, messages
        // sent while it was down are lost.
        if (!listened) {
          listened = true;
          return;
        }
        if (state !== 'open') return;
        warn('cluster bus reconnected; messages sent meanwhile may have been missed');
        try {
          handlers?.resumed?.();
        } catch (err) {
          warn('cluster: the resumed handler threw', { error: messageOf(err) });
        }
      });
      unlisten = listening.unlisten;
      beatTimer = setTimeout(beatOnce, heartbeatMs);
      beatTimer.unref();
    },

    async broadcast(message) {
      refuseWhenClosed();
      const sent = envelope(message);
      if ('inline' in sent) await run(bus, SEND_INLINE, [channel, sent.inline]);
      else await run(bus, SEND_STORED, [channel, sent.body, instanceId]);
    },

    async push(empIds, text) {
      refuseWhenClosed();
      const ids = [...empIds];
      const sent = envelope({ kind: 'push', empIds: ids, text });
      const [row] =
        'inline' in sent
          ? await rows<Present>(bus, PUSH_INLINE, [channel, sent.inline, idList(ids)])
          : await rows<Present>(bus, PUSH_STORED, [channel, sent.body, idList(ids), instanceId]);
      return countsOf(ids, row);
    },

    join(empId, cap) {
      refuseWhenClosed();
      return tracked(
        (async () => {
          // One round trip, one transaction: the lock, then the join under it (see JOIN).
          const [, result] = await sql.batch([
            sql.unsafe(JOIN_LOCK, [schema, empId] as never[], { prepare: true }),
            sql.unsafe(JOIN, [instanceId, empId, cap] as never[], { prepare: true }),
          ]);
          const n = (result as unknown as { n: number | null }[] | undefined)?.[0]?.n ?? null;
          if (n !== null) mine.set(empId, (mine.get(empId) ?? 0) + 1);
          return n;
        })(),
      );
    },

    leave(empId) {
      refuseWhenClosed();
      return tracked(
        (async () => {
          const [row] = await rows<{ n: number }>(sql, LEAVE, [instanceId, empId]);
          const left = (mine.get(empId) ?? 0) - 1;
          if (left > 0) mine.set(empId, left);
          else mine.delete(empId);
          return row?.n ?? 0;
        })(),
      );
    },

    async presence() {
      const found = await rows<{ emp_id: number; n: number }>(
        sql,
        `${LIVE_PRESENCE} GROUP BY p.emp_id HAVING SUM(p.devices) > 0`,
        [],
      );
      return new Map(found.map((r) => [r.emp_id, r.n]));
    },

    async devices(empIds) {
      const [row] = await rows<Present>(sql, DEVICES, [idList(empIds)]);
      return countsOf(empIds, row);
    },

    async instances() {
      const [row] = await rows<{ n: number }>(
        sql,
        'SELECT COUNT(*)::int AS n FROM cluster_instances WHERE expires_at > now()',
        [],
      );
      return row?.n ?? 0;
    },

    lead() {
      refuseWhenClosed();
      // One at a time on the reserved connection.
      leading ??= tryLead().finally(() => {
        leading = undefined;
      });
      return leading;
    },

    async loadFaults() {
      const [row] = await rows<{ settings: string }>(
        sql,
        'SELECT settings FROM cluster_faults WHERE id = 1',
        [],
      );
      return row ? (JSON.parse(row.settings) as SharedFaults) : undefined;
    },

    async saveFaults(settings) {
      await run(
        sql,
        `INSERT INTO cluster_faults (id, settings) VALUES (1, $1)
         ON CONFLICT (id) DO UPDATE SET settings = EXCLUDED.settings, saved_at = now()`,
        [JSON.stringify(settings)],
      );
    },

    async ping() {
      const began = performance.now();
      await sql`SELECT 1`;
      return Math.round((performance.now() - began) * 100) / 100;
    },

    close() {
      closing ??= (async () => {
        if (state === 'closed') return;
        state = 'closing';
        clearTimeout(beatTimer);
        await beating;
        await Promise.allSettled([...writing, leading]);
        try {
          await unlisten?.().catch(() => {});
          // Goes at once, not when the row expires; the lock too, before the connection ends,
          // so that another instance can lead as soon as this resolves.
          await run(
            sql,
            `WITH presence AS (DELETE FROM cluster_presence WHERE instance = $1)
             DELETE FROM cluster_instances WHERE id = $1`,
            [instanceId],
          );
          if (lease) await lease.unsafe('SELECT pg_advisory_unlock_all()');
        } finally {
          lease?.release();
          lease = undefined;
          state = 'closed';
          await endAll(5);
        }
      })();
      return closing;
    },

    async crash() {
      state = 'closed';
      clearTimeout(beatTimer);
      closing ??= Promise.resolve();
      await endAll(0);
    },
  };
  return cluster;
}

function codeOf(err: unknown): { code?: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? { code } : {};
}
