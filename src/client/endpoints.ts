/** Where a client talks to: the app's `wsUrl` and `apiUrl`, derived the way its config does. */
import { ShiftctlError } from '../errors.js';

export const DEFAULT_URL = 'http://localhost:8000';

export interface EndpointOptions {
  /** Server base, e.g. `http://localhost:8000`; `wsUrl` and `apiUrl` are derived from it. */
  url?: string | undefined;
  wsUrl?: string | undefined;
  apiUrl?: string | undefined;
}

export interface Endpoints {
  /** e.g. `ws://localhost:8000/ws`; a client connects to `${wsUrl}/${emp_id}`. */
  wsUrl: string;
  /** e.g. `http://localhost:8000/api`. */
  apiUrl: string;
}

function parseUrl(value: string, what: string, protocols: string[]): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ShiftctlError('E_USAGE', `${what} is not a URL: ${value}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ShiftctlError(
      'E_USAGE',
      `${what} must start with ${protocols.map((p) => `${p}//`).join(' or ')}: ${value}`,
    );
  }
  return url;
}

const trimSlash = (s: string): string => s.replace(/\/+$/, '');

/** `http://host:8000/api` or `ws://host:8000/ws` (what `serve` prints) names the server at `host:8000`. */
function baseOf(url: URL): { secure: boolean; root: string } {
  const path = trimSlash(url.pathname).replace(/\/(api|ws)$/, '');
  return {
    secure: url.protocol === 'https:' || url.protocol === 'wss:',
    root: `${url.host}${path}`,
  };
}

/**
 * `--url http://host:8000` gives `ws://host:8000/ws` and `http://host:8000/api` (`https` gives
 * `wss`); `--url` also takes either address `serve` prints (`.../api`, `.../ws`). `--ws-url` and
 * `--api-url` override either one; given alone, one also sets the server for the other.
 */
export function resolveEndpoints(options: EndpointOptions): Endpoints {
  const ws = options.wsUrl ? parseUrl(options.wsUrl, '--ws-url', ['ws:', 'wss:']) : undefined;
  const api = options.apiUrl
    ? parseUrl(options.apiUrl, '--api-url', ['http:', 'https:'])
    : undefined;
  const base = baseOf(
    options.url !== undefined || (ws === undefined && api === undefined)
      ? parseUrl(options.url ?? DEFAULT_URL, '--url', ['http:', 'https:', 'ws:', 'wss:'])
      : ((api ?? ws) as URL),
  );
  return {
    wsUrl: ws ? trimSlash(ws.href) : `${base.secure ? 'wss' : 'ws'}://${base.root}/ws`,
    apiUrl: api ? trimSlash(api.href) : `${base.secure ? 'https' : 'http'}://${base.root}/api`,
  };
}

/** Parses repeated `-H "Name: value"` options into a header record. */
export function parseHeaders(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new ShiftctlError('E_USAGE', `-H expects "Name: value", got: ${line}`);
    }
    const value = line.slice(colon + 1).trim();
    // RFC 9110 field values: no control characters but tab (a newline would split the header).
    // biome-ignore lint/suspicious/noControlCharactersInRegex: these are what it refuses
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
      throw new ShiftctlError(
        'E_USAGE',
        `-H ${name}: a header value cannot hold control characters such as a newline.`,
      );
    }
    headers[name] = value;
  }
  return headers;
}
