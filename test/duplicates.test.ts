/**
 * Exact duplicate frames (issue 11: "the same packet seen twice, a SPAN session on both ports of
 * a link, is counted once"): dropped within 0.5 ms and 8 frames, counted in the summary, frame
 * numbers kept as Wireshark numbers them.
 *
 * - A lab capture with every frame written twice, 3 µs apart (what a mirror of both ports of the
 *   link sends), and with the copies arriving several frames late: the same flows as the
 *   original, field for field but the frame numbers, and every copy counted as dropped.
 * - A copy that comes 0.5 s later (a genuine resend) is kept, and --keep-duplicates keeps all.
 * - On every real capture in ../shared/captures where we drop frames, editcap (`-D 8 -w 0.0005`,
 *   an MD5 of each whole frame) drops the same IP frames: our conversation counts equal
 *   tshark's on editcap's output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { readCapture } from '../src/capture/reader.js';
import type { FlowRecord } from '../src/flow/record.js';
import { writePcapng, type Packet } from './helpers/capture-writer.js';
import { parseNdjson, runCli } from './helpers/cli.js';
import { storedCapture } from './helpers/lab.js';
import { sharedCapture, skipReason } from './helpers/shared.js';
import { editcapAvailable, tsharkConversations, tsharkSkipReason } from './helpers/tshark.js';

let dir = '';
let frames: Packet[] = [];
let original: FlowRecord[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lpa-dups-'));
  const source = storedCapture('all-open', 'client');
  await readCapture(source, {
    onRecord: (rec) =>
      frames.push({
        data: Buffer.from(rec.buf.subarray(rec.offset, rec.offset + rec.caplen)),
        sec: rec.tsSec,
        nsec: rec.tsNsec,
      }),
  });
  original = flows(source).records;
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  frames = [];
});

function flows(capture: string, extra: string[] = []): { records: FlowRecord[]; stderr: string } {
  const run = runCli(['flows', '--no-progress', ...extra, capture]);
  expect(run.status, run.stderr).toBe(0);
  return { records: parseNdjson<FlowRecord>(run.stdout), stderr: run.stderr };
}

function later(p: Packet, ns: number): Packet {
  const t = BigInt(p.sec) * 1_000_000_000n + BigInt(p.nsec) + BigInt(ns);
  return { ...p, sec: Number(t / 1_000_000_000n), nsec: Number(t % 1_000_000_000n) };
}

/** The fields that must not change when duplicates are dropped (frame numbers do: the copies have theirs). */
function facts(f: FlowRecord): Partial<FlowRecord> {
  const rest: Partial<FlowRecord> = { ...f };
  delete rest.first_frame;
  delete rest.last_frame;
  return rest;
}

function write(name: string, packets: Packet[]): string {
  const path = join(dir, name);
  writeFileSync(path, writePcapng(packets));
  return path;
}

