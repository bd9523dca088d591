/**
 * `serve`'s options as parsed, without starting a server: the program is built as the binary
 * builds it, with the action replaced by one that keeps what it was given. Checks made while
 * parsing (the hooks before the action) still run; a refusal rejects as it would in a run.
 */
import type { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import type { ServeFlags } from '../src/cli/serve.js';
import { inProcessWithEnv } from './in-process.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

/** `shiftctl serve ...args` parsed with `env` added to the user's environment. */
async function parsed(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ flags: ServeFlags; command: Command }> {
  for (const key of Object.keys(process.env)) {
    if (key.startsWith('SHIFTCTL_') && !(key in env)) vi.stubEnv(key, undefined);
  }
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  const program = buildProgram();
  const serve = program.commands.find((c) => c.name() === 'serve') as Command;
  let got: { flags: ServeFlags; command: Command } | undefined;
  serve.action((flags: ServeFlags, command: Command) => {
    got = { flags, command };
  });
  await program.parseAsync(['node', 'shiftctl', 'serve', ...args]);
  if (!got) throw new Error('serve did not run');
  return got;
}

describe('serve --drain', () => {
  it.each([
    ['5', 5],
    ['5s', 5],
    ['500ms', 0.5],
    ['1m', 60],
    ['0', 0],
  ])('takes %s as a duration (a bare number is seconds)', async (value, seconds) => {
    const { flags } = await parsed(['--drain', value]);
    expect(flags.drain).toBe(seconds);
  });

  it('refuses a drain past 5 minutes, or not a duration, with exit 2', async () => {
    for (const value of ['301', '6m', 'soon']) {
      const exit = await inProcessWithEnv({}, 'serve', '--db', ':memory:', '--drain', value);
      expect([value, exit.code]).toEqual([value, 2]);
      expect(exit.stderr).toContain('--drain');
    }
  });
});
