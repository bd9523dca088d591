import type { z } from 'zod';
import { type ErrorCode, ShiftctlError } from '../errors.js';
import { fastPathOf } from './fast.js';

const CODE_FOR: Record<'body' | 'param' | 'query', ErrorCode> = {
  body: 'E_INVALID_BODY',
  param: 'E_INVALID_PARAM',
  query: 'E_INVALID_QUERY',
};

export interface Issue {
  path: string;
  message: string;
}

const ABSENT = Symbol('absent');

/**
 * Turn zod's issues into short `field: problem` lines a person can act on, one per problem.
 * With the input, a missing field says so whatever its type; for a query, a parameter given
 * twice says that.
 */
export function describeIssues(error: z.ZodError, input: unknown = ABSENT, query = false): Issue[] {
  const seen = new Set<string>();
  const issues: Issue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.');
    const message = humanise(issue, valueAt(input, issue.path), query);
    // An integer past the safe range fails two checks that say the same thing.
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path, message });
  }
  return issues;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return ABSENT;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

const UNITS: Partial<Record<string, string>> = { string: 'characters', array: 'items' };

function humanise(issue: z.core.$ZodIssue, value: unknown, query: boolean): string {
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_value') && value === undefined) {
    return 'is required';
  }
  // A query parameter given twice arrives as a list (no query parameter takes one).
  if (query && Array.isArray(value)) return 'must be given once';
  switch (issue.code) {
    case 'invalid_type':
      // zod leaves the input out of issues; its message names what it received.
      return issue.message.endsWith('received undefined')
        ? 'is required'
        : `must be ${article(issue.expected)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
    case 'too_small':
    case 'too_big': {
      const unit = UNITS[issue.origin];
      if (unit === undefined && issue.origin !== 'number' && issue.origin !== 'int') {
        return issue.message;
      }
      const limit = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const suffix = unit ? ` ${limit === 1 ? unit.slice(0, -1) : unit}` : '';
      // `positive()` is "greater than 0", not "at least 0".
      if (issue.code === 'too_small') {
        return issue.inclusive === false
          ? `must be greater than ${limit}${suffix}`
          : `must be at least ${limit}${suffix}`;
      }
      return issue.inclusive === false
        ? `must be less than ${limit}${suffix}`
        : `must be at most ${limit}${suffix}`;
    }
    default:
      return issue.message;
  }
}

function article(expected: string): string {
  if (expected === 'int') return 'an integer';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** One line naming every problem, e.g. `emp_id: must be an integer; response: is required`. */
export function summariseIssues(issues: Issue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
}

/**
 * Parse, don't trust: returns the typed value or throws a ShiftctlError with a stable code,
 * a readable message and the issues as details.
 */
export function parse<S extends z.ZodType>(
  schema: S,
  input: unknown,
  kind: 'body' | 'param' | 'query',
): z.output<S> {
  // A hand-written check first, where the schema has one (see fast.ts): it vouches for the
  // usual valid inputs and leaves everything else, and every explanation, to zod.
  const fast = fastPathOf(schema)?.(input);
  if (fast !== undefined) return fast;
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = describeIssues(result.error, input, kind === 'query');
  const what = kind === 'body' ? 'request body' : kind === 'param' ? 'path parameter' : 'query';
  throw new ShiftctlError(CODE_FOR[kind], `Invalid ${what}: ${summariseIssues(issues)}`, {
    issues,
  });
}
