/**
 * `analyze --write-pcap FILE` (issue 11, "Into Wireshark and back"): the problem flows' packets
 * (or those --select picks) as pcapng. On the lab's captures, tshark reads the file back and
 *  - its packet count is the chosen flows' packets plus the ICMP errors about them;
 *  - its conversation table has each chosen TCP/UDP flow with the flow's own counts each way;
 *  - every packet has a comment (`tshark -Y frame.comment` shows them all); each flow's first
 *    packet says its verdict and reason; every packet names its frame in the source capture,
 *    and that frame has the same bytes and time (read back with our reader);
 *  - the interface is named after the source capture.
 * Bad use is a one-line error with exit status 2, before any capture is read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCapture } from '../src/capture/reader.js';
import type { Analysis } from '../src/verdict/analysis.js';
import type { JudgedFlow } from '../src/verdict/types.js';
import { isProblem } from '../src/verdict/types.js';
import { runCli } from './helpers/cli.js';
import { LAB_DIR, storedCapture } from './helpers/lab.js';
import { tsharkConversations, tsharkFields, tsharkSkipReason } from './helpers/tshark.js';

const skip = tsharkSkipReason('--write-pcap read back by tshark');
const TOPOLOGY = join(LAB_DIR, 'topology.json');
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lpa-write-pcap-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function analyze(capture: string, out: string, extra: string[] = []): { analysis: Analysis; stderr: string } {
  const run = runCli([
    'analyze',
    '--no-progress',
    '--format',
    'json',
    '--topology',
    TOPOLOGY,
    '--write-pcap',
    out,
    ...extra,
    capture,
  ]);
  expect(run.status, run.stderr).toBe(0);
  return { analysis: JSON.parse(run.stdout) as Analysis, stderr: run.stderr };
}

interface Frame {
  data: Buffer;
  sec: number;
  nsec: number;
}

async function frames(path: string): Promise<Frame[]> {
  const out: Frame[] = [];
  await readCapture(path, {
    onRecord: (r) =>
      out.push({
        data: Buffer.from(r.buf.subarray(r.offset, r.offset + r.caplen)),
        sec: r.tsSec,
        nsec: r.tsNsec,
      }),
  });
  return out;
}

const pair = (proto: string, a: string, b: string): string => `${proto} ${[a, b].sort().join(' ')}`;
const ep = (h: string, p: number): string => `${h}:${p}`;

/** Checks one written file against the flows chosen for it. */
async function check(capture: string, out: string, chosen: JudgedFlow[], stderr: string): Promise<void> {
  const icmp = chosen.reduce((n, f) => n + (f.icmp?.count ?? 0), 0);
  const own = chosen.reduce((n, f) => n + f.orig_pkts + f.resp_pkts, 0);
  expect(stderr).toContain(`wrote ${own + icmp} packet`);
  // Every packet has a comment, so -Y frame.comment shows all of them.
  const rows = tsharkFields(
    out,
    ['frame.number', 'frame.comment', 'frame.interface_name'],
    ['-Y', 'frame.comment'],
  );
  expect(rows).toHaveLength(own + icmp);
  for (const [, , iface] of rows) expect(iface).toBe('client.pcapng');
  // Per conversation: the flow's own packets each way.
  const ours = chosen
    .filter((f) => f.proto === 'tcp' || f.proto === 'udp')
    .map(
      (f) => `${pair(f.proto, ep(f.orig_h, f.orig_p), ep(f.resp_h, f.resp_p))} ${f.orig_pkts + f.resp_pkts}`,
    )
    .sort();
  const theirs = new Map<string, number>();
  for (const c of tsharkConversations(out)) {
    const k = pair(c.proto, c.a, c.b);
    theirs.set(k, (theirs.get(k) ?? 0) + c.framesAB + c.framesBA);
  }
  expect([...theirs].map(([k, n]) => `${k} ${n}`).sort()).toEqual(ours);
  // Each flow's first packet says its verdict and reason; every packet its source frame, with its bytes.
  const source = await frames(capture);
  const written = await frames(out);
  const firsts = new Set<number>();
  rows.forEach(([, comment], i) => {
    const m = /frame (\d+) of client\.pcapng/.exec(comment);
    expect(m, comment).not.toBeNull();
    const original = source[Number(m![1]) - 1];
    expect(written[i].data.equals(original.data), comment).toBe(true);
    expect([written[i].sec, written[i].nsec]).toEqual([original.sec, original.nsec]);
    firsts.add(Number(m![1]));
  });
  for (const f of chosen) {
    const row = rows.find(([, c]) => c.includes(`frame ${f.first_frame} of client.pcapng`))!;
    expect(row, `${f.proto} ${f.orig_p}>${f.resp_p}`).toBeDefined();
    expect(row[1]).toContain(`lync-port-audit: ${f.verdict}: ${f.reason}`);
  }
}

