/**
 * Scenario files: a scripted session (create these shifts, offer them to these employees in
 * this mode at these times, inject this fault) that `serve --scenario FILE` plays on the
 * server's clock. Validated like any other input.
 */
import { z } from 'zod';
import { readJsonFile, validateFile } from './json-file.js';
import {
  CreateShiftRequest,
  FaultSettingsRequest,
  Id,
  registry,
  TtlSeconds,
} from './protocol/schemas.js';

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
  .strict()
  .meta({
    id: 'Scenario',
    examples: [
      {
        name: 'Night cover',
        steps: [
          {
            at: '2s',
            note: 'Two nurses asked at once',
            create_shift: {
              date: '2026-12-01',
              start_time: '22:00',
              end_time: '07:00',
              location_name: 'Maple Grove Care Home',
              offer_to: [101, 102],
            },
          },
          { at: '30s', fault: { drop_rate: 0.5 } },
          { at: '1m', kick: 101 },
        ],
      },
    ],
    description:
      'A scripted session (the format of `serve --scenario`): steps at seconds, or durations such as "30s", after it starts.',
  });
export type Scenario = z.output<typeof ScenarioFile>;

export const ScenarioStarted = z
  .object({
    name: z.string(),
    steps: z.number().int(),
    last_step_in_s: z.number().describe('Seconds until the last step plays.'),
  })
  .meta({
    id: 'ScenarioStarted',
    examples: [{ name: 'Night cover', steps: 3, last_step_in_s: 60 }],
    description: 'The scenario is playing, on the server, from now.',
  });
export type ScenarioStarted = z.output<typeof ScenarioStarted>;

for (const schema of [ScenarioFile, ScenarioStarted]) {
  const meta = z.globalRegistry.get(schema);
  if (meta?.id) registry.add(schema, { id: meta.id, description: meta.description });
}

export function parseScenario(input: unknown, source: string): Scenario {
  return validateFile(ScenarioFile, input, source, 'scenario');
}

export function readScenario(path: string): Promise<Scenario> {
  return readJsonFile(path, ScenarioFile, 'scenario');
}
