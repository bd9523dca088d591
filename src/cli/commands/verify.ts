/** `shiftctl verify`: the declaration; the checks are run by ../verify.ts. */
import { type Command, Option } from 'commander';
import { withClientOptions } from '../client-options.js';
import { durationMs, integerIn, oneOf } from '../parse.js';
import { secretOption, secretsOf } from '../secrets.js';
import type { VerifyFlags } from '../verify.js';
import { loadedBeforeParsing } from './lazy.js';

const ID_MAX = 2_000_000_000;

export function registerVerify(program: Command): void {
  const command = program
    .command('verify')
    .description('check a backend against the shift-offer contract the app relies on');
  // --only is checked against the list of checks, so that list is loaded before it is parsed.
  const implementation = loadedBeforeParsing(program, command, () => import('../verify.js'));
  withClientOptions(command)
    .addOption(
      new Option('--level <level>', '"must": only what the app needs; "should": also the rest')
        .argParser(oneOf(['must', 'should'] as const))
        .default('should'),
    )
    .option(
      '--send-cmd <command>',
      'create each offer by running this shell command (with SHIFTCTL_EMP_ID and SHIFTCTL_SHIFT_ID set) instead of the test endpoint',
    )
    .addOption(
      new Option('--admin-token <token>', 'operator token, for the reconnect check').env(
        'SHIFTCTL_ADMIN_TOKEN',
      ),
    )
    .option('--junit <file>', 'also write a JUnit XML report to this file (for CI)')
    .addOption(
      new Option(
        '--timeout <duration>',
        'longest wait for any one thing, e.g. 5s or 500ms; a bare number is milliseconds',
      )
        // Shorter than a round trip fails every check and blames the backend for it.
        .argParser(durationMs(120_000, 100))
        .default(5000, '5s'),
    )
    .addOption(
      new Option(
        '--heartbeat-wait <duration>',
        'run the heartbeat check: how long the backend may take to close a socket that answers no ping (e.g. 60s, twice its heartbeat interval)',
      ).argParser(durationMs(600_000, 100)),
    )
    .addOption(
      secretOption(
        "the backend's secret (shiftctl's tokens): verify mints its own admin token with it, and employee tokens for the auth checks",
      ),
    )
    .option('--only <ids>', 'run only these checks (comma-separated ids)', (value: string) =>
      implementation().checkIds(value),
    )
    .option('--list', 'list the checks and exit')
    .option('--first-emp <id>', 'first employee id to use (default: random)', integerIn(1, ID_MAX))
    .option('--first-shift <id>', 'first shift id to use (default: random)', integerIn(1, ID_MAX))
    .addHelpText(
      'after',
      `
Each check is a small scenario through the same WebSocket and HTTP clients as "listen".
Offers are created with the seed's test endpoint (POST {apiUrl}/test/send_offer/{emp_id}),
or by --send-cmd. Checks a backend cannot support are skipped with the reason, not failed.
Every check uses fresh employee and shift ids, so a staging server's data is left alone.
With --token or --secret, the auth checks prove requests without a token get 401; with
--secret, also that one employee's token is refused for another (403). The heartbeat check
runs only with --heartbeat-wait: a real heartbeat can take a minute to drop a dead socket.

Exit codes: 0 no check failed, 1 a check failed, 2 usage, 3 server unreachable,
4 refused (a token is needed).

Examples:
  $ shiftctl verify --url http://localhost:8000
  $ shiftctl verify --url https://staging.example.org --token "$TOKEN" --level must --junit verify.xml
  $ SHIFTCTL_SECRET=... shiftctl verify --url http://localhost:8000 --heartbeat-wait 60s
  $ shiftctl verify --url http://localhost:8000 --send-cmd './make-offer.sh "$SHIFTCTL_EMP_ID" "$SHIFTCTL_SHIFT_ID"'
  $ shiftctl verify --list`,
    )
    .action(async (flags: VerifyFlags, self: Command) => {
      process.exitCode = await implementation().verify(flags, secretsOf(self)?.[0]);
    });
}
