/** The client a command talks to the server with, made from the shared client options. */
import { readFileSync } from 'node:fs';
import { type ApiClient, createApiClient } from '../client/api.js';
import { type Endpoints, parseHeaders, resolveEndpoints } from '../client/endpoints.js';
import { ShiftctlError } from '../errors.js';
import type { ClientFlags } from './client-options.js';

export interface ClientContext {
  endpoints: Endpoints;
  api: ApiClient;
  token: string | undefined;
  headers: Record<string, string>;
  /** Extra trusted certificate (PEM), from --ca. */
  ca: string | undefined;
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
