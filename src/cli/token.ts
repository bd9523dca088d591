/** `shiftctl token`: mint a signed token for an employee or an admin. */
import { type Command, Option } from 'commander';
import { signToken } from '../auth/token.js';
import { ShiftctlError } from '../errors.js';
import type { Stream } from './output.js';
import { durationSeconds, integerIn } from './parse.js';
import { secretOption, secretsOf } from './secrets.js';

interface TokenFlags {
  admin?: boolean;
  ttl: number;
  json?: boolean;
}

export function registerToken(program: Command): void {
  program
    .command('token')
    .description('mint a signed token for an employee (or an admin) of a server run with --secret')
    .argument('[emp_id]', 'the employee the token acts for', integerIn(1, Number.MAX_SAFE_INTEGER))
    .option('--admin', 'an admin token: test, admin and debug endpoints, any employee')
    .addOption(
      new Option(
        '--ttl <duration>',
        'how long it is valid, e.g. 12h or 30d; a bare number is seconds',
      )
        .argParser(durationSeconds(366 * 86_400))
        .default(12 * 3600, '12h'),
    )
    .addOption(secretOption("the server's secret (of several, the first signs)"))
    .option('--json', 'print {"token","emp_id","role","expires_at"} as one JSON line')
    .addHelpText(
      'after',
      `
The token goes to stdout alone, so it can be captured:
  $ export SHIFTCTL_SECRET=change-me
  $ TOKEN=$(shiftctl token 123)
  $ shiftctl listen 123 --token "$TOKEN"
  $ shiftctl send-offer 123 --shift 456 --token "$(shiftctl token --admin)"`,
    )
    .action(async (empId: number | undefined, flags: TokenFlags, command: Command) => {
      const secret = secretsOf(command)?.[0];
      if (secret === undefined) {
        throw new ShiftctlError(
          'E_USAGE',
          "Give the server's secret with --secret or SHIFTCTL_SECRET.",
        );
      }
      if (empId === undefined && !flags.admin) {
        throw new ShiftctlError('E_USAGE', 'Give an employee id, or --admin for an admin token.');
      }
      const role = flags.admin ? 'admin' : 'employee';
      const now = Date.now();
      const token = await signToken({ emp_id: empId, role }, secret, flags.ttl, now);
      const out: Stream = process.stdout;
      if (flags.json) {
        const expiresAt = new Date(Math.floor(now / 1000) * 1000 + flags.ttl * 1000).toISOString();
        out.write(
          `${JSON.stringify({ token, emp_id: empId ?? null, role, expires_at: expiresAt })}\n`,
        );
      } else {
        out.write(`${token}\n`);
      }
    });
}
