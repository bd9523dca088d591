/** Demo and test data: a file of employees and shifts, validated like any other input. */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { readJsonFile, validateFile } from './json-file.js';
import { Id, ShiftDetails, storedText } from './protocol/schemas.js';

export const FixtureFile = z
  .object({
    employees: z
      .array(
        z
          .object({
            id: Id,
            name: storedText(200).min(1),
            role: storedText(100).optional(),
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
  return validateFile(FixtureFile, input, source, 'fixtures');
}

export function readFixtures(path: string): Promise<FixtureData> {
  return readJsonFile(path, FixtureFile, 'fixtures');
}
