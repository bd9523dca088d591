/**
 * Scenario files: a scripted session (create these shifts, offer them to these employees in
 * this mode at these times, inject this fault) that `serve --scenario FILE` plays on the
 * server's clock. Validated like any other input.
 */
import { z } from 'zod';
import { readJsonFile, validateFile } from './json-file.js';
import { CreateShiftRequest, FaultSettingsRequest, Id, TtlSeconds } from './protocol/schemas.js';

const UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** `0`, `90`, `"30s"`, `"2m"`, `"1h"`: seconds after the server starts. */
const At = z
  .union([
    z
      .number()
      .min(0)
      .max(7 * 86_400),
    z
      .string()
      .regex(/^\d+(\.\d+)?(s|m|h)$/, 'must be seconds, or a duration such as "30s", "2m", "1h"'),
  ])
  .transform((v) =>
    typeof v === 'number' ? v : Number.parseFloat(v) * (UNIT_S[v.slice(-1)] ?? 1),
  );

const Step = z.union([
  z.object({ at: At, note: z.string().optional(), create_shift: CreateShiftRequest }).strict(),
  z
    .object({
      at: At,
      note: z.string().optional(),
      offer: z
        .object({ shift_id: Id, emp_ids: z.array(Id).min(1), ttl_seconds: TtlSeconds.optional() })
        .strict(),
    })
    .strict(),
  z.object({ at: At, note: z.string().optional(), withdraw: Id }).strict(),
  z.object({ at: At, note: z.string().optional(), kick: Id }).strict(),
  z.object({ at: At, note: z.string().optional(), fault: FaultSettingsRequest }).strict(),
]);
export type ScenarioStep = z.output<typeof Step>;

export const ScenarioFile = z
  .object({
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    steps: z.array(Step).min(1).max(10_000),
  })
  .strict();
export type Scenario = z.output<typeof ScenarioFile>;

export function parseScenario(input: unknown, source: string): Scenario {
  return validateFile(ScenarioFile, input, source, 'scenario');
}

export function readScenario(path: string): Promise<Scenario> {
  return readJsonFile(path, ScenarioFile, 'scenario');
}