describe.skipIf(skip !== undefined)('analyze --write-pcap on the lab captures', () => {
  it.each(['sip-tls-dropped', 'media-icmp-rejected', 'psom-reset', 'edge-udp-blocked', 'one-way-media'])(
    '%s: the problem flows, read back by tshark',
    async (scenario) => {
      const capture = storedCapture(scenario, 'client');
      const out = join(dir, `${scenario}.pcapng`);
      const { analysis, stderr } = analyze(capture, out);
      const problems = analysis.flows.filter((f) => isProblem(f.verdict));
      expect(problems.length).toBeGreaterThan(0);
      await check(capture, out, problems, stderr);
    },
  );

  it('--select picks other flows: every ok TCP flow to 443', async () => {
    const capture = storedCapture('all-open', 'client');
    const out = join(dir, 'selected.pcapng');
    const { analysis, stderr } = analyze(capture, out, [
      '--select',
      'verdict=ok',
      '--select',
      'port=443,444',
    ]);
    const chosen = analysis.flows.filter((f) => f.verdict === 'ok' && [443, 444].includes(f.resp_p));
    expect(chosen.length).toBeGreaterThanOrEqual(3);
    await check(capture, out, chosen, stderr);
  });
});

describe('--write-pcap misuse', () => {
  const capture = storedCapture('psom-reset', 'client');
  it.each([
    [['--select', 'verdict=lost'], /--select verdict=lost: not a verdict/],
    [['--select', 'colour=red'], /unknown key "colour"/],
    [['--select', 'port=70000'], /--select port=70000/],
  ])('%j is a usage error', (args, message) => {
    const run = runCli(['analyze', '--no-progress', '--write-pcap', join(dir, 'x.pcapng'), ...args, capture]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('standard input cannot be read twice', () => {
    const run = runCli(['analyze', '--no-progress', '--write-pcap', join(dir, 'y.pcapng'), '-'], {
      input: '',
    });
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toBe(
      'lync-port-audit: --write-pcap reads the captures twice, so it needs files, not standard input',
    );
  });

  it('an unwritable file is one line, before the capture is read', () => {
    const run = runCli([
      'analyze',
      '--no-progress',
      '--write-pcap',
      join(dir, 'no', 'such', 'dir.pcapng'),
      capture,
    ]);
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/cannot write .*dir\.pcapng: no such file or directory/);
  });
});

describe.skipIf(skip !== undefined)('every problem carries a Wireshark display filter and its frames', () => {
  it.each(['sip-tls-dropped', 'media-icmp-rejected', 'psom-reset', 'edge-udp-blocked', 'one-way-media'])(
    '%s: the filter shows exactly the flow (and the ICMP errors about it) in tshark',
    (scenario) => {
      const capture = storedCapture(scenario, 'client');
      const json = runCli(['analyze', '--no-progress', '--format', 'json', '--topology', TOPOLOGY, capture]);
      const analysis = JSON.parse(json.stdout) as Analysis;
      const problems = analysis.flows.filter((f) => isProblem(f.verdict));
      expect(problems.length).toBeGreaterThan(0);
      for (const f of problems) {
        expect(f.display_filter, `${f.proto} ${f.orig_p}>${f.resp_p}`).toBeDefined();
        const bounded = `(${f.display_filter}) && frame.number>=${f.first_frame} && frame.number<=${f.last_frame + 50}`;
        const shown = tsharkFields(capture, ['frame.number'], ['-Y', bounded]).map((r) => Number(r[0]));
        expect(shown.length, f.display_filter).toBe(f.orig_pkts + f.resp_pkts + (f.icmp?.count ?? 0));
        expect(shown[0]).toBe(f.first_frame);
      }
      // The per-role first failure carries them too, and so do the table and NDJSON.
      for (const r of analysis.roles)
        for (const row of r.rows)
          if (row.first_failure) {
            expect(row.first_failure.display_filter).toBeDefined();
            expect(row.first_failure.first_frame).toBeGreaterThan(0);
            expect(row.first_failure.last_frame).toBeGreaterThanOrEqual(row.first_failure.first_frame);
          }
      const table = runCli(['analyze', '--no-progress', '--topology', TOPOLOGY, capture], {
        env: { COLUMNS: '300' },
      });
      for (const f of problems) expect(table.stdout).toContain(`wireshark: ${f.display_filter}`);
      const ndjson = runCli([
        'analyze',
        '--no-progress',
        '--format',
        'ndjson',
        '--topology',
        TOPOLOGY,
        capture,
      ]);
      const lines = ndjson.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as JudgedFlow);
      for (const l of lines)
        expect(isProblem(l.verdict) ? typeof l.display_filter : 'none').toBe(
          isProblem(l.verdict) ? 'string' : 'none',
        );
    },
  );
});
