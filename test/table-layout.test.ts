/**
 * The terminal report's layout, as a person reads it in a terminal: every line fits the width
 * (80 by default, COLUMNS when set), long text wraps without losing a character, problem flows come
 * by severity and then in time order, IPv6 endpoints are bracketed, counts have the right plural,
 * and a peer appears once per row with all its verdicts. Run on the bundled samples, the lab's
 * stored captures and a capture written for the report tests.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN } from './helpers/cli.js';
import { REPO_ROOT } from './helpers/shared.js';
import { STORED_DIR, LAB_DIR } from './helpers/lab.js';
import { writeReportCapture, type ReportCapture } from './helpers/report-capture.js';
import { wrap } from '../src/report/format.js';

function table(args: string[], columns?: number): string {
  const env = { ...process.env };
  delete env.COLUMNS;
  if (columns !== undefined) env.COLUMNS = String(columns);
  const r = spawnSync(process.execPath, [BIN, 'analyze', '--no-progress', ...args], {
    encoding: 'utf8',
    env,
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

const widest = (text: string): number => Math.max(...text.split('\n').map((l) => [...l].length));

const samples = readdirSync(join(REPO_ROOT, 'samples'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => {
    const dir = join(REPO_ROOT, 'samples', d.name);
    const capture = readdirSync(dir).find((f) => f.startsWith('capture.'))!;
    return { name: d.name, args: [join(dir, capture), '--topology', join(dir, 'topology.json')] };
  });
const lab = readdirSync(STORED_DIR).map((s) => ({
  name: `lab ${s}`,
  args: [join(STORED_DIR, s, 'client.pcapng'), '--topology', join(LAB_DIR, 'topology.json')],
}));

let rc: ReportCapture;
beforeAll(() => {
  rc = writeReportCapture();
});

describe('terminal report layout', () => {
  it.each([...samples, ...lab])('$name fits 80 columns, and 60 with COLUMNS=60', ({ args }) => {
    expect(widest(table(args))).toBeLessThanOrEqual(80);
    expect(widest(table(args, 60))).toBeLessThanOrEqual(60);
  });

  it('honours a wider COLUMNS, and loses no character when it wraps', () => {
    const args = [rc.capture, '--topology', rc.topology];
    const narrow = table(args);
    const wide = table(args, 160);
    expect(widest(narrow)).toBeLessThanOrEqual(80);
    expect(widest(wide)).toBeGreaterThan(80);
    expect(widest(wide)).toBeLessThanOrEqual(160);
    // The STUN reason wraps at 80 but every word of it is there.
    const reason = /STUN Binding request (\S+) got no response/.exec(wide)![1];
    expect(narrow.replace(/\s+/g, ' ')).toContain(`STUN Binding request ${reason} got no response`);
  });

  it('lists problem flows by severity, then in time order, with IPv6 endpoints in brackets', () => {
    const text = table([rc.capture, '--topology', rc.topology], 120);
    const section = text.slice(text.indexOf('PROBLEM FLOWS'));
    const entries = [...section.matchAll(/^ {2}(\d\d:\d\d:\d\dZ) {2}(\S+) {2}(\S+) (.*)$/gm)].map((m) => ({
      time: m[1],
      verdict: m[2],
      flow: m[4],
    }));
    expect(entries.map((e) => e.verdict)).toEqual([
      'one-way',
      'blocked',
      'refused',
      'blocked',
      'blocked',
      'unexpected',
    ]);
    const connectivity = entries.slice(0, 5).map((e) => e.time);
    expect(connectivity).toEqual([...connectivity].sort());
    // The unexpected flow is the earliest of all, yet listed last: it is the least severe.
    expect(entries[5].time < entries[0].time).toBe(true);
    expect(section).toContain('[fd00:1::5]:41004 (client) → [fd00::10]:444 (front-end)');
    expect(section).toMatch(/frames \d+-\d+/);
  });

  it('names a peer once per row with all its verdicts, and counts with the right plural', () => {
    const text = table([rc.capture, '--topology', rc.topology], 120);
    const row = text.split('\n').findIndex((l) => /FAIL +front-end +TCP 444/.test(l));
    expect(row).toBeGreaterThan(0);
    const peers = text.split('\n')[row + 1];
    expect(peers.match(/10\.1\.0\.5 /g)).toHaveLength(1);
    expect(peers).toMatch(
      /10\.1\.0\.5 \((refused x1, blocked x1|blocked x1, refused x1)\), fd00:1::5 \(blocked x1\)/,
    );
    expect(text).toContain('PROBLEMS: 3 required ports with failing traffic');
    expect(text).toContain('UNEXPECTED: 1 port no catalog row explains');
    expect(text).toContain('CALLS: 1 SIP dialog seen in plaintext');
    expect(text).toMatch(/58 packets, 9 flows,/);
  });
});

describe('wrap', () => {
  it('breaks words longer than a line instead of cutting them, with a hanging indent', () => {
    const lines = wrap('first failure: 6c70612d6c61623430343830abcdef got nothing', 20, '  ', '    ');
    expect(lines.every((l) => l.length <= 20)).toBe(true);
    expect(lines[0].startsWith('  first')).toBe(true);
    expect(lines.slice(1).every((l) => l.startsWith('    '))).toBe(true);
    expect(lines.join('').replace(/\s/g, '')).toBe('firstfailure:6c70612d6c61623430343830abcdefgotnothing');
  });
});

describe('the run summary on stderr', () => {
  it('wraps to the terminal width with indented continuations, and never wraps a warning or error', async () => {
    const { readFlows } = await import('../src/flow/read.js');
    const { summaryLines } = await import('../src/cli/summary.js');
    const { readFileSync, writeFileSync, rmSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'lpa-summary-'));
    const damaged = join(dir, 'cut-short-with-a-long-name-so-that-its-error-line-is-long.pcapng');
    const sample = join(REPO_ROOT, 'samples', 'edge-udp-blocked', 'capture.pcapng');
    writeFileSync(damaged, readFileSync(sample).subarray(0, 5000));
    try {
      const r = await readFlows([sample, damaged], { onFlow: () => undefined });
      const wide = summaryLines(r.captures, r.stats, r.duplicates, undefined);
      const narrow = summaryLines(r.captures, r.stats, r.duplicates, 60);
      const error = wide.find((l) => l.startsWith('error: '));
      expect(error).toBeDefined();
      expect(error!.length).toBeGreaterThan(60);
      // The error stays one line; everything else fits 60 columns and loses no word.
      expect(narrow).toContain(error);
      for (const l of narrow) if (l !== error) expect(l.length, l).toBeLessThanOrEqual(60);
      // Nothing lost: the same characters once the wrapping's spaces are taken out (a path longer
      // than a line is broken, not cut).
      const chars = (ls: string[]): string => ls.join('').replace(/\s+/g, '');
      expect(chars(narrow)).toBe(chars(wide));
      expect(narrow.filter((l) => l.startsWith('      ')).length).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('escapes before it wraps: a file name with control bytes still fits, and no break splits an escape', async () => {
    const { readFlows } = await import('../src/flow/read.js');
    const { summaryLines } = await import('../src/cli/summary.js');
    const { copyFileSync, rmSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'lpa-summary-'));
    // A name a hostile sender of a capture could choose: escape sequences that would clear the screen.
    const named = join(dir, 'capture\x1b[2J\x1b[H\x07\x1b[31mfrom-the-mail\x1b[0m.pcapng');
    copyFileSync(join(REPO_ROOT, 'samples', 'edge-udp-blocked', 'capture.pcapng'), named);
    try {
      const r = await readFlows([named], { onFlow: () => undefined });
      const narrow = summaryLines(r.captures, r.stats, r.duplicates, 40);
      for (const l of narrow) {
        expect(l.length, l).toBeLessThanOrEqual(40);
        expect(/[\x00-\x1f\x7f]/.test(l), l).toBe(false);
      }
      // Every escape is whole on one line.
      const text = narrow.join('\n');
      expect(text.match(/\\x1b/g)).toHaveLength(4);
      expect(text).toContain('\\x07');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
