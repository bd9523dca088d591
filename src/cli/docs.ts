/** `shiftctl docs --out DIR`: write the OpenAPI and AsyncAPI documents of the contract. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ShiftctlError } from '../errors.js';
import { contractDocuments } from '../server/docs.js';

export function registerDocs(program: Command): void {
  program
    .command('docs')
    .description(
      'write openapi.json and asyncapi.json, the contract as shiftctl serve validates it',
    )
    .requiredOption('-o, --out <dir>', 'folder to write them to (created if missing)')
    .addHelpText('after', '\nExample:\n  $ shiftctl docs --out ./contract')
    .action(async (flags: { out: string }) => {
      const { openapi, asyncapi } = contractDocuments();
      try {
        await mkdir(flags.out, { recursive: true });
        for (const [name, doc] of [
          ['openapi.json', openapi],
          ['asyncapi.json', asyncapi],
        ] as const) {
          const file = join(flags.out, name);
          await writeFile(file, `${JSON.stringify(doc, null, 2)}\n`);
          process.stdout.write(`${file}\n`);
        }
      } catch (err) {
        throw new ShiftctlError(
          'E_USAGE',
          `Cannot write to ${flags.out}: ${(err as Error).message}`,
        );
      }
    });
}