describe('exact duplicates', () => {
  it('a mirror of both ports: every frame twice, 3 µs apart, counts once', () => {
    const path = write(
      'twice.pcapng',
      frames.flatMap((p) => [p, later(p, 3000)]),
    );
    const run = flows(path);
    expect(run.records.map(facts)).toEqual(original.map(facts));
    expect(run.stderr).toContain(`${(frames.length * 2).toLocaleString('en-US')} packets`);
    expect(run.stderr).toContain(`${frames.length} exact duplicate frames dropped`);
    // The first copy keeps its frame number, as Wireshark numbers the file: 1, 3, 5, ...
    const first = run.records.map((f) => f.first_frame);
    expect(first).toEqual(original.map((f) => f.first_frame * 2 - 1));
  });

  it('copies 40 µs late, after other frames, are still found', () => {
    const out: Packet[] = [];
    frames.forEach((p, i) => {
      out.push(p);
      if (i >= 5) out.push(later(frames[i - 5], 40_000));
    });
    for (let i = Math.max(0, frames.length - 5); i < frames.length; i++) out.push(later(frames[i], 40_000));
    out.sort((a, b) => a.sec - b.sec || a.nsec - b.nsec);
    const run = flows(write('late.pcapng', out));
    expect(run.records.map(facts)).toEqual(original.map(facts));
    expect(run.stderr).toContain(`${frames.length} exact duplicate frames dropped`);
  });

  it('the same frame 0.5 s later is a packet (a resend), and --keep-duplicates keeps every copy', () => {
    const spaced = write(
      'spaced.pcapng',
      frames.flatMap((p) => [p, later(p, 500_000_000)]).sort((a, b) => a.sec - b.sec || a.nsec - b.nsec),
    );
    const run = flows(spaced);
    expect(run.stderr).not.toContain('duplicate');
    // A wider window makes copies 50 ms apart duplicates (a congested mirror port).
    const three = frames.slice(0, 3).map((p, k) => ({ ...p, sec: frames[0].sec + k }));
    const slow = write(
      'slow.pcapng',
      three.flatMap((p) => [p, later(p, 50_000_000)]),
    );
    expect(flows(slow).stderr).not.toContain('duplicate');
    expect(flows(slow, ['--duplicate-window', '60']).stderr).toContain('3 exact duplicate frames dropped');
    const kept = flows(
      write(
        'kept.pcapng',
        frames.flatMap((p) => [p, later(p, 3000)]),
      ),
      ['--keep-duplicates'],
    );
    expect(kept.stderr).not.toContain('duplicate');
    const packets = (r: FlowRecord[]): number => r.reduce((n, f) => n + f.orig_pkts + f.resp_pkts, 0);
    expect(packets(kept.records)).toBe(2 * packets(original));
  });

  it('analyze counts them in its summary and says so', () => {
    const path = write(
      'twice-analyze.pcapng',
      frames.flatMap((p) => [p, later(p, 3000)]),
    );
    const run = runCli(['analyze', '--no-progress', '--format', 'json', path]);
    expect(run.status, run.stderr).toBe(0);
    const summary = (
      JSON.parse(run.stdout) as { summary: { packets: number; duplicates_dropped: number; notes: string[] } }
    ).summary;
    expect(summary.packets).toBe(frames.length * 2);
    expect(summary.duplicates_dropped).toBe(frames.length);
    expect(summary.notes.join('\n')).toContain(`${frames.length} exact duplicate frames were dropped`);
  });
});

const skip = skipReason('duplicates vs editcap') ?? tsharkSkipReason('duplicates vs editcap');

describe.skipIf(skip !== undefined || !editcapAvailable())('real captures: the frames editcap drops', () => {
  // The shared captures in which IP frames repeat exactly (editcap finds them too).
  const withDuplicates = ['cid-spec_combined.pcap.gz', 'cid-zeek_icmp.pcap'].map((n) => sharedCapture(n));

  it.each(withDuplicates.map((c) => [basename(c), c]))('%s', (name, capture) => {
    const deduped = join(dir, `editcap-${name.replace(/\.gz$/, '')}`);
    const r = spawnSync('editcap', ['-D', '8', '-w', '0.0005', capture, deduped], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const run = flows(capture);
    expect(run.stderr).toMatch(/\d+ exact duplicate frames? dropped/);
    const sum = (rows: { key: string; n: number }[]): string[] => {
      const m = new Map<string, number>();
      for (const { key, n } of rows) m.set(key, (m.get(key) ?? 0) + n);
      return [...m].map(([k, n]) => `${k} ${n}`).sort();
    };
    const pair = (proto: string, a: string, b: string): string => `${proto} ${[a, b].sort().join(' ')}`;
    const ours = sum(
      run.records
        .filter((f) => f.proto === 'tcp' || f.proto === 'udp')
        .map((f) => ({
          key: pair(f.proto, `${f.orig_h}:${f.orig_p}`, `${f.resp_h}:${f.resp_p}`),
          n: f.orig_pkts + f.resp_pkts,
        })),
    );
    const theirs = sum(
      tsharkConversations(deduped).map((c) => ({ key: pair(c.proto, c.a, c.b), n: c.framesAB + c.framesBA })),
    );
    expect(ours).toEqual(theirs);
  });
});
