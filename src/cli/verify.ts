/**
 * `shiftctl verify`: check any backend against the shift-offer contract (PROTOCOL.md). Declared
 * in commands/verify.ts.
 */
import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { signToken } from '../auth/token.js';
import { EXIT, ShiftctlError } from '../errors.js';
import { CHECKS, type Level } from '../verify/checks.js';
import type { VerifyOptions } from '../verify/context.js';
import {
  formatResult,
  formatSummary,
  jsonResult,
  junitReport,
  summarise,
} from '../verify/report.js';
import { checksFor, runChecks } from '../verify/run.js';
import { clientFrom } from './client.js';
import type { ClientFlags } from './client-options.js';
import { io } from './io.js';
import { chalkFor } from './output.js';

export interface VerifyFlags extends ClientFlags {
  level: Level;
  sendCmd?: string;
  adminToken?: string;
  junit?: string;
  timeout: number;
  heartbeatWait?: number;
  only?: string[];
  list?: boolean;
  firstEmp?: number;
  firstShift?: number;
}

/** `--only`'s parser: known check ids, comma-separated. */
export function checkIds(value: string): string[] {
  const ids = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = ids.filter((id) => !CHECKS.some((c) => c.id === id));
  if (unknown.length > 0 || ids.length === 0) {
    throw new InvalidArgumentError(
      `Unknown check ${unknown.join(', ')}; the checks are ${CHECKS.map((c) => c.id).join(', ')}.`,
    );
  }
  return ids;
}

/** A random starting id, so runs against the same server never share employees or shifts. */
const randomId = () => 100_000_000 + Math.floor(Math.random() * 900_000_000);

/** verify's own tokens, minted with the secret, last the longest run of checks could take. */
const MINTED_TTL_SECONDS = 24 * 3600;

export async function verify(flags: VerifyFlags, secret?: string): Promise<number> {
  const out = io.stdout;
  const c = chalkFor(out);
  if (flags.list) {
    for (const check of checksFor(flags.level)) {
      if (flags.json) {
        out.write(
          `${JSON.stringify({ check: check.id, level: check.level, title: check.title, protocol: { file: 'PROTOCOL.md', line: check.clause.line } })}\n`,
        );
      } else {
        out.write(
          `${check.level.padEnd(6)} ${check.id.padEnd(26)} PROTOCOL.md:${String(check.clause.line).padEnd(3)} ${check.title}\n`,
        );
      }
    }
    return EXIT.OK;
  }
  const selected = checksFor(flags.level, flags.only);
  if (selected.length === 0) {
    throw new ShiftctlError(
      'E_USAGE',
      `--only ${flags.only?.join(',')} selects no check at --level ${flags.level}; use --level should.`,
    );
  }
  // With a secret and no token, verify acts as an admin of its own making (any employee, the
  // test endpoint, the admin API).
  const admin =
    secret === undefined
      ? undefined
      : await signToken({ role: 'admin' }, secret, MINTED_TTL_SECONDS);
  // HTTP calls wait as long as anything else may (at least the usual 10 s).
  const client = clientFrom(
    { ...flags, token: flags.token ?? admin },
    Math.max(flags.timeout, 10_000),
  );
  const options: VerifyOptions = {
    api: client.api,
    wsUrl: client.endpoints.wsUrl,
    token: client.token,
    headers: client.headers,
    ca: client.ca,
    timeoutMs: flags.timeout,
    firstEmpId: flags.firstEmp ?? randomId(),
    firstShiftId: flags.firstShift ?? randomId(),
    sendCmd: flags.sendCmd,
    adminToken: flags.adminToken ?? admin,
    secret,
    heartbeatWaitMs: flags.heartbeatWait,
  };
  // Unreachable or refused is one clear error, not a page of failed checks.
  const probe = await client.api.raw('GET', `/shift_offers/pending/${options.firstEmpId}`);
  if (probe.status === 401 || probe.status === 403) {
    const said = (probe.json as { message?: unknown } | undefined)?.message;
    throw new ShiftctlError(
      'E_REFUSED',
      `The server refused verify's requests (HTTP ${probe.status}${typeof said === 'string' ? `: ${said}` : ''}). Give --token, one that may act for any employee (with shiftctl serve: shiftctl token --admin), or the server's --secret.`,
    );
  }
  if (!flags.json) {
    out.write(
      `${c.bold('shiftctl verify')}  ${client.endpoints.wsUrl}  ${client.endpoints.apiUrl}  (level ${flags.level})\n\n`,
    );
  }
  const start = performance.now();
  const results = await runChecks(options, {
    level: flags.level,
    only: flags.only,
    onResult(result) {
      out.write(flags.json ? `${JSON.stringify(jsonResult(result))}\n` : formatResult(result, c));
    },
  });
  const summary = summarise(results, Math.round(performance.now() - start));
  if (flags.json) {
    out.write(`${JSON.stringify({ summary: { ...summary, level: flags.level } })}\n`);
  } else {
    out.write(formatSummary(summary, flags.level, c));
  }
  const skippedMust = results.filter(
    (r) => r.status === 'skip' && r.level === 'must' && !r.notApplicable,
  );
  if (skippedMust.length > 0) {
    io.stderr.write(
      `shiftctl: warning: ${skippedMust.length} "must" check${skippedMust.length > 1 ? 's were' : ' was'} skipped (${skippedMust.map((r) => r.id).join(', ')}): what the app needs was not all tested.\n`,
    );
  }
  if (flags.junit) {
    try {
      await writeFile(flags.junit, junitReport(results, summary, client.endpoints.apiUrl));
    } catch (err) {
      throw new ShiftctlError(
        'E_USAGE',
        `Cannot write the JUnit report to ${flags.junit}: ${(err as Error).message}`,
      );
    }
  }
  return summary.failed > 0 ? EXIT.FAILURE : EXIT.OK;
}
