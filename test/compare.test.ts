/**
 * `compare A B` as a user runs it, on the lab's stored pairs (test/lab/captures/<scenario>/
 * client.pcapng and server.pcapng, recorded at once on both sides of the router): the formats
 * (table, json, ndjson, html), --fail-on, --out, --write-pcap read back by tshark, the clock
 * offset against a capture shifted by editcap, --client-side with the captures swapped, --nat,
 * bounded evidence, captures that do not overlap, and usage errors.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  type WriteStream,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { BIN, parseNdjson, runCli, runCliAsync } from './helpers/cli.js';
import { LAB_DIR, storedCapture } from './helpers/lab.js';
import { REPO_ROOT } from './helpers/shared.js';
import { browserSkipReason, launchBrowser, openReport } from './helpers/browser.js';
import { editcapAvailable, tsharkFields, tsharkSkipReason } from './helpers/tshark.js';
import type { ComparedFlow, Comparison } from '../src/compare/types.js';

const topology = join(LAB_DIR, 'topology.json');
const pair = (s: string): [string, string] => [storedCapture(s, 'client'), storedCapture(s, 'server')];
const dir = mkdtempSync(join(tmpdir(), 'lpa-compare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function compare(args: string[], status = 0): { stdout: string; stderr: string } {
  const run = runCli(['compare', '--no-progress', '--topology', topology, ...args]);
  expect(run.status, run.stderr).toBe(status);
  return run;
}

function json(...args: string[]): Comparison {
  return JSON.parse(compare(['--format', 'json', ...args]).stdout) as Comparison;
}

const byServerPort = (c: Comparison, port: number): ComparedFlow => {
  const found = c.flows.filter((f) => f.resp_p === port && f.proto !== 'icmp');
  expect(found).toHaveLength(1);
  return found[0];
};

describe('compare: formats', () => {
  const [client, server] = pair('reset-by-router');

  it('json: every flow once, with the flow fields and verdict of analyze and the comparison', () => {
    const c = json(client, server);
    expect(c.summary.flows).toBe(c.flows.length);
    expect(c.flows).toHaveLength(3);
    for (const f of c.flows) {
      for (const k of [
        'community_id',
        'conn_state',
        'history',
        'verdict',
        'reason',
        'network',
        'expectation',
      ])
        expect(f, k).toHaveProperty(k);
      expect(f.seen_at.length).toBeGreaterThan(0);
      expect(typeof f.lost_a_to_b).toBe('number');
      expect(typeof f.lost_b_to_a).toBe('number');
      expect(typeof f.injected).toBe('boolean');
    }
    const reset = byServerPort(c, 8057);
    expect(reset).toMatchObject({ seen_at: ['a'], verdict: 'refused', injected: true, lost_a_to_b: 1 });
    expect(reset.injected_by).toMatchObject({
      kind: 'tcp-reset',
      address: '10.77.2.10',
      ttl: 64,
      endpoint_ttl: 63,
    });
    expect(reset.display_filter).toContain('tcp.port==8057');
    expect(reset.a?.first_frame).toBeGreaterThan(0);
    expect(reset.b).toBeUndefined();
    // The clock offset is estimated and said: both tcpdumps ran on one clock.
    expect(Math.abs(c.compare.clock_offset!)).toBeLessThan(0.001);
    expect(c.compare.clock_offset_packets).toBeGreaterThan(10);
    expect(c.compare.clock_text).toMatch(/^clock offset: /);
    // Per role, each flow once.
    const fe = c.roles.find((r) => r.role === 'front-end')!;
    expect(fe.rows.reduce((n, r) => n + r.flows, 0)).toBe(3);
  });

  it('ndjson: the json flows, one per line', () => {
    const lines = parseNdjson<ComparedFlow>(compare(['--format', 'ndjson', client, server]).stdout);
    expect(lines).toEqual(json(client, server).flows);
  });

  it('table: each problem says on which segment it happened', () => {
    const { stdout } = compare([client, server]);
    expect(stdout).toContain('clock offset: the server capture (b) runs');
    expect(stdout).toContain('WHERE THE PACKETS DIED');
    expect(stdout).toContain('[injected-reset]');
    // The per-role problems (analyze's report) carry the segment in the first failure.
    const problems = stdout.slice(stdout.indexOf('PROBLEMS:'));
    expect(problems.replace(/\s+/g, ' ')).toContain(
      'on the path: reset between the client capture (a) and the server capture (b)',
    );
  });

  it('html: one self-contained page with the comparison, every capture name escaped', () => {
    const evil = join(dir, `a<b>&"'.pcapng`);
    copyFileSync(client, evil);
    const { stdout } = compare(['--format', 'html', evil, server]);
    expect(stdout.startsWith('<!doctype html>')).toBe(true);
    expect(stdout).toContain('<section id="compare">');
    expect(stdout).toContain('a&lt;b&gt;&amp;&quot;&#39;.pcapng');
    expect(stdout).not.toContain(`a<b>`);
    expect(stdout).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(stdout).toContain('injected-reset');
    expect(stdout).toContain("default-src 'none'");
  });

  it('--out writes the report to the file; --fail-on sets the exit status', () => {
    const out = join(dir, 'report.json');
    const run = compare(['--format', 'json', '--out', out, client, server]);
    expect(run.stdout).toBe('');
    expect((JSON.parse(readFileSync(out, 'utf8')) as Comparison).flows).toHaveLength(3);
    compare(['--fail-on', 'blocked', client, server], 1);
    compare(['--fail-on', 'failed', client, server], 0);
    compare(['--fail-on', 'none', client, server], 0);
  });
});

describe('compare: --write-pcap', () => {
  it('the problem flows from both captures, commented, as tshark reads them', (ctx) => {
    const skip = tsharkSkipReason('compare --write-pcap');
    if (skip) {
      console.warn(skip);
      ctx.skip();
    }
    const [client, server] = pair('reset-by-router');
    const out = join(dir, 'problems.pcapng');
    const run = compare(['--format', 'json', '--write-pcap', out, client, server]);
    const c = JSON.parse(run.stdout) as Comparison;
    const problems = c.flows.filter((f) => ['refused', 'blocked'].includes(f.verdict));
    // Each problem flow's packets at each point it was seen.
    const want = problems.reduce(
      (n, f) => n + f.seen_at.reduce((m, p) => m + f[p]!.orig_pkts + f[p]!.resp_pkts, 0),
      0,
    );
    const rows = tsharkFields(out, ['frame.number', 'frame.comment']);
    expect(rows).toHaveLength(want);
    const comments = rows.map((r) => r[1]).join('\n');
    expect(comments).toContain('capture a: frame');
    expect(comments).toContain('capture b: frame');
    expect(comments).toContain(
      'on the path: reset between the client capture (a) and the server capture (b)',
    );
    expect(run.stderr).toContain(`wrote ${want} packets to ${out}`);
  });
});

describe('compare: clocks, sides, NAT', () => {
  it('a server capture whose clock runs an hour ahead: the offset is found and nothing changes', (ctx) => {
    if (!editcapAvailable()) {
      console.warn('compare: editcap is not installed; the shifted-clock case is skipped');
      ctx.skip();
    }
    const [client, server] = pair('sip-tls-dropped');
    const shifted = join(dir, 'server-shifted.pcapng');
    const r = spawnSync('editcap', ['-t', '3600.25', server, shifted], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const base = json(client, server);
    const moved = json(client, shifted);
    expect(moved.compare.clock_offset).toBeCloseTo(3600.25, 3);
    const view = (c: Comparison): unknown[] =>
      c.flows.map((f) => [f.orig_p, f.resp_p, f.seen_at, f.path.finding, f.lost_a_to_b, f.lost_b_to_a]);
    expect(view(moved)).toEqual(view(base));
    expect(byServerPort(moved, 5061).path.finding).toBe('forward-path-dropped');
  });

  it('--client-side b with the captures given the other way round: the same findings, a and b swapped', () => {
    const [client, server] = pair('reset-by-router');
    const straight = json(client, server);
    const swapped = json('--client-side', 'b', server, client);
    const flip = (d: string | null): string | null =>
      d === 'a_to_b' ? 'b_to_a' : d === 'b_to_a' ? 'a_to_b' : d;
    for (const f of straight.flows) {
      const g = byServerPort(swapped, f.resp_p);
      expect(g.path.finding).toBe(f.path.finding);
      expect(g.path.direction).toBe(flip(f.path.direction));
      expect(g.seen_at.map((p) => (p === 'a' ? 'b' : 'a')).sort()).toEqual([...f.seen_at].sort());
      expect([g.lost_a_to_b, g.lost_b_to_a]).toEqual([f.lost_b_to_a, f.lost_a_to_b]);
      expect(g.verdict).toBe(f.verdict);
    }
    expect(byServerPort(swapped, 8057).path.text).toContain('the client capture (b)');
  });

  it('across the lab router NAT: matched by what the NAT keeps, or by --nat', () => {
    const [client, server] = pair('nat-router');
    const c = json(client, server);
    expect(c.compare.matched['5-tuple']).toBe(0);
    expect(c.compare.matched['nat-fingerprint']).toBe(3);
    const https = byServerPort(c, 443);
    expect(https.b).toMatchObject({ orig_h: '10.77.2.1', orig_p: 61443 });
    expect(https.a).toMatchObject({ orig_h: '10.77.1.10', orig_p: 40443 });
    const mapped = json('--nat', '10.77.1.10:40061=10.77.2.1:40061', client, server);
    expect(byServerPort(mapped, 5061).path.matched_by).toBe('nat-mapping');
    expect(mapped.compare.nat).toEqual(['10.77.1.10:40061=10.77.2.1:40061']);
    // A mapping of the address alone (any port) matches the masqueraded flows by 5-tuple too.
    const any = json('--nat', '10.77.1.10=10.77.2.1', client, server);
    expect(any.compare.matched['nat-mapping']).toBe(2);
  });
});

describe('compare: limits and bad input', () => {
  it('bounded evidence: --max-packets keeps the first packets and says so', () => {
    const [client, server] = pair('edge-udp-blocked');
    const c = json('--max-packets', '20', client, server);
    expect(c.compare.a.compared_packets).toBe(20);
    expect(c.summary.notes.join('\n')).toContain('only its first 20 packets were compared');
    expect(c.flows.length).toBe(json(client, server).flows.length);
    // Flows past --max-records are said to be left out, never silently dropped from the counts.
    const few = json('--max-records', '3', client, server);
    expect(few.summary.notes.join('\n')).toMatch(
      /flows beyond --max-records 3 were not compared and are not counted/,
    );
    expect(few.flows.every((f) => f.path.finding !== 'not-compared' || f.verdict !== undefined)).toBe(true);
    // analyze lists its problem flows beyond the bound; compare does not (it kept no packets of
    // them to pair), so what it lists is what it compared.
    expect(few.flows.filter((f) => f.path.finding === 'not-compared')).toEqual([]);
  });

  it('captures of different times: nothing is judged lost', () => {
    const c = json(storedCapture('reset-by-router', 'client'), storedCapture('sip-tls-dropped', 'server'));
    expect(c.summary.notes.join('\n')).toContain('do not overlap in time');
    expect(c.flows.every((f) => f.lost_a_to_b === 0 && f.lost_b_to_a === 0)).toBe(true);
    expect(c.flows.some((f) => f.path.finding === 'outside-other-capture')).toBe(true);
  });

  it('usage and input errors: one line, exit 2', () => {
    const [client] = pair('reset-by-router');
    for (const args of [
      ['--nat', '10.77.1.10', client, client],
      ['--nat', 'nonsense=10.0.0.1', client, client],
      ['--nat', '10.0.0.1:80=10.0.0.2', client, client],
      [client, join(dir, 'missing.pcapng')],
      ['-', client],
    ]) {
      const run = runCli(['compare', '--no-progress', ...args]);
      expect(run.status, args.join(' ')).toBe(2);
      expect(
        run.stderr
          .trim()
          .split('\n')
          .filter((l) => /error|lync-port-audit:/.test(l)).length,
      ).toBeGreaterThan(0);
    }
  });
});

/** A named pipe at `path` that is fed `bytes`, then closed, or held open until the caller ends it. */
function feedFifo(path: string, bytes: Buffer, hold = false): WriteStream {
  const made = spawnSync('mkfifo', [path]);
  expect(made.status, String(made.stderr)).toBe(0);
  const w = createWriteStream(path);
  w.on('error', () => undefined); // the reader may go away first
  w.write(bytes, () => {
    if (!hold) w.end();
  });
  return w;
}

