/**
 * The SIP recogniser's per-flow state is bounded and holds what it reports (issue 16 section 3):
 * the message list and the dialog list stop at their caps and the record says so, the method and
 * status tallies too, a TCP direction holds stream bytes only while a message is split across
 * segments, and the state is let go when the recogniser stops looking. Then the whole: 30,000
 * live SIP flows (scripts/fuzz/hostile.mjs sip-flows, generated, not stored) fit a memory bound
 * in `flows`. And a From display name carrying markup is a display name: the address is still
 * found, and the markup reaches no page unescaped.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sip, type SipState } from '../src/recognize/sip.js';
import type { PacketContext, Payload } from '../src/recognize/types.js';
import { sipFlows } from '../scripts/fuzz/hostile.mjs';
import { REPO_ROOT } from './helpers/shared.js';
import { runCli, parseNdjson } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'lpa-sip-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CRLF = '\r\n';

function message(start: string, callId: string, cseq: string, body = ''): Buffer {
  return Buffer.from(
    [
      start,
      'Via: SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bK-1',
      'From: <sip:a@example.com>;tag=f1',
      'To: <sip:b@example.com>',
      `Call-ID: ${callId}`,
      `CSeq: ${cseq}`,
      `Content-Length: ${body.length}`,
      '',
      body,
    ].join(CRLF),
    'latin1',
  );
}

function ctx(transport: 'udp' | 'tcp', fromOrig = true): PacketContext {
  return { fromOrig, ts: 1, transport, origPort: 50000, respPort: 5060, gap: false };
}

function payload(b: Buffer): Payload {
  return { buf: b, offset: 0, length: b.length };
}

/** Feeds datagrams (UDP) or in-order segments (TCP) to a fresh SIP state; returns it and the record detail. */
function feedAll(
  transport: 'udp' | 'tcp',
  payloads: Buffer[],
): { s: SipState; detail: Record<string, unknown> } {
  const s = sip.start(ctx(transport));
  for (const p of payloads) sip.feed(s, payload(p), ctx(transport));
  const end = { origPkts: payloads.length, respPkts: 0, connState: 'S1', origPort: 50000, respPort: 5060 };
  return { s, detail: sip.finish(s, { ...end, transport }).detail };
}

describe('bounded SIP state', () => {
  it('lists the first 16 messages; the record counts them all', () => {
    const msgs = Array.from({ length: 40 }, (_, i) =>
      message('OPTIONS sip:b@example.com SIP/2.0', 'c1', `${i + 1} OPTIONS`),
    );
    const { s, detail } = feedAll('udp', msgs);
    expect(s.log).toHaveLength(16);
    expect(detail.messages).toBe(40);
    expect(detail.first_messages).toHaveLength(16);
    expect((detail.first_messages as { cseq: string }[])[15].cseq).toBe('16 OPTIONS');
  });

  it('keeps 8 dialogs; the messages of the others are counted as dropped', () => {
    const msgs = Array.from({ length: 12 }, (_, i) =>
      message('OPTIONS sip:b@example.com SIP/2.0', `call-${i}`, '1 OPTIONS'),
    );
    const { s, detail } = feedAll('udp', msgs);
    expect(s.dialogs).toHaveLength(8);
    expect(detail.dialogs).toHaveLength(8);
    expect(detail.dialogs_dropped_messages).toBe(4);
    // A dialog already kept still takes its later messages.
    const again = feedAll('udp', [...msgs, message('BYE sip:b@example.com SIP/2.0', 'call-0', '2 BYE')]);
    expect((again.detail.dialogs as { methods: string[] }[])[0].methods).toEqual(['OPTIONS', 'BYE']);
    expect(again.detail.dialogs_dropped_messages).toBe(4);
  });

  it('tallies at most 32 methods and 32 statuses', () => {
    const msgs = [
      ...Array.from({ length: 40 }, (_, i) => message(`M${i} sip:b@example.com SIP/2.0`, 'c1', `1 M${i}`)),
      ...Array.from({ length: 40 }, (_, i) => message(`SIP/2.0 ${200 + i} Status`, 'c1', '1 M0')),
      message('M0 sip:b@example.com SIP/2.0', 'c1', '2 M0'),
    ];
    const { s, detail } = feedAll('udp', msgs);
    expect(Object.keys(detail.requests as object)).toHaveLength(32);
    expect(Object.keys(detail.responses as object)).toHaveLength(32);
    expect((detail.requests as Record<string, number>).M0).toBe(2);
    expect(s.tallies.length).toBe(2 * 64);
    expect(detail.messages).toBe(81);
  });

  it('a UDP flow has no stream state; a TCP direction buffers only a message split across segments', () => {
    const udp = feedAll('udp', [message('OPTIONS sip:b@example.com SIP/2.0', 'c1', '1 OPTIONS')]);
    expect(udp.s.dirs).toEqual([null, null]);

    const whole = message('OPTIONS sip:b@example.com SIP/2.0', 'c1', '1 OPTIONS');
    const s = sip.start(ctx('tcp'));
    sip.feed(s, payload(whole), ctx('tcp'));
    // Parsed where it was: no storage for this direction, none made for the other.
    expect(s.dirs[0]?.buf ?? null).toBeNull();
    expect(s.dirs[1]).toBeNull();
    const next = message('INVITE sip:b@example.com SIP/2.0', 'c2', '1 INVITE', 'v=0\r\n');
    sip.feed(s, payload(next.subarray(0, 40)), ctx('tcp'));
    expect(s.dirs[0]?.buf?.capacity).toBeGreaterThan(0);
    sip.feed(s, payload(next.subarray(40)), ctx('tcp'));
    // Complete: the storage is given back.
    expect(s.dirs[0]?.buf?.capacity).toBe(0);
    expect(s.messages).toBe(2);
  });

  it('lets the stream state go when it stops looking (10,000 messages)', () => {
    const one = message('OPTIONS sip:b@example.com SIP/2.0', 'c1', '1 OPTIONS');
    const s = sip.start(ctx('tcp'));
    let more = true;
    for (let i = 0; i < 10_000 && more; i++)
      more = sip.feed(
        s,
        payload(Buffer.concat([one, one.subarray(0, 10)]).subarray(i === 0 ? 0 : 10)),
        ctx('tcp'),
      );
    expect(more).toBe(false);
    expect(s.messages).toBe(10_000);
    expect(s.dirs).toEqual([null, null]);
  });
});

