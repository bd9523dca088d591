/** Runs the checks one after the other, each in a fresh context, and says how each went. */
import { isShiftctlError } from '../errors.js';
import { CHECKS, type Check, type Level } from './checks.js';
import type { Clause } from './clauses.js';
import {
  CheckFailed,
  CheckSkipped,
  contextFactory,
  Timeout,
  type VerifyOptions,
  within,
} from './context.js';

export interface CheckResult {
  id: string;
  title: string;
  level: Level;
  status: 'pass' | 'fail' | 'skip';
  ms: number;
  /** What went wrong, or why the check was skipped. */
  message?: string;
  expected?: string;
  actual?: string;
  /** The line of PROTOCOL.md broken (or enforced, when it passed). */
  clause: Clause;
  /** Skipped because there was nothing to test (not a gap in what was tested). */
  notApplicable?: true;
}

export interface RunOptions {
  level: Level;
  /** Only these check ids (all of the level when empty). */
  only?: readonly string[];
  onResult?: (result: CheckResult) => void;
}

/** The checks a level includes: `must` alone, or `should` with them. */
export function checksFor(level: Level, only: readonly string[] = []): Check[] {
  return CHECKS.filter(
    (c) => (level === 'should' || c.level === 'must') && (only.length === 0 || only.includes(c.id)),
  );
}

export async function runChecks(options: VerifyOptions, run: RunOptions): Promise<CheckResult[]> {
  const fresh = contextFactory(options);
  const results: CheckResult[] = [];
  for (const check of checksFor(run.level, run.only)) {
    const ctx = fresh();
    const start = performance.now();
    const base = { id: check.id, title: check.title, level: check.level, clause: check.clause };
    let result: CheckResult;
    try {
      // A check waits on several things; the whole of it gets a few timeouts' worth, unless it
      // says it needs longer (the heartbeat check waits for the backend's heartbeat).
      const budget = check.budgetMs?.(options) ?? options.timeoutMs * 6;
      await within(check.run(ctx), `check ${check.id} to finish`, budget);
      result = { ...base, status: 'pass', ms: 0 };
    } catch (err) {
      result = { ...base, ...outcomeOf(err), ms: 0 };
      if (err instanceof CheckFailed && err.clause) result.clause = err.clause;
    } finally {
      ctx.dispose();
    }
    result.ms = Math.round(performance.now() - start);
    results.push(result);
    run.onResult?.(result);
  }
  await withdrawShifts(options, fresh.shiftsUsed());
  return results;
}

/**
 * Leaves a shared server as it was found, where the backend has the admin API: every shift the
 * checks offered and nobody took is withdrawn (its holders are told). Anything else (no such
 * API, a shift never created, one already assigned) is left alone, silently.
 */
async function withdrawShifts(options: VerifyOptions, shiftIds: number[]): Promise<void> {
  const headers: Record<string, string> = options.adminToken
    ? { authorization: `Bearer ${options.adminToken}` }
    : {};
  for (const shiftId of shiftIds) {
    const res = await options.api
      .raw('POST', `/admin/shifts/${shiftId}/withdraw`, undefined, { headers })
      .catch(() => undefined);
    // No admin API here (or not for this token): the rest would be refused the same way.
    if (!res || res.status === 401 || res.status === 403 || res.status === 405) return;
    if (
      res.status === 404 &&
      (res.json as { code?: unknown } | undefined)?.code !== 'E_SHIFT_NOT_FOUND'
    ) {
      return;
    }
  }
}

function outcomeOf(
  err: unknown,
): Pick<CheckResult, 'status' | 'message' | 'expected' | 'actual' | 'notApplicable'> {
  if (err instanceof CheckSkipped) {
    return {
      status: 'skip',
      message: err.message,
      ...(err.notApplicable ? { notApplicable: true as const } : {}),
    };
  }
  if (err instanceof CheckFailed) {
    return { status: 'fail', message: err.message, expected: err.expected, actual: err.actual };
  }
  if (err instanceof Timeout) {
    return {
      status: 'fail',
      message: `timed out waiting for ${err.what}`,
      actual: `nothing within ${err.ms} ms`,
    };
  }
  if (isShiftctlError(err)) return { status: 'fail', message: err.message };
  return {
    status: 'fail',
    message: `the check itself failed: ${(err as Error).message ?? String(err)}`,
  };
}
