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
  for (const found of error.issues.flatMap((issue) => explainUnion(issue, [], input))) {
    const path = found.path.map(String).join('.');
    const value = valueAt(input, found.path);
    const message =
      query && Array.isArray(value)
        ? 'must be given once'
        : 'message' in found
          ? found.message
          : humanise(found.issue, value, query);
    // An integer past the safe range fails two checks that say the same thing.
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path, message });
  }
  return issues;
}

type Found =
  | { path: PropertyKey[]; issue: z.core.$ZodIssue }
  | { path: PropertyKey[]; message: string };

/**
 * An issue, with its path from the top. An object that matches no branch of a union of objects
 * told apart by a field (a scenario step: `create_shift`, `offer`, `withdraw`...) is explained
 * by its fields, not zod's "Invalid input": the issues of the branch its field picks
 * (`steps.1.offer.emp_ids: is required`), or that it has two of those fields, or none.
 */
function explainUnion(issue: z.core.$ZodIssue, prefix: PropertyKey[], input: unknown): Found[] {
  const path = [...prefix, ...issue.path];
  if (issue.code !== 'invalid_union' || issue.errors.length < 2) return [{ path, issue }];
  const branches = issue.errors;
  // Not an object at all (a step that is a number): what each branch expected.
  const expected = branches.map((b) =>
    b.length === 1 && b[0]?.code === 'invalid_type' && b[0].path.length === 0
      ? b[0].expected
      : undefined,
  );
  if (expected.every((e) => e !== undefined) && !isMissing(issue, valueAt(input, path))) {
    const kinds = [...new Set(expected)].map((e) => article(e as string));
    return [{ path, message: `must be ${kinds.join(' or ')}` }];
  }
  const missing = branches.map(
    (branch) =>
      new Set(
        branch
          .filter((i) => i.path.length === 1 && isMissing(i, valueAt(input, [...path, ...i.path])))
          .map((i) => String(i.path[0])),
      ),
  );
  const unknown = branches.map(
    (branch) =>
      new Set(
        branch.flatMap((i) =>
          i.code === 'unrecognized_keys' && i.path.length === 0 ? i.keys : [],
        ),
      ),
  );
  const named = [...new Set([...missing, ...unknown].flatMap((set) => [...set]))];
  const inEvery = (sets: Set<string>[], key: string) => sets.every((set) => set.has(key));
  // The fields that pick a branch: missing or unknown in some branches, not in all.
  const choices = named.filter((k) => !inEvery(missing, k) && !inEvery(unknown, k));
  if (choices.length === 0) return [{ path, issue }];
  const given = choices.filter((k) => !missing.some((set) => set.has(k)));
  const strangers = named.filter((k) => inEvery(unknown, k));
  if (given.length === 1) {
    const key = given[0] as string;
    const index = branches.findIndex((_, i) => !missing[i]?.has(key) && !unknown[i]?.has(key));
    const branch = branches[index];
    if (branch) return branch.flatMap((i) => explainUnion(i, path, input));
  }
  const found: Found[] = [
    given.length > 1
      ? { path, message: `${given.join(' and ')} cannot be given together: give one of them` }
      : { path, message: `needs one of ${choices.join(', ')}` },
  ];
  if (strangers.length > 0) {
    found.push({
      path,
      message: `unknown field${strangers.length > 1 ? 's' : ''} ${strangers.join(', ')}`,
    });
  }
  return found;
}

/** Whether an issue is that of a field left out. */
function isMissing(issue: z.core.$ZodIssue, value: unknown): boolean {
  if (value !== ABSENT) return value === undefined;
  return issue.code === 'invalid_type' && issue.message.endsWith('received undefined');
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
  if (
    (issue.code === 'invalid_type' ||
      issue.code === 'invalid_value' ||
      issue.code === 'invalid_union') &&
    value === undefined
  ) {
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