describe('compare: captures from named pipes (a capture still being taken), and Ctrl-C', () => {
  const [client, server] = pair('reset-by-router');

  const COMPARE_JSON = ['compare', '--no-progress', '--topology', topology, '--format', 'json'];

  it('a named pipe reads as the file it carries (it cannot be read at a position)', async () => {
    const fifo = join(dir, 'client.fifo');
    feedFifo(fifo, readFileSync(client));
    // Asynchronous: the pipe is fed from this process while the child reads it.
    const run = await runCliAsync([...COMPARE_JSON, fifo, server]);
    expect(run.status, run.stderr).toBe(0);
    const piped = JSON.parse(run.stdout) as Comparison;
    const view = (c: Comparison): unknown[] =>
      c.flows.map((f) => [f.seen_at, f.lost_a_to_b, f.lost_b_to_a, f.injected, f.path.finding, f.verdict]);
    expect(view(piped)).toEqual(view(json(client, server)));
    expect(piped.summary.partial).toBeUndefined();
  });

  it('Ctrl-C while the first capture is still arriving: FILE.partial says partial, nothing is judged lost', async () => {
    const fifo = join(dir, 'slow-client.fifo');
    const out = join(dir, 'interrupted-compare.json');
    // The whole capture, then the pipe stays open (as tcpdump keeps it): the read waits for more
    // until Ctrl-C, and the process must then end without the writer closing (a test timeout if not).
    const writer = feedFifo(fifo, readFileSync(client), true);
    const child = spawn(process.execPath, [BIN, ...COMPARE_JSON, '--out', out, fifo, server]);
    const err: Buffer[] = [];
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const closed = new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGINT');
    const status = await closed;
    writer.end();
    expect(status, Buffer.concat(err).toString('utf8')).toBe(130);
    expect(existsSync(out)).toBe(false);
    const c = JSON.parse(readFileSync(`${out}.partial`, 'utf8')) as Comparison;
    expect(c.summary.partial).toBe(true);
    expect(c.summary.notes[0]).toMatch(
      /^partial report: the read was stopped after \d+ packets of .*slow-client\.fifo; .*server\.pcapng not read; packets not read count as neither seen nor lost/,
    );
    // The server capture was never read: no flow can be judged lost between the two.
    expect(c.flows.every((f) => f.lost_a_to_b === 0 && f.lost_b_to_a === 0 && !f.seen_at.includes('b'))).toBe(
      true,
    );
  });
});

