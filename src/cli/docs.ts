/** `shiftctl docs --out DIR`: write the OpenAPI and AsyncAPI documents of the contract. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ShiftctlError } from '../errors.js';
import { contractDocuments } from '../server/docs.js';
import { io } from './io.js';

export async function writeDocs(dir: string): Promise<void> {
  const { openapi, asyncapi } = contractDocuments();
  try {
    await mkdir(dir, { recursive: true });
    for (const [name, doc] of [
      ['openapi.json', openapi],
      ['asyncapi.json', asyncapi],
    ] as const) {
      const file = join(dir, name);
      await writeFile(file, `${JSON.stringify(doc, null, 2)}\n`);
      io.stdout.write(`${file}\n`);
    }
  } catch (err) {
    throw new ShiftctlError('E_USAGE', `Cannot write to ${dir}: ${(err as Error).message}`);
  }
}
