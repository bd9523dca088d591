/** Option parsers shared by commands: each turns a string into a value or a usage error. */
import { InvalidArgumentError } from 'commander';

export function integerIn(min: number, max: number) {
  // An id's limit (2^53 - 1) is no limit a person needs to read.
  const range =
    max >= Number.MAX_SAFE_INTEGER
      ? min === 1
        ? 'a whole number from 1 up'
        : `a whole number from ${min} up`
      : `a whole number from ${min} to ${max}`;
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`Expected ${range}.`);
    }
    return n;
  };
}

export function oneOf<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`Expected one of ${choices.join(', ')}.`);
    }
    return value as T;
  };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `ms` in the largest unit that holds it whole: 2592000000 is `30d`, 300000 `5m`, 150 `150ms`. */
export function durationText(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit] as number;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** `200ms`, `30s`, `15m`, `2h`, `1d`, or a bare number of `bareUnit`s, as milliseconds. */
export function parseDuration(value: string, bareUnit: 'ms' | 's' = 's'): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) {
    throw new InvalidArgumentError('Expected a duration such as 200ms, 30s, 15m or 2h.');
  }
  return Math.round(Number(match[1]) * (UNIT_MS[match[2] ?? bareUnit] ?? 1));
}

/** A duration option, in whole seconds (at least 1 s and at most `maxSeconds`). */
export function durationSeconds(maxSeconds: number) {
  return (value: string): number => {
    const seconds = Math.round(parseDuration(value) / 1000);
    if (seconds < 1 || seconds > maxSeconds) {
      throw new InvalidArgumentError(
        `Expected a duration from 1s to ${durationText(maxSeconds * 1000)}.`,
      );
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
      throw new InvalidArgumentError(
        `Expected a duration from 0 to ${durationText(maxSeconds * 1000)}.`,
      );
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
        minMs > 0
          ? `Expected a duration from ${durationText(minMs)} to ${durationText(maxMs)}.`
          : `Expected a duration of at most ${durationText(maxMs)}.`,
      );
    }
    return ms;
  };
}

/** A fraction from 0 to 1. */
export function fraction(value: string): number {
  const n = Number(value);
  if (!/^\d*\.?\d+$/.test(value.trim()) || n < 0 || n > 1) {
    throw new InvalidArgumentError('Expected a number from 0 to 1, such as 0.1.');
  }
  return n;
}
