/**
 * pcapng structure (draft-ietf-opsawg-pcapng): several sections of either byte order,
 * interfaces with different link types, if_tsresol (decimal and binary 2^-n) and if_tsoffset,
 * Enhanced, Simple and obsolete Packet Blocks. Files are written byte by byte by
 * test/helpers/capture-writer.ts, so these run without ../shared. Every packet's timestamp is
 * checked to the nanosecond against an exact (BigInt) computation from the units written, and
 * against tshark's frame.time_epoch wherever tshark computes it exactly; the flows are checked
 * against tshark's conversation tables.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCapture } from '../src/capture/reader.js';
import { setTimestamp } from '../src/capture/pcapng.js';
import { createRecord } from '../src/capture/record.js';
import { parseNdjson, runCli } from './helpers/cli.js';
import {
  epb,
  idb,
  pb,
  shb,
  spb,
  unitsPerSecond,
  type Interface,
  type Packet,
} from './helpers/capture-writer.js';
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  PROTO_UDP,
  filler,
  ipv4,
  ipv6,
  linkFrame,
  prng,
  udp,
} from './helpers/packets.js';
import { tsharkAvailable, tsharkConversations, tsharkFields } from './helpers/tshark.js';

const dir = mkdtempSync(join(tmpdir(), 'lpa-pcapng-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasTshark = tsharkAvailable();
if (!hasTshark) console.warn('pcapng tests: the tshark comparisons are skipped, tshark is not installed');

interface Read {
  sec: number;
  nsec: number;
  caplen: number;
  origLen: number;
  linkType: number;
  interfaceId: number;
}

async function readAll(path: string): Promise<{ records: Read[]; error?: string; warnings: string[] }> {
  const records: Read[] = [];
  const s = await readCapture(path, {
    onRecord: (r) =>
      records.push({
        sec: r.tsSec,
        nsec: r.tsNsec,
        caplen: r.caplen,
        origLen: r.origLen,
        linkType: r.linkType,
        interfaceId: r.interfaceId,
      }),
  });
  return { records, error: s.error?.message, warnings: s.warnings.map((w) => w.problem) };
}

function epoch(sec: bigint | number, nsec: bigint | number): string {
  return `${sec}.${String(nsec).padStart(9, '0')}`;
}

/** The exact timestamp of `units` on `iface`: what a reader must report (draft section 4.2, if_tsresol/if_tsoffset). */
function exactTime(units: bigint, iface: Interface): string {
  const ups = unitsPerSecond(iface.tsresol);
  return epoch(units / ups + (iface.tsoffset ?? 0n), ((units % ups) * 1_000_000_000n) / ups);
}

/**
 * tshark 4.0 converts with ((ts % units) * 1e9) / units in 64-bit integers (wiretap/pcapng.c),
 * which overflows when there are more than 2^64 / 1e9 (about 1.8e10) units per second; past that,
 * its fractions are wrong and only the exact computation is the reference.
 */
function tsharkExact(iface: Interface): boolean {
  return unitsPerSecond(iface.tsresol) * 1_000_000_000n < 1n << 64n;
}

/** A UDP datagram from a distinct port per packet, framed for `linkType`. */
function datagram(linkType: number, i: number, v6: boolean, le: boolean): Buffer {
  const src = v6 ? '2001:db8::1' : '192.0.2.1';
  const dst = v6 ? '2001:db8::2' : '192.0.2.2';
  const seg = udp({ src, dst, sport: 20000 + i, dport: 3478, payload: filler(20 + (i % 7)) });
  const ip = v6
    ? ipv6({ src, dst, next: PROTO_UDP, payload: seg })
    : ipv4({ src, dst, proto: PROTO_UDP, payload: seg });
  return linkFrame(linkType, ip, le);
}

function randomUnits(rand: () => number, iface: Interface): bigint {
  // Up to 2^35 seconds' worth of units (the year 3058), never more than 64 bits.
  const max = unitsPerSecond(iface.tsresol) << 35n;
  const limit = max < 1n << 64n ? max : (1n << 64n) - 1n;
  const r = (BigInt(Math.floor(rand() * 2 ** 32)) << 32n) | BigInt(Math.floor(rand() * 2 ** 32));
  return r % limit;
}

