/** `shiftctl docs --out DIR`: the declaration; the work is in ../docs.ts. */
import type { Command } from 'commander';

export function registerDocs(program: Command): void {
  program
    .command('docs')
    .description(
      'write openapi.json and asyncapi.json, the contract as shiftctl serve validates it',
    )
    .requiredOption('-o, --out <dir>', 'folder to write them to (created if missing)')
    .addHelpText('after', '\nExample:\n  $ shiftctl docs --out ./contract')
    .action(async (flags: { out: string }) => {
      const { writeDocs } = await import('../docs.js');
      await writeDocs(flags.out);
    });
}
