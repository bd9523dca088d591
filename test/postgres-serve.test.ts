/**
 * `serve --db postgres://...`: several real instances on one PostgreSQL database. Skipped, by
 * name, without SHIFTCTL_TEST_POSTGRES.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { serveJson } from './cli-harness.js';
import { postgresUrl, testSchemas } from './postgres-helpers.js';

const schemas = testSchemas();
afterAll(() => schemas.dropAll());

async function post(url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

describe.skipIf(!postgresUrl)('serve on PostgreSQL (set SHIFTCTL_TEST_POSTGRES to run)', () => {
  it('runs two instances on one database: fixtures once, one state, one winner', async () => {
    const url = new URL(postgresUrl as string);
    url.searchParams.set('schema', schemas.name());
    if (!url.password) url.password = 'not-a-real-password'; // trust auth ignores it
    const [a, b] = await Promise.all([
      serveJson('--db', url.href, '--db-pool', '3'),
      serveJson('--db', url.href, '--db-pool', '3'),
    ]);
    const listening = [a, b].map(({ cli }) => {
      const line = cli.lines().find((l) => l.includes('"event":"listening"')) as string;
      return JSON.parse(line) as { fixtures_loaded: boolean; db: string };
    });
    // Started together, exactly one loaded the demo data.
    expect(listening.map((l) => l.fixtures_loaded).sort()).toEqual([false, true]);
    // The password never reaches the output.
    for (const l of listening) expect(l.db).toContain(':***@');
    expect(a.cli.stdout + a.cli.stderr).not.toContain(url.password);

    // An offer made through A is pending through B.
    expect((await post(`${a.url}/api/test/send_offer/501?shift_id=7001`)).body.status).toBe(
      'pending',
    );
    await post(`${a.url}/api/test/send_offer/502?shift_id=7001`);
    const pending = (await fetch(`${b.url}/api/shift_offers/pending/501`).then((r) =>
      r.json(),
    )) as Array<{ shift_id: number }>;
    expect(pending.map((o) => o.shift_id)).toContain(7001);

    // The two employees accept at once, through different instances: one wins.
    const answers = await Promise.all(
      [
        [a.url, 501],
        [b.url, 502],
      ].map(([base, empId]) =>
        post(`${base}/api/shift_offer/respond`, {
          emp_id: empId,
          shift_id: 7001,
          response: 'accepted',
        }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    expect(answers.filter((r) => r.body.assigned === true)).toHaveLength(1);
    const available = await fetch(`${a.url}/api/shift_offer/7001/available`).then((r) => r.json());
    expect(available).toMatchObject({ available: false, status: 'assigned' });

    expect((await a.cli.stop()).code).toBe(0);
    expect((await b.cli.stop()).code).toBe(0);
  });
});
