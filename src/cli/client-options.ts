/** The options every client command shares: where the server is, how to authenticate, --json. */
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { type ApiClient, createApiClient } from '../client/api.js';
import { type Endpoints, parseHeaders, resolveEndpoints } from '../client/endpoints.js';
import { ShiftctlError } from '../errors.js';

export interface ClientFlags {
  url?: string;
  wsUrl?: string;
  apiUrl?: string;
  token?: string;
  header: string[];
  json?: boolean;
  ca?: string;
}

export interface ClientContext {
  endpoints: Endpoints;
  api: ApiClient;
  token: string | undefined;
  headers: Record<string, string>;
  /** Extra trusted certificate (PEM), from --ca. */
  ca: string | undefined;
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

function readCa(file: string | undefined): string | undefined {
  if (!file) return undefined;
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ShiftctlError('E_USAGE', `Cannot read --ca ${file}: ${(err as Error).message}`);
  }
  // Checked here: a file that is not a certificate would otherwise surface as a TLS failure
  // to reach the server.
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ShiftctlError(
      'E_USAGE',
      `--ca ${file} is not a PEM certificate (no "-----BEGIN CERTIFICATE-----" line).`,
    );
  }
  return pem;
}

export function clientFrom(flags: ClientFlags, timeoutMs?: number): ClientContext {
  const endpoints = resolveEndpoints(flags);
  const headers = parseHeaders(flags.header);
  const ca = readCa(flags.ca);
  return {
    endpoints,
    headers,
    token: flags.token,
    ca,
    api: createApiClient({
      apiUrl: endpoints.apiUrl,
      token: flags.token,
      headers,
      ca,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    }),
  };
}
