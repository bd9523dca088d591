/**
 * `npx shiftctl serve &` then `kill $!`: the signal reaches npm, which passes it to the shell
 * between it and shiftctl, and the shell dies without passing it on. The server must stop by
 * itself once the wrapper it started under is gone, rather than run on holding its port. The
 * wrapper is played here by a shell (with npm's `npm_command=exec`) killed outright.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { BIN, userEnv, within } from './cli-harness.js';

describe('serve under npx', () => {
  it('shuts down cleanly when the npx wrapper that started it is killed', async () => {
    const wrapper = spawn(
      'sh',
      [
        '-c',
        `"${process.execPath}" "${BIN}" serve --port 0 --db :memory: --no-fixtures --log-format json; exit $?`,
      ],
      { env: { ...userEnv(), npm_command: 'exec' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    wrapper.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    // The pipe stays open while the server holds it: its end is the server's exit.
    const ended = once(wrapper.stdout, 'close');
    const url = await within(
      new Promise<string>((resolve) => {
        const look = () => {
          const line = out.split('\n').find((l) => l.includes('"event":"listening"'));
          if (line) resolve(JSON.parse(line).url as string);
          else wrapper.stdout.once('data', look);
        };
        look();
      }),
      'the listening line',
    );
    wrapper.kill('SIGKILL');
    await within(ended, 'the server to exit once its wrapper was gone');
    expect(out).toContain('the npx that started this server stopped, shutting down');
    // Nothing listens there any more.
    const { port } = new URL(url);
    const probe = connect(Number(port), '127.0.0.1');
    const [err] = (await once(probe, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
  });
});
