/**
 * The stores' median and p90 pick the values at the percentile's offsets in place,
 * without sorting every value: checked against a full sort (percentile_cont's definition) over
 * values drawn to be awkward: few distinct ones, runs of equals, sorted and reversed input.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/bench/random.js';
import { spreadOf } from '../src/store/stats-sql.js';
import { percentileCont } from './helpers.js';

describe('the median and p90 picked in place', () => {
  it('equal those of a full sort, for every size up to 200 and every shape of input', () => {
    const random = seededRandom(11);
    const shapes: Array<(n: number) => number[]> = [
      (n) => Array.from({ length: n }, () => Math.floor(random() * 1e6)),
      (n) => Array.from({ length: n }, () => Math.floor(random() * 3)),
      (n) => Array.from({ length: n }, (_, i) => i),
      (n) => Array.from({ length: n }, (_, i) => n - i),
      (n) => Array.from({ length: n }, () => 7),
      (n) => Array.from({ length: n }, () => Math.round((random() - 0.5) * 1e12)),
    ];
    for (let n = 1; n <= 200; n++) {
      for (const shape of shapes) {
        const values = shape(n);
        const spread = spreadOf(Float64Array.from(values), n);
        expect(spread.median, `n=${n} ${values.join(',')}`).toBe(percentileCont(values, 0.5));
        expect(spread.p90, `n=${n} ${values.join(',')}`).toBe(percentileCont(values, 0.9));
      }
    }
    expect(spreadOf(new Float64Array(4), 0)).toEqual({ median: null, p90: null });
  });
});
