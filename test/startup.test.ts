/**
 * What the real binary loads before it does anything: `--help` and usage errors load commander
 * and the command declarations, never a command's libraries (express, ws, SQLite, zod, ...),
 * which load only when that command runs. Checked by the modules each run resolves, not by
 * time: how fast that makes `--help` is measured apart, over repeated runs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, userEnv, WAIT_MS } from './cli-harness.js';
import { withTimeout } from './helpers.js';

/** The packages that only a running command needs. */
const HEAVY = [
  'express',
  'ws',
  'better-sqlite3',
  'postgres',
  'ioredis',
  'prom-client',
  'zod',
  '@inquirer/core',
  'jose',
  'undici',
  'selfsigned',
  'swagger-ui-dist',
  'chalk',
];

let dir: string;
let register: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shiftctl-startup-'));
  // A resolve hook (node:module register) that writes every module the process resolves,
  // ESM or a CommonJS package imported from ESM, one line each, to fd 3.
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `import { writeSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  writeSync(3, specifier + ' ' + resolved.url + '\\n');
  return resolved;
}
`,
  );
  register = join(dir, 'register.mjs');
  writeFileSync(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Loaded {
  code: number | null;
  stdout: string;
  /** Each resolved module: the specifier it was asked for and its URL. */
  modules: Array<{ specifier: string; url: string }>;
}

/** Runs `node --import <hook> bin/shiftctl.js ...args` and lists what it resolved. */
function loads(...args: string[]): Promise<Loaded> {
  const child = spawn(process.execPath, ['--import', register, BIN, ...args], {
    cwd: dir,
    env: userEnv(),
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let resolved = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.resume();
  const fd3 = child.stdio[3] as NodeJS.ReadableStream;
  fd3.setEncoding('utf8');
  fd3.on('data', (chunk: string) => {
    resolved += chunk;
  });
  const done = new Promise<Loaded>((resolve) => {
    child.once('close', (code) => {
      const modules = resolved
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [specifier = '', url = ''] = line.split(' ');
          return { specifier, url };
        });
      resolve({ code, stdout, modules });
    });
  });
  return withTimeout(done, WAIT_MS, `shiftctl ${args.join(' ')} to exit`);
}

/** The heavy packages among what a run resolved. */
function heavyIn(run: Loaded): string[] {
  return HEAVY.filter((name) =>
    run.modules.some((m) => m.specifier === name || m.url.includes(`/node_modules/${name}/`)),
  );
}

describe('start-up', () => {
  it('--help loads commander and the declarations, none of the commands’ libraries', async () => {
    const run = await loads('--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: shiftctl [options] [command]');
    expect(run.modules.some((m) => m.specifier === 'commander')).toBe(true);
    expect(heavyIn(run)).toEqual([]);
    // Nor shiftctl's own modules that bring them.
    const own = run.modules.map((m) => /\/dist\/(.+)\.js$/.exec(m.url)?.[1]);
    expect(own).toContain('cli/commands/serve');
    for (const implementation of [
      'cli/serve',
      'cli/listen',
      'cli/client',
      'server/create-server',
      'store/sqlite',
      'protocol/schemas',
      'verify/checks',
      'bench/generator',
    ]) {
      expect(own).not.toContain(implementation);
    }
  });

  it('a command’s --help and a usage error load nothing heavy either', async () => {
    for (const args of [
      ['serve', '--help'],
      ['listen', '--help'],
      ['serve', '--port', 'x'],
      ['serve', '--db', 'mysql://root@127.0.0.1/explore'],
      ['serve', '--db', 'postgres://root@127.0.0.1:1/x?schema=bad-name'],
      ['serve', '--db', 'postgres://root@127.0.0.1:1/x', '--redis', 'redis://127.0.0.1:1/abc'],
      ['status', '--url'],
    ]) {
      const run = await loads(...args);
      expect([args, heavyIn(run)]).toEqual([args, []]);
    }
  });

  it('a command that runs loads what it needs (so the hook sees them)', async () => {
    const run = await loads('docs', '--out', join(dir, 'contract'));
    expect(run.code).toBe(0);
    expect(heavyIn(run)).toContain('zod');
  });
});
