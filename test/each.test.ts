/**
 * Many captures: `analyze --each` and `flows --each` (worker threads, --jobs, per-file progress,
 * a failed file reported and the rest kept), `analyze --format summary` and `merge`, whose merged
 * report must equal the --each report of the same captures.
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNdjson, runCli } from './helpers/cli.js';
import { REPO_ROOT } from './helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'lpa-each-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// One capture per "client": the bundled samples, copied under names of their own, and a file
// that is not a capture.
const caps = join(dir, 'captures');
mkdirSync(join(caps, 'site-b'), { recursive: true });
const names: string[] = [];
for (const sample of readdirSync(join(REPO_ROOT, 'samples'), { withFileTypes: true })) {
  if (!sample.isDirectory()) continue;
  const file = readdirSync(join(REPO_ROOT, 'samples', sample.name)).find((f) => f.startsWith('capture.'))!;
  const name = `${sample.name}.${file.split('.').pop()}`;
  copyFileSync(join(REPO_ROOT, 'samples', sample.name, file), join(caps, name));
  names.push(join(caps, name));
}
names.sort();
// One more in a sub-folder (a folder is walked), and an unreadable one.
copyFileSync(names[0], join(caps, 'site-b', 'copy.pcapng'));
writeFileSync(join(caps, 'broken.pcap'), 'this is not a capture\n');
const broken = join(caps, 'broken.pcap');
const all = [broken, ...names, join(caps, 'site-b', 'copy.pcapng')];

interface Merged {
  summary: { packets: number; flows: number; problems: number; captures: { name: string; error?: string }[] };
  captures: {
    name: string;
    packets: number;
    flows: number;
    problems: number;
    failing: string[];
    error?: string;
  }[];
  roles: {
    role: string;
    rows: { id: string; transport: string; status: string; flows: number; failing_captures: string[] }[];
  }[];
  flows: { capture: string; verdict: string }[];
}

describe('analyze --each', () => {
  const r = runCli(['analyze', '--each', '--format', 'json', '--jobs', '2', caps]);
  const merged = JSON.parse(r.stdout) as Merged;

  it('analyses every capture of the folder, reports the broken one and keeps the rest', () => {
    expect(r.status).toBe(2);
    expect(merged.captures.map((c) => c.name)).toEqual([...all].sort()); // in name order
    const bad = merged.captures.find((c) => c.name === broken)!;
    expect(bad.error).toMatch(/broken\.pcap: byte 0: not a pcap or pcapng file/);
    expect(merged.captures.filter((c) => c.error === undefined)).toHaveLength(all.length - 1);
    // Progress: one line per capture, numbered, and the failure in one line.
    for (const name of all) expect(r.stderr).toContain(`] ${name}: `);
    expect(r.stderr).toMatch(
      new RegExp(`\\[\\d/${all.length}\\] ${broken.replace(/[.]/g, '\\.')}: .*error: `),
    );
  });

  it('counts each capture as its own analysis says, and merges per role', () => {
    for (const name of names) {
      const one = JSON.parse(runCli(['analyze', '--format', 'json', name]).stdout) as {
        summary: { packets: number; flows: number; problems: number };
      };
      const c = merged.captures.find((x) => x.name === name)!;
      expect([c.packets, c.flows, c.problems]).toEqual([
        one.summary.packets,
        one.summary.flows,
        one.summary.problems,
      ]);
    }
    const sum = (k: 'packets' | 'flows' | 'problems'): number =>
      merged.captures.reduce((n, c) => n + c[k], 0);
    expect(merged.summary.packets).toBe(sum('packets'));
    expect(merged.summary.flows).toBe(sum('flows'));
    expect(merged.summary.problems).toBe(sum('problems'));
    // Which captures fail where: every failing row names captures whose own list has that row.
    const failingRows = merged.roles.flatMap((role) =>
      role.rows.filter((row) => row.status === 'problem').map((row) => ({ role: role.role, row })),
    );
    expect(failingRows.length).toBeGreaterThan(0);
    for (const { row } of failingRows) expect(row.failing_captures.length).toBeGreaterThan(0);
    // The sample copied into site-b fails where its original fails.
    const copy = merged.captures.find((c) => c.name.endsWith('copy.pcapng'))!;
    expect(copy.failing).toEqual(merged.captures.find((c) => c.name === names[0])!.failing);
    expect(merged.flows.every((f) => all.includes(f.capture))).toBe(true);
  });

  it('gives the same report with one job as with two, and the same from a glob', () => {
    const one = runCli(['analyze', '--each', '--format', 'json', '--jobs', '1', caps]);
    expect(one.stdout).toBe(r.stdout);
    const globbed = runCli(['analyze', '--each', '--format', 'json', join(caps, '**', '*.pcap*')]);
    expect(
      JSON.parse(globbed.stdout)
        .captures.map((c: { name: string }) => c.name)
        .sort(),
    ).toEqual([...all].sort());
  });

  it('prints the captures, where each port fails, then the per-role tables', () => {
    const t = runCli(['analyze', '--each', caps]);
    expect(t.status).toBe(2);
    expect(t.stdout).toMatch(/^7 captures analysed one by one and merged per role: /);
    expect(t.stdout).toContain('WHERE IT FAILS');
    expect(t.stdout).toMatch(/ in \d+ of 7 captures: /);
  });

  it('refuses ndjson and standard input with a one-line reason', () => {
    const nd = runCli(['analyze', '--each', '--format', 'ndjson', caps]);
    expect(nd.status).toBe(2);
    expect(nd.stderr.trim().split('\n')).toHaveLength(1);
    const stdin = runCli(['analyze', '--each', '-']);
    expect(stdin.status).toBe(2);
    expect(stdin.stderr).toMatch(/--each reads files/);
  });
});

describe('analyze --format summary, then merge', () => {
  const summaries = join(dir, 'summaries');
  mkdirSync(summaries, { recursive: true });
  const files = all.map((capture, i) => {
    const out = join(summaries, `${i}.json`);
    runCli(['analyze', '--format', 'summary', '-o', out, capture]);
    return out;
  });

  it('writes one JSON line per capture', () => {
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      expect(text.trim().split('\n')).toHaveLength(1);
      expect(JSON.parse(text).format).toBe('lync-port-audit-summary');
    }
  });

  it('merges into the report of one --each run of the same captures, byte for byte', () => {
    const each = runCli(['analyze', '--each', '--format', 'json', caps]);
    // Reversed on purpose: the merged report does not depend on the order of its inputs.
    const merged = runCli(['merge', '--format', 'json', ...[...files].reverse()]);
    expect(merged.status).toBe(2); // one capture was unreadable when it was analysed
    expect(merged.stdout).toBe(each.stdout);
    const table = runCli(['merge', ...files]);
    expect(table.stdout).toBe(runCli(['analyze', '--each', caps]).stdout);
  });

  it('takes --each --format summary output (one line per capture) as its input too', () => {
    const lines = join(dir, 'all.ndjson');
    const e = runCli(['analyze', '--each', '--format', 'summary', '-o', lines, caps]);
    expect(e.status).toBe(2);
    expect(readFileSync(lines, 'utf8').trim().split('\n')).toHaveLength(all.length);
    expect(runCli(['merge', '--format', 'json', lines]).stdout).toBe(
      runCli(['merge', '--format', 'json', ...files]).stdout,
    );
  });

  it('reports a file that is not a summary in one line, and merges the rest', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"hello": 1}\n');
    const m = runCli(['merge', '--format', 'json', bad, files[1], files[2]]);
    expect(m.status).toBe(2);
    expect(m.stderr).toContain(`${bad}: not a lync-port-audit summary`);
    expect((JSON.parse(m.stdout) as Merged).captures).toHaveLength(2);
    const none = runCli(['merge', join(dir, 'missing.json')]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/missing\.json: cannot read: ENOENT/);
  });

  it('a capture given instead of its summary is named as one, in one line, and the rest is merged', () => {
    const capture = join(REPO_ROOT, 'samples', 'edge-udp-blocked', 'capture.pcapng');
    const m = runCli(['merge', '--format', 'json', capture, files[1]]);
    expect(m.status).toBe(2);
    const lines = m.stderr.trim().split('\n');
    expect(lines).toEqual([
      `lync-port-audit: ${capture}: is a pcapng capture, not a summary: merge combines what \`analyze --format summary\` writes (or run \`analyze --each\` on the captures)`,
      expect.stringMatching(
        /^lync-port-audit: merged 1 capture summary: [\d,]+ packets?, [\d,]+ flows?, [\d,]+ problems?$/,
      ),
    ]);
    expect((JSON.parse(m.stdout) as Merged).captures).toHaveLength(1);
  });

  it('exits 1 with --fail-on when the merged flows have such verdicts', () => {
    const ok = files.filter((_, i) => all[i] !== broken);
    expect(runCli(['merge', '--fail-on', 'any', ...ok]).status).toBe(1);
    expect(runCli(['merge', '--fail-on', 'none', ...ok]).status).toBe(0);
  });
});

describe('flows --each', () => {
  it('writes every capture’s records in input order, each with its capture', () => {
    const list = [names[1], broken, names[0], names[2]];
    const r = runCli(['flows', '--each', '--jobs', '2', ...list]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/broken\.pcap: byte 0: not a pcap or pcapng file/);
    const got = parseNdjson(r.stdout);
    const want = list
      .filter((f) => f !== broken)
      .flatMap((f) => parseNdjson(runCli(['flows', f]).stdout).map((rec) => ({ capture: f, ...rec })));
    expect(got).toEqual(want);
    expect(Object.keys(got[0])[0]).toBe('capture');
  });
});
