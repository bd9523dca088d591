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

/** Turn zod's issues into short `field: problem` lines a person can act on. */
export function describeIssues(error: z.ZodError): Issue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: humanise(issue),
  }));
}

function humanise(issue: z.core.$ZodIssue): string {
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
      if (issue.origin !== 'number') return issue.message;
      // `positive()` is "greater than 0", not "at least 0".
      return issue.inclusive === false
        ? `must be greater than ${issue.minimum}`
        : `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin !== 'number') return issue.message;
      return issue.inclusive === false
        ? `must be less than ${issue.maximum}`
        : `must be at most ${issue.maximum}`;
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
  const issues = describeIssues(result.error);
  const what = kind === 'body' ? 'request body' : kind === 'param' ? 'path parameter' : 'query';
  throw new ShiftctlError(CODE_FOR[kind], `Invalid ${what}: ${summariseIssues(issues)}`, {
    issues,
  });
}