const RESOLUTIONS: Interface[] = [
  { linkType: LINKTYPE_ETHERNET }, // default: µs
  { linkType: LINKTYPE_RAW, tsresol: 9 },
  { linkType: LINKTYPE_IPV4, tsresol: 3 },
  { linkType: LINKTYPE_LINUX_SLL, tsresol: 0 },
  { linkType: LINKTYPE_LINUX_SLL2, tsresol: 0x80 | 10 },
  { linkType: LINKTYPE_NULL, tsresol: 0x80 | 20 },
  { linkType: LINKTYPE_LOOP, tsresol: 0x80 | 24 },
  { linkType: LINKTYPE_ETHERNET, tsresol: 0x80 | 30 },
  { linkType: LINKTYPE_RAW, tsresol: 0x80 | 34 },
  { linkType: LINKTYPE_IPV4, tsresol: 10 },
  { linkType: LINKTYPE_IPV6, tsresol: 7 },
  { linkType: LINKTYPE_ETHERNET, tsresol: 9, tsoffset: 1_000_000_000n },
  { linkType: LINKTYPE_LINUX_SLL, tsresol: 6, tsoffset: -3600n },
  { linkType: LINKTYPE_ETHERNET, tsresol: 0x80 | 16, tsoffset: 86_400n },
  // Finer than tshark 4.0 converts exactly: checked against the exact computation only.
  { linkType: LINKTYPE_ETHERNET, tsresol: 12 },
  { linkType: LINKTYPE_RAW, tsresol: 15 },
  { linkType: LINKTYPE_LINUX_SLL2, tsresol: 19 },
  { linkType: LINKTYPE_IPV4, tsresol: 0x80 | 40 },
  { linkType: LINKTYPE_ETHERNET, tsresol: 0x80 | 63 },
];

/**
 * A file of two sections (little- then big-endian), each declaring every interface above and
 * carrying `perInterface` packets on each, in an interleaved order.
 */
function buildMultiSection(
  seed: number,
  perInterface: number,
): {
  bytes: Buffer;
  expected: { time: string; linkType: number; iface: Interface; interfaceId: number }[];
} {
  const rand = prng(seed);
  const parts: Buffer[] = [];
  const expected: { time: string; linkType: number; iface: Interface; interfaceId: number }[] = [];
  for (const le of [true, false]) {
    parts.push(shb(le));
    for (const iface of RESOLUTIONS) parts.push(idb(iface, le));
    for (let k = 0; k < perInterface; k++) {
      RESOLUTIONS.forEach((iface, id) => {
        const n = expected.length;
        const units = randomUnits(rand, iface);
        const lt = iface.linkType;
        const v6 = lt === LINKTYPE_IPV6 || (lt !== LINKTYPE_IPV4 && n % 3 === 0);
        const data = datagram(lt, n, v6, le);
        const p: Packet = { data, sec: 0, nsec: 0 };
        parts.push(n % 5 === 4 ? pb(id, units, p, le) : epb(id, units, p, le));
        expected.push({ time: exactTime(units, iface), linkType: iface.linkType, iface, interfaceId: id });
      });
    }
  }
  return { bytes: Buffer.concat(parts), expected };
}

describe('timestamps to the nanosecond', () => {
  const { bytes, expected } = buildMultiSection(20240601, 4);
  const path = join(dir, 'resolutions.pcapng');
  writeFileSync(path, bytes);

  it('every if_tsresol and if_tsoffset gives the exact time, in both byte orders', async () => {
    const { records, error } = await readAll(path);
    expect(error).toBeUndefined();
    expect(records.map((r) => epoch(r.sec, r.nsec))).toEqual(expected.map((e) => e.time));
    expect(records.map((r) => r.linkType)).toEqual(expected.map((e) => e.linkType));
    expect(records.map((r) => r.interfaceId)).toEqual(expected.map((e) => e.interfaceId));
  });

  it.skipIf(!hasTshark)(
    'tshark reports the same frame.time_epoch where its arithmetic is exact',
    async () => {
      const { records } = await readAll(path);
      const theirs = tsharkFields(path, ['frame.time_epoch']).map((row) => row[0]);
      expect(theirs).toHaveLength(expected.length);
      const ours: string[] = [];
      const want: string[] = [];
      expected.forEach((e, i) => {
        if (!tsharkExact(e.iface)) return;
        ours.push(epoch(records[i].sec, records[i].nsec));
        want.push(theirs[i]);
      });
      expect(ours.length).toBeGreaterThan(expected.length / 2);
      expect(ours).toEqual(want);
    },
  );

  it.skipIf(!hasTshark)('tshark agrees on the frames, their lengths and their conversations', async () => {
    const { records } = await readAll(path);
    const rows = tsharkFields(path, ['frame.cap_len', 'frame.len']);
    expect(records.map((r) => `${r.caplen}/${r.origLen}`)).toEqual(rows.map((r) => `${r[0]}/${r[1]}`));
    const run = runCli(['flows', '--no-progress', path]);
    expect(run.status, run.stderr).toBe(0);
    const flows = parseNdjson<{ orig_p: number; orig_pkts: number; orig_frame_bytes: number }>(run.stdout);
    const conv = tsharkConversations(path);
    // One datagram per source port: every frame is its own conversation, on every link type.
    expect(flows).toHaveLength(expected.length);
    expect(conv).toHaveLength(expected.length);
    const byPort = new Map(conv.map((c) => [Number(c.a.split(':').pop()), c]));
    for (const f of flows) {
      const c = byPort.get(f.orig_p);
      expect(c, `port ${f.orig_p}`).toBeDefined();
      expect(`${f.orig_pkts} ${f.orig_frame_bytes} bytes`).toBe(`${c!.framesAB} ${c!.bytesAB}`);
    }
  });
});

