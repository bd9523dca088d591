/** Input files (fixtures, scenarios, offers): read, parsed and validated with clear errors. */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { type ErrorCode, ShiftctlError } from './errors.js';
import { describeIssues } from './protocol/validate.js';

/** Validates parsed JSON, naming the source and each problem (`field: problem`, up to 20). */
export function validateFile<S extends z.ZodType>(
  schema: S,
  input: unknown,
  source: string,
  what: string,
  code: ErrorCode = 'E_FIXTURES',
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const lines = describeIssues(result.error, input)
    .slice(0, 20)
    .map((i) => `  ${i.path || '(top level)'}: ${i.message}`);
  throw new ShiftctlError(code, `Invalid ${what} in ${source}:\n${lines.join('\n')}`);
}

/** Reads a JSON file and validates it; `what` names it in errors ("fixtures", "scenario"). */
export async function readJsonFile<S extends z.ZodType>(
  path: string,
  schema: S,
  what: string,
  code: ErrorCode = 'E_FIXTURES',
): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    const title = `${what[0]?.toUpperCase()}${what.slice(1)}`;
    throw new ShiftctlError(
      code,
      missing
        ? `${title} file not found: ${path}`
        : `Cannot read ${what} file ${path}: ${(err as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const title = `${what[0]?.toUpperCase()}${what.slice(1)}`;
    throw new ShiftctlError(
      code,
      // JSON.parse quotes the text it choked on, newlines and all: one line here.
      `${title} file ${path} is not valid JSON: ${(err as Error).message.replace(/\s+/g, ' ')}`,
    );
  }
  return validateFile(schema, json, path, what, code);
}
