/**
 * The README and docs/ kept honest where a test can: every option a command's `--help` shows
 * (and the environment variable it reads) is in that command's page, every error code is in
 * the errors page, and every relative link and `#anchor` leads somewhere.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import { ERROR_STATUS } from '../src/errors.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCS = join(ROOT, 'docs');

/** Where each command is documented, under docs/. A new command needs a line here. */
const PAGE_OF: Record<string, string> = {
  serve: 'serve.md',
  listen: 'clients.md',
  'send-offer': 'clients.md',
  pending: 'clients.md',
  history: 'clients.md',
  respond: 'clients.md',
  status: 'clients.md',
  stats: 'stats.md',
  withdraw: 'operators.md',
  approve: 'operators.md',
  kick: 'operators.md',
  fault: 'operators.md',
  log: 'operators.md',
  reset: 'operators.md',
  token: 'operators.md',
  docs: 'operators.md',
  bench: 'benchmarks.md',
  verify: 'verify.md',
  'push-sink': 'push.md',
};

/**
 * Files another branch brings (docs/haproxy.cfg comes with the load-balancer work): a link to
 * one is let through while it is missing, and checked like any other once it exists.
 */
const ARRIVING = new Set(['docs/haproxy.cfg']);

const read = (file: string) => readFileSync(file, 'utf8');

/** Whether a page names an option or a variable: `--db` but not as part of `--db-pool`. */
function mentions(page: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\w-])${escaped}(?![\\w-])`).test(page);
}

/** What `shiftctl <command> --help` lists: long options and their environment variables. */
function helpOf(command: Command): { options: string[]; env: string[] } {
  const visible = command
    .createHelp()
    .visibleOptions(command)
    .filter((option) => option.long !== '--help');
  return {
    options: visible.map((option) => option.long ?? option.short ?? option.flags),
    env: visible.flatMap((option) => (option.envVar ? [option.envVar] : [])),
  };
}

/** The options and variables of a command that its page does not name. */
function missingFrom(page: string, command: Command): string[] {
  const { options, env } = helpOf(command);
  return [...options, ...env].filter((name) => !mentions(page, name));
}

/** Markdown outside fenced code blocks, with inline code spans kept (headings use them). */
function prose(markdown: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (!fenced) out.push(line);
  }
  return out;
}

/** GitHub's anchor for a heading: lowercase, punctuation other than `-` and `_` dropped, spaces to `-`. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}_ -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a markdown file's headings make, repeated headings numbered as GitHub does. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of prose(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1] ?? '');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Relative links (`[text](target)`) outside code: those to other sites are not checked here. */
function linksOf(markdown: string): string[] {
  const links: string[] = [];
  for (const line of prose(markdown)) {
    const text = line.replace(/`[^`]*`/g, (code) => (/\]\(/.test(code) ? '' : code));
    for (const match of text.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)) {
      const target = match[1] ?? '';
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) links.push(target);
    }
  }
  return links;
}

/** The links of a file that lead nowhere, each with why. */
function brokenLinks(file: string): string[] {
  const broken: string[] = [];
  for (const link of linksOf(read(file))) {
    const [path = '', anchor] = link.split('#', 2);
    const target = path === '' ? file : resolve(dirname(file), path);
    if (!existsSync(target)) {
      if (!ARRIVING.has(relative(ROOT, target))) broken.push(`${link}: no such file`);
      continue;
    }
    if (anchor === undefined) continue;
    if (statSync(target).isDirectory() || !target.endsWith('.md')) {
      broken.push(`${link}: an anchor into something that is not a markdown file`);
    } else if (!anchorsOf(read(target)).has(anchor)) {
      broken.push(`${link}: no heading makes #${anchor}`);
    }
  }
  return broken;
}

const pages = () => [
  join(ROOT, 'README.md'),
  ...readdirSync(DOCS)
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(DOCS, name)),
];

describe('the docs pages', () => {
  const program = buildProgram();

  it('give every command a page', () => {
    const commands = program.commands.map((command) => command.name());
    expect(commands.filter((name) => !PAGE_OF[name])).toEqual([]);
    for (const page of new Set(Object.values(PAGE_OF))) {
      expect(existsSync(join(DOCS, page)), page).toBe(true);
    }
  });

  it("name every option of a command's --help, and its environment variable, in its page", () => {
    const missing: Record<string, string[]> = {};
    for (const command of program.commands) {
      const file = PAGE_OF[command.name()] ?? 'no page';
      const names = missingFrom(read(join(DOCS, file)), command);
      if (names.length > 0) missing[`${command.name()} (docs/${file})`] = names;
    }
    expect(missing).toEqual({});
  });

  it('notice an option taken out of a page', () => {
    const serve = program.commands.find((command) => command.name() === 'serve') as Command;
    const page = read(join(DOCS, 'serve.md'));
    expect(missingFrom(page, serve)).toEqual([]);
    expect(missingFrom(page.replaceAll('--drain', '--dra1n'), serve)).toEqual(['--drain']);
    // `--fixtures` is still named by `--no-fixtures`? No: each is a name of its own.
    expect(mentions('use `--no-fixtures`', '--fixtures')).toBe(false);
    expect(mentions('use `--db-pool`', '--db')).toBe(false);
  });

  it('list every error code in the errors page', () => {
    const page = read(join(DOCS, 'errors.md'));
    const missing = Object.keys(ERROR_STATUS).filter((code) => !mentions(page, code));
    expect(missing).toEqual([]);
  });

  it('link only to files and headings that exist', () => {
    const broken: Record<string, string[]> = {};
    for (const file of pages()) {
      const found = brokenLinks(file);
      if (found.length > 0) broken[relative(ROOT, file)] = found;
    }
    expect(broken).toEqual({});
  });

  it("make anchors by GitHub's rules", () => {
    expect(slug('Benchmarks: `shiftctl bench` and `npm run bench`')).toBe(
      'benchmarks-shiftctl-bench-and-npm-run-bench',
    );
    expect(slug('A real `shiftctl` on your PATH')).toBe('a-real-shiftctl-on-your-path');
    expect(slug("The seed's test endpoint")).toBe('the-seeds-test-endpoint');
    expect([...anchorsOf('# A\n```\n# not a heading\n```\n## A\n')]).toEqual(['a', 'a-1']);
    expect(linksOf('[x](a.md#b) `[y](c.md)` [z](https://example.org)')).toEqual(['a.md#b']);
  });

  it('keep the README to a newcomer: short, and linking every page', () => {
    const readme = read(join(ROOT, 'README.md'));
    expect(readme.split('\n').length).toBeLessThan(260);
    const linked = new Set(linksOf(readme).map((link) => link.split('#')[0]));
    const unlinked = readdirSync(DOCS)
      .filter((name) => name.endsWith('.md'))
      .filter((name) => !linked.has(`docs/${name}`));
    expect(unlinked).toEqual([]);
  });
});
