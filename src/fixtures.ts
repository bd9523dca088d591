/** Demo and test data: a file of employees and shifts, validated like any other input. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ShiftctlError } from './errors.js';
import { Id, ShiftDetails } from './protocol/schemas.js';
import { describeIssues } from './protocol/validate.js';

export const FixtureFile = z
  .object({
    employees: z
      .array(
        z
          .object({
            id: Id,
            name: z.string().min(1).max(200),
            role: z.string().max(100).optional(),
          })
          .strict(),
      )
      .default([]),
    shifts: z
      .array(
        ShiftDetails.extend({
          id: Id,
          offer_to: z.array(Id).optional(),
        }).strict(),
      )
      .default([]),
  })
  .strict()
  .superRefine((data, ctx) => {
    const seen = new Set<number>();
    data.shifts.forEach((s, i) => {
      if (seen.has(s.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['shifts', i, 'id'],
          message: `duplicate shift id ${s.id}`,
        });
      }
      seen.add(s.id);
    });
  });
export type FixtureData = z.output<typeof FixtureFile>;

/** The demo data that `shiftctl serve` loads into an empty database. */
export const DEMO_FIXTURES_PATH = fileURLToPath(new URL('../fixtures/demo.json', import.meta.url));

/** Validates fixture data, naming the file and every problem in it. */
export function parseFixtures(input: unknown, source: string): FixtureData {
  const result = FixtureFile.safeParse(input);
  if (result.success) return result.data;
  const lines = describeIssues(result.error)
    .slice(0, 20)
    .map((i) => `  ${i.path || '(top level)'}: ${i.message}`);
  throw new ShiftctlError('E_FIXTURES', `Invalid fixtures in ${source}:\n${lines.join('\n')}`);
}

export async function readFixtures(path: string): Promise<FixtureData> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ShiftctlError(
      'E_FIXTURES',
      code === 'ENOENT'
        ? `Fixtures file not found: ${path}`
        : `Cannot read fixtures file ${path}: ${(err as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ShiftctlError(
      'E_FIXTURES',
      `Fixtures file ${path} is not valid JSON: ${(err as Error).message}`,
    );
  }
  return parseFixtures(json, path);
}
