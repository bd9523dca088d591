/**
 * Errors that say a dependency is away (PostgreSQL or Redis unreachable, a connection cut, a
 * server shutting down), not that a request or the code is wrong. A request that meets one is
 * answered 503 `E_UNAVAILABLE` (try again, perhaps on another instance), never 500; the log gets
 * a line without a stack (src/server/failures.ts): there is no bug to chase.
 */
import { ShiftctlError } from './errors.js';
import { networkWords } from './network-errors.js';

/** postgres.js's codes for a connection that could not be made or was lost. */
const POSTGRES_JS_CODES = new Set([
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

/**
 * PostgreSQL's SQLSTATEs for a server that cannot take the statement now: connection exceptions
 * (class 08), too many connections, and an operator's intervention (shutdown, a crash restart,
 * a server still starting).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|53300|57P0[1-4])$/;

/** ioredis's messages for a command that met no connection (its errors carry no code). */
const REDIS_AWAY =
  /^(Connection is closed\.|Stream isn't writeable|Reached the max retries per request limit|Command timed out)/;

export type Away = 'the database' | 'Redis' | 'the database or Redis';

/** Which dependency `err` says is away, or undefined when it says something else. */
export function awayDependency(err: unknown): Away | undefined {
  if (err instanceof ShiftctlError) return err.code === 'E_REDIS' ? 'Redis' : undefined;
  if (!(err instanceof Error)) return undefined;
  const { code, name } = err as { code?: unknown; name?: string };
  if (name === 'MaxRetriesPerRequestError' || REDIS_AWAY.test(err.message)) return 'Redis';
  if (typeof code !== 'string') return undefined;
  if (POSTGRES_JS_CODES.has(code)) return 'the database';
  if (name === 'PostgresError' && UNAVAILABLE_SQLSTATE.test(code)) return 'the database';
  if (networkWords(code)) return 'the database or Redis';
  return undefined;
}

/** The 503 `E_UNAVAILABLE` a request gets when `away` is away: it names it, not its address. */
export function unavailableError(away: Away): ShiftctlError {
  return new ShiftctlError(
    'E_UNAVAILABLE',
    `The server cannot reach ${away} just now. Try again shortly.`,
  );
}

/** `err` as that 503 when it says a dependency is away; undefined otherwise. */
export function unavailable(err: unknown): ShiftctlError | undefined {
  const away = awayDependency(err);
  return away && unavailableError(away);
}
