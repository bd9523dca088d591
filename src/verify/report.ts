/** verify's reports: readable text (coloured on a terminal), JSON lines, and JUnit XML for CI. */
import type { ChalkInstance } from 'chalk';
import type { Level } from './checks.js';
import type { CheckResult } from './run.js';

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  ms: number;
}

export function summarise(results: readonly CheckResult[], ms: number): Summary {
  const count = (status: CheckResult['status']) =>
    results.filter((r) => r.status === status).length;
  return { passed: count('pass'), failed: count('fail'), skipped: count('skip'), ms };
}

const MARK = { pass: '✓', fail: '✗', skip: '-' } as const;

/** One check as a block of text: its line, then what was expected and what arrived. */
export function formatResult(r: CheckResult, c: ChalkInstance, idWidth = 26): string {
  const colour = { pass: c.green, fail: c.red, skip: c.yellow }[r.status];
  const head = `  ${colour(MARK[r.status])} ${r.level.padEnd(6)} ${r.id.padEnd(idWidth)} ${r.title} ${c.dim(`${r.ms} ms`)}`;
  if (r.status === 'pass') return `${head}\n`;
  if (r.status === 'skip')
    return `${head}\n${' '.repeat(11)}${c.yellow('skipped:')} ${r.message}\n`;
  const pad = ' '.repeat(11);
  const lines = [head, `${pad}${c.red(r.message ?? 'failed')}`];
  if (r.expected) lines.push(`${pad}${c.dim('expected:')} ${r.expected}`);
  if (r.actual) lines.push(`${pad}${c.dim('arrived: ')} ${r.actual}`);
  lines.push(`${pad}${c.dim('breaks:  ')} PROTOCOL.md:${r.clause.line}  ${c.dim(r.clause.text)}`);
  return `${lines.join('\n')}\n`;
}

export function formatSummary(s: Summary, level: Level, c: ChalkInstance): string {
  const parts = [
    c.green(`${s.passed} passed`),
    s.failed ? c.red(`${s.failed} failed`) : `${s.failed} failed`,
    s.skipped ? c.yellow(`${s.skipped} skipped`) : `${s.skipped} skipped`,
  ];
  return `\n${parts.join(', ')} (level ${level}) in ${(s.ms / 1000).toFixed(1)} s\n`;
}

/** The JSON line for one check (`--json`). */
export function jsonResult(r: CheckResult): Record<string, unknown> {
  return {
    check: r.id,
    title: r.title,
    level: r.level,
    status: r.status,
    ms: r.ms,
    ...(r.message ? { message: r.message } : {}),
    ...(r.expected ? { expected: r.expected } : {}),
    ...(r.actual ? { actual: r.actual } : {}),
    protocol: { file: 'PROTOCOL.md', line: r.clause.line, text: r.clause.text },
  };
}

const escapeXml = (s: string): string =>
  s
    .replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
    .replace(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 forbids these characters
      /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g,
      '',
    );

/** A JUnit report: one test case per check, failures with the protocol line they break. */
export function junitReport(results: readonly CheckResult[], s: Summary, target: string): string {
  const cases = results.map((r) => {
    const attrs = `classname="shiftctl.verify.${r.level}" name="${escapeXml(`${r.id}: ${r.title}`)}" time="${(r.ms / 1000).toFixed(3)}"`;
    if (r.status === 'pass') return `    <testcase ${attrs}/>`;
    if (r.status === 'skip') {
      return `    <testcase ${attrs}>\n      <skipped message="${escapeXml(r.message ?? '')}"/>\n    </testcase>`;
    }
    const text = [
      r.expected ? `expected: ${r.expected}` : '',
      r.actual ? `arrived:  ${r.actual}` : '',
      `breaks:   PROTOCOL.md:${r.clause.line}  ${r.clause.text}`,
    ]
      .filter(Boolean)
      .join('\n');
    return `    <testcase ${attrs}>\n      <failure message="${escapeXml(r.message ?? 'failed')}" type="contract">${escapeXml(text)}</failure>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="shiftctl verify" tests="${results.length}" failures="${s.failed}" skipped="${s.skipped}" time="${(s.ms / 1000).toFixed(3)}">`,
    `  <testsuite name="${escapeXml(`contract: ${target}`)}" tests="${results.length}" failures="${s.failed}" skipped="${s.skipped}" errors="0" time="${(s.ms / 1000).toFixed(3)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
