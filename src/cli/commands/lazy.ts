/**
 * Each command's declaration (its arguments, options and help) is in this folder and loads only
 * commander and small parsers; its implementation, with the libraries it needs (express, ws,
 * SQLite, zod, ...), is imported when the command runs. So `shiftctl --help` loads none of them.
 */
import type { Command } from 'commander';

/**
 * For a command whose option parsers need its implementation (a schema, a list of checks):
 * loads it once the program has chosen `command`, before commander parses the command's
 * arguments, and returns what was loaded. Needs `parseAsync`, which `run` uses.
 */
export function loadedBeforeParsing<T>(
  program: Command,
  command: Command,
  load: () => Promise<T>,
): () => T {
  let loaded: T | undefined;
  program.hook('preSubcommand', async (_program, chosen) => {
    if (chosen === command && loaded === undefined) loaded = await load();
  });
  return () => {
    if (loaded === undefined) {
      throw new Error(`shiftctl ${command.name()}: parsed before its module was loaded`);
    }
    return loaded;
  };
}
