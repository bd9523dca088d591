/**
 * The hand-written fast paths (src/protocol/fast.ts) against their zod schemas: whenever a fast
 * path answers, zod accepts the same input and returns the same value; and the usual inputs do
 * take the fast path (otherwise it would be dead code that this test could not fault).
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { seededRandom } from '../src/bench/random.js';
import { fastPathOf } from '../src/protocol/fast.js';
import {
  AdminShiftParams,
  EmpParams,
  RespondRequest,
  SendOfferQuery,
  ShiftParams,
} from '../src/protocol/schemas.js';
import { parse } from '../src/protocol/validate.js';

const NUMBERS = [1, 2, 42, 999, 2 ** 31, 2 ** 53 - 1, 2 ** 53, 0, -1, -0, 1.5, 1e21, Number.NaN];
const TEXTS = [
  '1',
  '42',
  '999',
  '9007199254740991',
  '9007199254740992',
  '9999999999999999',
  '99999999999999999',
  '0',
  '01',
  '-1',
  '1.0',
  '1e3',
  ' 1',
  '1 ',
  '',
  '０',
  '12a',
  '60',
  'accepted',
  'rejected',
  'Accepted',
  '2026-01-20T10:00:00.000',
  'x'.repeat(64),
  'x'.repeat(65),
];
const OTHERS = [null, true, false, [], [1], {}, { a: 1 }];

function valueFrom(next: () => number): unknown {
  const r = next();
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)] as T;
  if (r < 0.4) return pick(NUMBERS);
  if (r < 0.85) return pick(TEXTS);
  return pick(OTHERS);
}

/**
 * Objects over these keys (some left out, some extra), with values of every kind; half the time
 * a key gets one of its own likely values, so that valid inputs come up often.
 */
function inputsFor(keys: Record<string, readonly unknown[]>, count: number, seed: number) {
  const next = seededRandom(seed);
  const inputs: unknown[] = [null, [], 'x', 42, {}];
  for (let i = 0; i < count; i++) {
    const input: Record<string, unknown> = {};
    for (const [key, likely] of Object.entries(keys)) {
      if (next() >= 0.85) continue;
      input[key] = next() < 0.5 ? likely[Math.floor(next() * likely.length)] : valueFrom(next);
    }
    if (next() < 0.1) input.extra = valueFrom(next);
    if (next() < 0.02) Object.defineProperty(input, '__proto__', { value: 1, enumerable: true });
    inputs.push(input);
  }
  return inputs;
}

function holdsAgainstZod(schema: z.ZodType, inputs: unknown[]): number {
  const fast = fastPathOf(schema);
  expect(fast).toBeDefined();
  let taken = 0;
  for (const input of inputs) {
    const value = fast?.(input);
    if (value === undefined) continue;
    taken++;
    const checked = schema.safeParse(input);
    expect({ input, success: checked.success }).toEqual({ input, success: true });
    expect(value).toStrictEqual(checked.data);
  }
  return taken;
}

describe('fast paths agree with zod', () => {
  it('on answer bodies', () => {
    const inputs = inputsFor(
      {
        emp_id: [1, 101, 2 ** 53 - 1, 2 ** 53, 0, 1.5],
        shift_id: [456, 2 ** 53 - 1, -3],
        response: ['accepted', 'rejected', 'Accepted'],
        timestamp: [null, '2026-01-20T10:00:00.000', 'x'.repeat(64), 'x'.repeat(65), 5],
      },
      20_000,
      1,
    );
    expect(holdsAgainstZod(RespondRequest, inputs)).toBeGreaterThan(50);
    // What the app sends takes the fast path, with and without a timestamp.
    const usual = [
      { emp_id: 101, shift_id: 456, response: 'accepted', timestamp: '2026-01-20T10:00:00.000' },
      { emp_id: 101, shift_id: 456, response: 'rejected' },
      { emp_id: 101, shift_id: 456, response: 'accepted', timestamp: null },
    ];
    for (const body of usual) {
      expect(fastPathOf(RespondRequest)?.(body)).toStrictEqual(RespondRequest.parse(body));
    }
  });

  it('on id path parameters', () => {
    for (const [schema, key] of [
      [EmpParams, 'emp_id'],
      [ShiftParams, 'shift_id'],
      [AdminShiftParams, 'id'],
    ] as const) {
      const likely = ['1', '123', '9007199254740991', '9007199254740992', '0', '01'];
      expect(holdsAgainstZod(schema, inputsFor({ [key]: likely }, 5000, 2))).toBeGreaterThan(50);
      expect(fastPathOf(schema)?.({ [key]: '123' })).toEqual({ [key]: 123 });
    }
  });

  it("on the test endpoint's query", () => {
    const inputs = inputsFor(
      { shift_id: ['77', '0', '1e3'], ttl_seconds: ['60', '0', '99999999'] },
      10_000,
      3,
    );
    expect(holdsAgainstZod(SendOfferQuery, inputs)).toBeGreaterThan(50);
    expect(fastPathOf(SendOfferQuery)?.({})).toStrictEqual({});
    expect(fastPathOf(SendOfferQuery)?.({ shift_id: '77' })).toStrictEqual({ shift_id: 77 });
  });

  it('leaves what it cannot vouch for to zod, which explains it', () => {
    expect(fastPathOf(RespondRequest)?.({ emp_id: '5', shift_id: 1, response: 'accepted' })).toBe(
      undefined,
    );
    expect(() =>
      parse(RespondRequest, { emp_id: 0, shift_id: 1, response: 'maybe' }, 'body'),
    ).toThrow(/emp_id: must be greater than 0; response: must be one of "accepted", "rejected"/);
    expect(() => parse(EmpParams, { emp_id: '007' }, 'param')).toThrow(
      /emp_id: must be a positive integer/,
    );
  });
});
