/** `shiftctl token`: mint a signed token for an employee or an admin. */
import { signToken } from '../auth/token.js';
import { ShiftctlError } from '../errors.js';
import { io } from './io.js';

export interface TokenFlags {
  admin?: boolean;
  ttl: number;
  json?: boolean;
}

/** Mints the token with `secret`, the first --secret given (undefined: none was). */
export async function mintToken(
  empId: number | undefined,
  flags: TokenFlags,
  secret: string | undefined,
): Promise<void> {
  if (secret === undefined) {
    throw new ShiftctlError(
      'E_USAGE',
      "Give the server's secret with --secret or SHIFTCTL_SECRET.",
    );
  }
  if (empId === undefined && !flags.admin) {
    throw new ShiftctlError('E_USAGE', 'Give an employee id, or --admin for an admin token.');
  }
  if (empId !== undefined && flags.admin) {
    throw new ShiftctlError(
      'E_USAGE',
      'An admin token acts for every employee: give --admin or an employee id, not both.',
    );
  }
  const role = flags.admin ? 'admin' : 'employee';
  const now = Date.now();
  const token = await signToken({ emp_id: empId, role }, secret, flags.ttl, now);
  const out = io.stdout;
  if (flags.json) {
    const expiresAt = new Date(Math.floor(now / 1000) * 1000 + flags.ttl * 1000).toISOString();
    out.write(`${JSON.stringify({ token, emp_id: empId ?? null, role, expires_at: expiresAt })}\n`);
  } else {
    out.write(`${token}\n`);
  }
}
