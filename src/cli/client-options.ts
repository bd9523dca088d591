/**
 * The options every client command shares: where the server is, how to authenticate, --json.
 * Only commander here: every command declares these, so `--help` loads this file (the client
 * itself is in client.ts, loaded when a command runs).
 */
import { type Command, Option } from 'commander';

export interface ClientFlags {
  url?: string;
  wsUrl?: string;
  apiUrl?: string;
  token?: string;
  header: string[];
  json?: boolean;
  ca?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Adds --url, --ws-url, --api-url, --token, -H and --json to a command. */
export function withClientOptions(command: Command): Command {
  return command
    .addOption(
      // No commander default: --ws-url or --api-url given alone names the server for both.
      new Option(
        '--url <url>',
        'server base URL (default: "http://localhost:8000"); wsUrl and apiUrl are derived from it',
      ).env('SHIFTCTL_URL'),
    )
    .option('--ws-url <url>', "WebSocket base (the app's wsUrl), e.g. ws://host:8000/ws")
    .option('--api-url <url>', "HTTP base (the app's apiUrl), e.g. http://host:8000/api")
    .addOption(
      new Option('--token <token>', 'sent as ?token= on the WebSocket and as a bearer header').env(
        'SHIFTCTL_TOKEN',
      ),
    )
    .option('-H, --header <header>', 'extra HTTP header "Name: value" (repeatable)', collect, [])
    .addOption(
      new Option('--ca <file>', 'trust this certificate (PEM), e.g. a self-signed one').env(
        'SHIFTCTL_CA',
      ),
    )
    .option('--json', 'print one JSON object per line');
}
