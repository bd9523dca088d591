/**
 * Who is at the other end of a request: the peer, or, behind a proxy the operator names
 * (`serve --trust-proxy`), the address that proxy says it forwarded the request for.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { ShiftctlError } from '../errors.js';

/** The client address of a request, for rate limits and logs. */
export type ClientAddress = (req: IncomingMessage) => string | undefined;

const peerAddress: ClientAddress = (req) => req.socket.remoteAddress;

/**
 * Trusted proxies as a block list: IP addresses, CIDR ranges (`10.0.0.0/8`, `fd00::/8`) and
 * `loopback` (127.0.0.0/8 and ::1). Throws `E_USAGE` naming the first entry that is none of these.
 */
export function parseTrustedProxies(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    if (entry === 'loopback') {
      list.addSubnet('127.0.0.0', 8, 'ipv4');
      list.addAddress('::1', 'ipv6');
      continue;
    }
    const [address = '', bits, extra] = entry.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined || (bits !== undefined && !/^\d{1,3}$/.test(bits))) {
      throw new ShiftctlError(
        'E_USAGE',
        `Cannot trust "${entry}" as a proxy: give IP addresses, CIDR ranges (10.0.0.0/8) or loopback.`,
      );
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) {
      list.addAddress(address, type);
    } else if (Number(bits) <= max) {
      list.addSubnet(address, Number(bits), type);
    } else {
      throw new ShiftctlError(
        'E_USAGE',
        `Cannot trust "${entry}" as a proxy: an IPv${family} prefix is at most /${max}.`,
      );
    }
  }
  return list;
}

/**
 * How a request's client address is found. Without trusted proxies it is the peer's. With
 * them, when the peer is one, it is the right-most `X-Forwarded-For` address that is not itself
 * a trusted proxy: entries further left were written by the client and prove nothing. A header
 * that cannot be read up to that address leaves the peer's.
 */
export function createClientAddress(trustedProxies: readonly string[] = []): ClientAddress {
  if (trustedProxies.length === 0) return peerAddress;
  const trusted = parseTrustedProxies(trustedProxies);
  const isTrusted = (address: string): boolean => {
    const family = isIP(address);
    return family !== 0 && trusted.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
  return (req) => {
    const peer = req.socket.remoteAddress;
    const header = req.headers['x-forwarded-for'];
    if (peer === undefined || header === undefined || !isTrusted(peer)) return peer;
    const hops = (Array.isArray(header) ? header.join(',') : header).split(',');
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = (hops[i] as string).trim();
      if (isIP(hop) === 0) return peer;
      client = hop;
      if (!isTrusted(hop)) return hop;
    }
    // Every hop is a proxy the operator trusts: the furthest one is as near the client as it gets.
    return client;
  };
}
