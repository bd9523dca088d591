/** Option parsers shared by commands: each turns a string into a value or a usage error. */
import { InvalidArgumentError } from 'commander';

export function integerIn(min: number, max: number) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    }
    const n = Number(value);
    if (n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

export function oneOf<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}.`);
    }
    return value as T;
  };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `200ms`, `30s`, `15m`, `2h`, `1d`, or a bare number of `bareUnit`s, as milliseconds. */
export function parseDuration(value: string, bareUnit: 'ms' | 's' = 's'): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) {
    throw new InvalidArgumentError('expected a duration such as 200ms, 30s, 15m or 2h.');
  }
  return Math.round(Number(match[1]) * (UNIT_MS[match[2] ?? bareUnit] ?? 1));
}

/** A duration option, in whole seconds (at least 1 s and at most `maxSeconds`). */
export function durationSeconds(maxSeconds: number) {
  return (value: string): number => {
    const seconds = Math.round(parseDuration(value) / 1000);
    if (seconds < 1 || seconds > maxSeconds) {
      throw new InvalidArgumentError(`expected a duration from 1s to ${maxSeconds}s.`);
    }
    return seconds;
  };
}

/**
 * A duration option from 0 to `maxSeconds`, in seconds kept to the millisecond (`500ms` is 0.5);
 * a bare number is seconds.
 */
export function secondsUpTo(maxSeconds: number) {
  return (value: string): number => {
    const ms = parseDuration(value);
    if (ms > maxSeconds * 1000) {
      throw new InvalidArgumentError(`expected a duration from 0 to ${maxSeconds}s.`);
    }
    return ms / 1000;
  };
}

/** Like `durationSeconds`, but `0` or `off` turns the limit off (as 0). */
export function durationSecondsOrOff(maxSeconds: number) {
  const parse = durationSeconds(maxSeconds);
  return (value: string): number => {
    const v = value.trim().toLowerCase();
    return v === 'off' || /^0+(\.0*)?\s*(ms|s|m|h|d)?$/.test(v) ? 0 : parse(value);
  };
}

/**
 * A duration option, in milliseconds, from `minMs` (0 unless given) to `maxMs`; a bare number
 * means milliseconds.
 */
export function durationMs(maxMs: number, minMs = 0) {
  return (value: string): number => {
    const ms = parseDuration(value, 'ms');
    if (ms > maxMs || ms < minMs) {
      throw new InvalidArgumentError(
        minMs > 0 ? `expected from ${minMs} to ${maxMs} ms.` : `expected at most ${maxMs} ms.`,
      );
    }
    return ms;
  };
}

/** A fraction from 0 to 1. */
export function fraction(value: string): number {
  const n = Number(value);
  if (!/^\d*\.?\d+$/.test(value.trim()) || n < 0 || n > 1) {
    throw new InvalidArgumentError('expected a number from 0 to 1, such as 0.1.');
  }
  return n;
}