describe('simple and obsolete packet blocks', () => {
  // Interface 0 cuts packets at 64 bytes; the SPB's captured length is min(snaplen, original length)
  // (draft section 4.4), and an SPB carries no timestamp.
  const iface: Interface = { linkType: LINKTYPE_ETHERNET, snaplen: 64, tsresol: 9 };
  const frames = [10, 40, 200].map((n, i) => {
    const seg = udp({ src: '192.0.2.1', dst: '192.0.2.2', sport: 30000 + i, dport: 53, payload: filler(n) });
    return linkFrame(
      LINKTYPE_ETHERNET,
      ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: PROTO_UDP, payload: seg }),
    );
  });
  const cut = (b: Buffer): Packet => ({
    data: b.subarray(0, Math.min(64, b.length)),
    sec: 0,
    nsec: 0,
    origLen: b.length,
  });
  const t0 = 1_700_000_000_123_456_789n;
  const bytes = Buffer.concat([
    shb(true),
    idb(iface, true),
    epb(0, t0, cut(frames[0]), true),
    spb(cut(frames[1]), true),
    spb(cut(frames[2]), true),
    pb(0, t0 + 5n, cut(frames[2]), true),
  ]);
  const path = join(dir, 'spb.pcapng');
  writeFileSync(path, bytes);

  it('reads the captured and original lengths; an SPB takes the previous packet time', async () => {
    const { records, error } = await readAll(path);
    expect(error).toBeUndefined();
    expect(records.map((r) => `${r.caplen}/${r.origLen}`)).toEqual([
      `60/60`,
      `64/${frames[1].length}`,
      `64/${frames[2].length}`,
      `64/${frames[2].length}`,
    ]);
    expect(records.map((r) => epoch(r.sec, r.nsec))).toEqual([
      '1700000000.123456789',
      '1700000000.123456789',
      '1700000000.123456789',
      '1700000000.123456794',
    ]);
  });

  it.skipIf(!hasTshark)('tshark reads the same lengths', async () => {
    const { records } = await readAll(path);
    const rows = tsharkFields(path, ['frame.cap_len', 'frame.len']);
    expect(records.map((r) => `${r.caplen}/${r.origLen}`)).toEqual(rows.map((r) => `${r[0]}/${r[1]}`));
  });

  it('an SPB whose block holds fewer bytes than its length calls for is an error, as in tshark', async () => {
    const p = join(dir, 'spb-short.pcapng');
    // Original length 200, interface snaplen 0 (no limit), but only 41 bytes (44 with padding) in the block.
    const short = { data: frames[2].subarray(0, 41), sec: 0, nsec: 0, origLen: frames[2].length };
    const head = Buffer.concat([shb(true), idb({ linkType: 1 }, true)]);
    writeFileSync(p, Buffer.concat([head, spb(short, true)]));
    const { records, error } = await readAll(p);
    expect(records).toEqual([]);
    expect(error).toBe(
      `${p}: byte ${head.length}: simple packet block of 60 bytes is too short for its ${frames[2].length}-byte packet`,
    );
  });
});

describe('timestamp arithmetic at the edges of its fast path', () => {
  // setTimestamp divides counts below 2^52 as doubles and the rest in 16-bit steps: both must give
  // the exact floor, checked here against BigInt on counts that sit just around whole seconds.
  const exact = (units: bigint, digits: number): [number, number] => {
    const per = 10n ** BigInt(digits);
    const sec = units / per;
    const nsec =
      digits <= 9 ? (units % per) * 10n ** BigInt(9 - digits) : (units % per) / 10n ** BigInt(digits - 9);
    return [Number(sec), Number(nsec)];
  };
  it('every decimal resolution, counts just below, at and above whole seconds, both sides of 2^52', () => {
    const rec = createRecord();
    let checked = 0;
    for (let digits = 0; digits <= 12; digits++) {
      const iface = { linkType: 1, snaplen: 0, decimalDigits: digits, binaryShift: -1, tsOffset: 0 };
      const per = 10n ** BigInt(digits);
      for (const his of [0n, 1n, 0x3ffn, 0xfffffn, 0x100000n, 0x17d78n, 0x5f5e100n, 0xffffffffn]) {
        for (const delta of [-1n, 0n, 1n, per / 2n]) {
          let units = (his << 32n) + 0x9abcdef0n;
          units = units - (units % per) + delta;
          if (units < 0n || units >= 1n << 64n) continue;
          setTimestamp(rec, Number(units >> 32n), Number(units & 0xffffffffn), iface);
          expect([rec.tsSec, rec.tsNsec], `${units} at 10^-${digits}`).toEqual(exact(units, digits));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(300);
  });
});
