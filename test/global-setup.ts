/**
 * Tests write only in temporary directories: the run fails if it left anything new at the
 * top of the repository (a `serve` without `--db` once wrote ./shiftctl.db there).
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export default function setup(): () => void {
  const before = new Set(readdirSync(ROOT));
  return () => {
    const added = readdirSync(ROOT).filter((name) => !before.has(name));
    if (added.length > 0) {
      // A thrown error here is printed but does not fail the run: set the exit code as well.
      process.exitCode = 1;
      throw new Error(`The tests wrote ${added.join(', ')} in the repository; use a temp dir.`);
    }
  };
}
