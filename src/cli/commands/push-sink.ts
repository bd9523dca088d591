/** `shiftctl push-sink`: the declaration; the receiver is ../push-sink.ts. */
import { type Command, Option } from 'commander';
import { integerIn } from '../parse.js';
import type { PushSinkFlags } from '../push-sink.js';

export function registerPushSink(program: Command): void {
  program
    .command('push-sink')
    .description(
      'receive the push fallback webhook (serve --push-webhook) and show each push that would wake a phone',
    )
    .addOption(
      new Option('-p, --port <port>', 'TCP port (0 picks a free one)')
        .argParser(integerIn(0, 65535))
        .default(8099),
    )
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .addOption(
      new Option(
        '--secret <secret>',
        "check each push's signature with this (serve's --push-secret, else its first --secret); bad ones get 401",
      ).env('SHIFTCTL_PUSH_SECRET'),
    )
    .option(
      '--fail <n>',
      'answer 500 to the first n pushes, to watch the server retry them',
      integerIn(0, 1_000_000),
      0,
    )
    .option('--json', 'one JSON object per push')
    .addHelpText(
      'after',
      `
Prints the URL to give serve --push-webhook on stderr, then each push on stdout: the phone's
token, the notification, the data, and what it was answered. Pushes are answered as FCM
answers a send ({"name": ...}); with --secret, one without a valid signature is answered 401
and said loudly on stderr.

With --json, one object a line:
  {"received_at":"...","push_id":"456-123-...","attempt":1,"signature":"valid","answered":200,"message":{...}}

Examples:
  $ shiftctl push-sink
  $ shiftctl serve --db :memory: --push-webhook http://127.0.0.1:8099/ --push-after 5s
  $ shiftctl push-sink --secret "$PUSH_SECRET" --fail 2 --json`,
    )
    .action(async (flags: PushSinkFlags) => {
      const { pushSink } = await import('../push-sink.js');
      await pushSink(flags);
    });
}