describe('a From display name with markup', () => {
  const capture = join(dir, 'display-name.pcap');
  sipFlows({ count: 2, out: capture, displayName: '<script>alert(1)</script>' });

  it('is a display name: the address and the tag are still found', () => {
    const r = runCli(['flows', '--no-progress', capture]);
    expect(r.status, r.stderr).toBe(0);
    const recs = parseNdjson<{ app: string; app_detail: { dialogs: { from: string; from_tag: string }[] } }>(
      r.stdout,
    );
    expect(recs).toHaveLength(2);
    for (const rec of recs) {
      expect(rec.app).toBe('sip');
      for (const d of rec.app_detail.dialogs) {
        expect(d.from).toMatch(/^sip:user\d@example\.com$/);
        expect(d.from_tag).toMatch(/^t[0-9a-f]+$/);
      }
    }
    expect(r.stdout).not.toContain('script');
  });

  it('reaches the HTML report escaped or not at all', () => {
    const r = runCli(['analyze', '--no-progress', '--format', 'html', capture]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('sip:user0@example.com');
    expect(r.stdout).not.toContain('<script>alert');
  });
});

/**
 * Peak RSS of `flows` on 30,000 live SIP flows (half over UDP, half over TCP, none closed): 737 MB
 * before issue 16's changes, 203 MB after them (docs/decisions.md, "Per-flow recogniser state").
 * The bound leaves room for a busier machine's heap timing, and still fails on any return of
 * several KB per flow.
 */
const SIP_FLOWS = 30_000;
const PEAK_RSS_MB = 260;

describe('memory per live SIP flow', () => {
  it(`${SIP_FLOWS} live SIP flows stay under ${PEAK_RSS_MB} MB peak RSS in flows`, () => {
    const capture = join(dir, 'sip-flows.pcap');
    sipFlows({ count: SIP_FLOWS, out: capture });
    const rssFile = join(dir, 'rss');
    // Records to a file as a shell redirect would send them (-o adds its own write buffering).
    const out = openSync(join(dir, 'out.ndjson'), 'w');
    const r = spawnSync(
      process.execPath,
      [join(REPO_ROOT, 'test', 'helpers', 'peak-rss.mjs'), 'flows', '--no-progress', capture],
      {
        env: { ...process.env, LPA_PEAK_RSS_FILE: rssFile },
        stdio: ['ignore', out, 'pipe'],
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    closeSync(out);
    expect(r.status, r.stderr).toBe(0);
    // All of them live at once: none ended, none evicted before the end of the capture.
    expect(r.stderr).toContain(`${SIP_FLOWS.toLocaleString('en-US')} flows (0 evicted`);
    const peakMb = Number(readFileSync(rssFile, 'utf8')) / 1024;
    console.log(`sip-state: ${SIP_FLOWS} live SIP flows, flows peak RSS ${peakMb.toFixed(0)} MB`);
    expect(peakMb).toBeLessThan(PEAK_RSS_MB);
    const lines = readFileSync(join(dir, 'out.ndjson'), 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(SIP_FLOWS);
    expect(lines.every((l) => l.includes('"app":"sip"'))).toBe(true);
  }, 180_000);
});