describe('the README shows what compare prints', () => {
  it('its compare run on the lab pair is the CLI output, header and WHERE THE PACKETS DIED', () => {
    // The command runs from the repository's root, as the README's does.
    expect(process.cwd()).toBe(REPO_ROOT);
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Two captures of one path'));
    const shown = /```text\n([\s\S]*?)\n```/.exec(section)![1];
    const [client, server] = pair('return-path-dropped');
    const run = runCli(
      [
        'compare',
        '--no-progress',
        '--topology',
        'test/lab/topology.json',
        relative(REPO_ROOT, client),
        relative(REPO_ROOT, server),
      ],
      { env: { COLUMNS: '100' } },
    );
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    const head = lines.slice(0, lines.indexOf(''));
    const where = lines.slice(lines.findIndex((l) => l.startsWith('WHERE THE PACKETS DIED')));
    const printed = [...head, '', ...where.slice(0, where.indexOf(''))].join('\n');
    expect(shown).toBe(printed);
  });
});

describe('compare: the HTML page in a browser', () => {
  it('loads nothing, breaks nothing, and shows where the packets died', async (ctx) => {
    if (browserSkipReason('compare html')) ctx.skip();
    const [client, server] = pair('one-way-media');
    const file = join(dir, 'compare.html');
    compare(['--format', 'html', '--out', file, client, server]);
    const browser = await launchBrowser();
    try {
      const opened = await openReport(browser, file);
      expect(opened.requests).toEqual([]);
      expect(opened.violations).toEqual([]);
      expect(opened.errors).toEqual([]);
      const section = opened.page.locator('#compare');
      expect(await section.isVisible()).toBe(true);
      const text = await section.innerText();
      expect(text).toContain('return-path-dropped');
      expect(text).toContain('return path dropped between the server capture (b) and the client capture (a)');
    } finally {
      await browser.close();
    }
  }, 60_000);
});
