/**
 * The socket errors that mean the other end is not there (or went away), not a bug, with words
 * for each: one list for the client's messages, bench's "cannot reach", and the server's 503s
 * when PostgreSQL or Redis is away.
 */
const WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'unknown host',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
};

/** What a socket error code means, in words; undefined for a code that says something else. */
export function networkWords(code: string | undefined): string | undefined {
  return code === undefined ? undefined : WORDS[code];
}
