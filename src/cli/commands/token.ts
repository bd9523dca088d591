/** `shiftctl token`: the declaration; the signing is in ../token.ts. */
import { type Command, Option } from 'commander';
import { durationSeconds, integerIn } from '../parse.js';
import { secretOption, secretsOf } from '../secrets.js';
import type { TokenFlags } from '../token.js';

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
      const { mintToken } = await import('../token.js');
      await mintToken(empId, flags, secretsOf(command)?.[0]);
    });
}
