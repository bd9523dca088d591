/** A server that cannot start (its database refuses writes) stops, rather than look healthy. */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_FIXTURES_PATH, readFixtures } from '../src/fixtures.js';
import { createServer } from '../src/server/create-server.js';
import { createSqliteStore } from '../src/store/sqlite.js';
import { Cli, STACK_FRAME, within } from './cli-harness.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shiftctl-start-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A database that opens and reads but refuses new shifts, as a full disk or a locked file
 * would (permissions would not do: the tests may run as root).
 */
async function refusingShifts(): Promise<string> {
  const path = join(dir, 'shifts.db');
  await createSqliteStore({ path }).close();
  const db = new Database(path);
  db.exec(
    "CREATE TRIGGER refuse BEFORE INSERT ON shifts BEGIN SELECT RAISE(ABORT, 'no new shifts'); END",
  );
  db.close();
  return path;
}

async function freePort(): Promise<number> {
  const probe = createTcpServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Whether anything accepts connections on the port. */
async function listening(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  const [event] = await within(
    Promise.race([once(socket, 'connect').then(() => ['connect']), once(socket, 'error')]),
    `a connection to port ${port}`,
  );
  socket.destroy();
  return event === 'connect';
}

describe('a start that fails after the port is bound', () => {
  it('rejects with E_DATABASE and leaves nothing listening (library)', async () => {
    const db = await refusingShifts();
    const port = await freePort();
    const fixtures = await readFixtures(DEMO_FIXTURES_PATH);
    await expect(createServer({ port, db, fixtures, heartbeatSeconds: 0 })).rejects.toMatchObject({
      code: 'E_DATABASE',
      message: expect.stringMatching(/^Cannot start: writing the database at .* no new shifts$/),
    });
    expect(await listening(port)).toBe(false);
  });

  it('makes serve exit 1 with one line on stderr, and nothing listening', async () => {
    const db = await refusingShifts();
    const port = await freePort();
    const exit = await within(
      new Cli(['serve', '--port', String(port), '--db', db, '--log-format', 'json']).done,
      'serve to exit',
    );
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(
      /^shiftctl: Cannot start: writing the database at .* no new shifts\n$/,
    );
    expect(exit.stderr).not.toContain(STACK_FRAME);
    expect(exit.stdout).not.toContain('"event":"listening"');
    expect(await listening(port)).toBe(false);
  });
});
