/**
 * The same packets in every container the reader accepts give identical flows: classic pcap
 * (µs and ns magic, both byte orders, the modified format), pcapng (ns if_tsresol, µs, obsolete
 * Packet Blocks, several sections of different byte order, foreign blocks in between, if_tsoffset),
 * each plain or gzip, from a file or on standard input (`-`). The NDJSON records are compared
 * whole. Synthetic captures are written by test/helpers/capture-writer.ts into a temporary
 * directory; real ones from ../shared are converted with editcap (skipped with a reason when absent).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseNdjson, runCli } from './helpers/cli.js';
import {
  customBlock,
  isb,
  nrb,
  pcapToBigEndian,
  section,
  shb,
  idb,
  epb,
  timestampUnits,
  unknownBlock,
  block,
  writePcap,
  writePcapng,
  type Interface,
} from './helpers/capture-writer.js';
import { sharedCapture, skipReason } from './helpers/shared.js';
import {
  editcap,
  editcapAvailable,
  tsharkAvailable,
  tsharkFields,
  tsharkSkipReason,
} from './helpers/tshark.js';
import { readCapture } from '../src/capture/reader.js';
import { mixedTrace } from './helpers/traffic.js';

const dir = mkdtempSync(join(tmpdir(), 'lpa-formats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

interface Run {
  records: Record<string, unknown>[];
  packets: number;
  stderr: string;
}

function flows(args: string[], input?: Buffer): Run {
  const r = runCli(['flows', '--no-progress', ...args], { input });
  expect(r.signal, r.stderr).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  const m = /lync-port-audit: ([\d,]+) packets/.exec(r.stderr);
  expect(m, r.stderr).not.toBeNull();
  return { records: parseNdjson(r.stdout), packets: Number(m![1].replace(/,/g, '')), stderr: r.stderr };
}

/** Runs `flows` on the file, its gzip, and both on standard input; all four must equal `expected`. */
function expectSameFlows(label: string, bytes: Buffer, expected: Run, containers = true): void {
  const plain = write(`${label}`, bytes);
  const runs: [string, Run][] = [['file', flows([plain])]];
  if (containers) {
    const gz = gzipSync(bytes);
    runs.push(['gzip file', flows([write(`${label}.gz`, gz)])]);
    runs.push(['stdin', flows(['-'], bytes)]);
    runs.push(['gzip stdin', flows(['-'], gz)]);
  }
  for (const [how, run] of runs) {
    expect(run.packets, `${label} (${how}) packet count`).toBe(expected.packets);
    expect(run.records, `${label} (${how}) flows`).toEqual(expected.records);
  }
}

describe('synthetic capture in every container', () => {
  const packets = mixedTrace().packets;
  const reference = writePcap(packets);
  const expected = flows([write('reference.pcap', reference)]);

  it('the reference capture has the flows the trace was built with', () => {
    expect(expected.packets).toBe(packets.length);
    expect(expected.records.map((r) => `${r.proto} ${r.orig_p}>${r.resp_p} ${r.conn_state}`)).toEqual([
      'tcp 40001>443 SF',
      'tcp 40002>5061 REJ',
      'udp 50000>3478 SF',
      'udp 50001>3479 S0',
      'icmp 3>3 OTH',
      'tcp 40003>443 SF',
      'udp 50002>5004 S0',
    ]);
  });

  const halves = (le1: boolean, le2: boolean, iface: Interface): Buffer => {
    const cut = Math.floor(packets.length / 2);
    return Buffer.concat([
      writePcapng(packets.slice(0, cut), iface, le1),
      writePcapng(packets.slice(cut), iface, le2),
    ]);
  };
  /** Every packet as an EPB, with non-packet blocks of every kind before, between and after them. */
  const withForeignBlocks = (le: boolean): Buffer => {
    const iface: Interface = { linkType: 1, tsresol: 9 };
    const parts = [shb(le), customBlock(le), idb(iface, le), nrb(le)];
    packets.forEach((p, i) => {
      parts.push(epb(0, timestampUnits(p, iface), p, le));
      if (i % 3 === 0) parts.push(unknownBlock(le, 4 * (i % 5)));
      if (i % 4 === 1) parts.push(customBlock(le, false), isb(0, le));
      // Decryption Secrets Block (type 0x0a): skipped like any other non-packet block.
      if (i === 5) parts.push(block(0x0a, Buffer.alloc(16, 0x55), le));
    });
    parts.push(isb(0, le));
    return Buffer.concat(parts);
  };
  const variants: [string, () => Buffer][] = [
    ['pcap-us-le.pcap', () => writePcap(packets)],
    ['pcap-us-be.pcap', () => writePcap(packets, { bigEndian: true })],
    ['pcap-ns-le.pcap', () => writePcap(packets, { nanosecond: true })],
    ['pcap-ns-be.pcap', () => writePcap(packets, { nanosecond: true, bigEndian: true })],
    ['pcap-modified.pcap', () => writePcap(packets, { modified: true })],
    ['pcapng-ns-le.pcapng', () => writePcapng(packets, { linkType: 1, tsresol: 9 })],
    ['pcapng-ns-be.pcapng', () => writePcapng(packets, { linkType: 1, tsresol: 9 }, false)],
    ['pcapng-us-be.pcapng', () => writePcapng(packets, { linkType: 1 }, false)],
    [
      'pcapng-obsolete-pb.pcapng',
      () =>
        section(
          [{ linkType: 1, tsresol: 9 }],
          packets.map((packet) => ({ iface: 0, packet })),
          true,
          'pb',
        ),
    ],
    ['pcapng-two-sections-le-be.pcapng', () => halves(true, false, { linkType: 1, tsresol: 9 })],
    ['pcapng-two-sections-be-le.pcapng', () => halves(false, true, { linkType: 1 })],
    ['pcapng-foreign-blocks-le.pcapng', () => withForeignBlocks(true)],
    ['pcapng-foreign-blocks-be.pcapng', () => withForeignBlocks(false)],
    // if_tsoffset (draft-ietf-opsawg-pcapng section 4.2): the writer subtracts it, the reader must add it back.
    [
      'pcapng-tsoffset.pcapng',
      () => writePcapng(packets, { linkType: 1, tsresol: 9, tsoffset: 1_600_000_000n }),
    ],
    ['pcapng-tsoffset-neg.pcapng', () => writePcapng(packets, { linkType: 1, tsoffset: -86400n }, false)],
  ];
  it.each(variants)('%s (file, gzip, stdin, gzip on stdin)', (name, make) => {
    expectSameFlows(name, make(), expected);
  });
});

describe('real captures converted with editcap', () => {
  const skip = skipReason('editcap conversions') ?? tsharkSkipReason('editcap conversions');
  const noEditcap = skip === undefined && !editcapAvailable();
  // µs captures: every container holds their timestamps exactly.
  // (A few link types and features; the synthetic tests above cover every container with gzip and stdin.)
  const microsecond = ['sip.pcap', 'linux_dlt_sll2.pcap', 'http-qinq-0.pcap'];
  // ns captures: only the ns containers hold their timestamps exactly.
  const nanosecond = ['nanosecs_big_endian.pcap', 'tcp-handshake-nano.pcap'];

  describe.skipIf(skip !== undefined || noEditcap)('conversions', () => {
    it.each(microsecond)(
      '%s as µs/ns pcap (both byte orders), modified pcap, and ns pcapng (also gzip, stdin)',
      (name) => {
        const src = sharedCapture(name);
        const expected = flows([src]);
        const base = join(dir, basename(name));
        const us = `${base}.us.pcap`;
        editcap(src, us, 'pcap');
        const ns = `${base}.ns.pcap`;
        editcap(src, ns, 'nsecpcap');
        const mod = `${base}.mod.pcap`;
        editcap(src, mod, 'modpcap');
        // From the ns pcap, editcap writes an IDB with if_tsresol 9.
        const ng = `${base}.pcapng`;
        editcap(ns, ng, 'pcapng');
        expect(readFileSync(ng).includes(Buffer.from([9, 0, 1, 0, 9]))).toBe(true);
        const usBytes = readFileSync(us);
        const nsBytes = readFileSync(ns);
        expectSameFlows(`${name}.us.pcap`, usBytes, expected, false);
        expectSameFlows(`${name}.us-be.pcap`, pcapToBigEndian(usBytes), expected, false);
        expectSameFlows(`${name}.ns.pcap`, nsBytes, expected, false);
        expectSameFlows(`${name}.ns-be.pcap`, pcapToBigEndian(nsBytes), expected, false);
        expectSameFlows(`${name}.mod.pcap`, readFileSync(mod), expected, false);
        expectSameFlows(`${name}.ns.pcapng`, readFileSync(ng), expected);
      },
    );

    it.each(nanosecond)('%s as ns pcap (both byte orders) and ns pcapng (also gzip, stdin)', (name) => {
      const src = sharedCapture(name);
      const expected = flows([src]);
      const base = join(dir, basename(name));
      const ns = `${base}.ns.pcap`;
      editcap(src, ns, 'nsecpcap');
      const ng = `${base}.pcapng`;
      editcap(src, ng, 'pcapng');
      const nsBytes = readFileSync(ns);
      expectSameFlows(`${name}.ns.pcap`, nsBytes, expected, false);
      expectSameFlows(`${name}.ns-be.pcap`, pcapToBigEndian(nsBytes), expected, false);
      expectSameFlows(`${name}.ns.pcapng`, readFileSync(ng), expected);
    });

    it('a pcapng capture with five interfaces equals its ns pcap conversion', () => {
      // stun.pcap is pcapng despite its name: five Ethernet IDBs.
      const src = sharedCapture('stun.pcap');
      const expected = flows([src]);
      const ns = join(dir, 'stun.ns.pcap');
      editcap(src, ns, 'nsecpcap');
      expectSameFlows('stun.ns.pcap', readFileSync(ns), expected, false);
    });

    it('two pcapng files concatenated (two sections) equal the two files read in one run', () => {
      // `cat a.pcapng b.pcapng` is a valid multi-section file; `flows a b` reads inputs as one capture.
      const a = sharedCapture('stun.pcap');
      const b = sharedCapture('pcapng-testgen_be_test202.pcapng');
      const expected = flows([a, b]);
      expectSameFlows('cat.pcapng', Buffer.concat([readFileSync(a), readFileSync(b)]), expected);
    });

    it('a gzip capture (cid-spec_combined.pcap.gz) equals its decompressed pcapng conversion', () => {
      const src = sharedCapture('cid-spec_combined.pcap.gz');
      const expected = flows([src]);
      const ng = join(dir, 'combined.pcapng');
      editcap(src, ng, 'pcapng');
      expectSameFlows('combined.pcapng', readFileSync(ng), expected, false);
    });
  });
});

describe('classic pcap timestamps to the nanosecond', () => {
  async function times(path: string): Promise<{ times: string[]; warnings: string[] }> {
    const out: string[] = [];
    const s = await readCapture(path, {
      onRecord: (r) => out.push(`${r.tsSec}.${String(r.tsNsec).padStart(9, '0')}`),
    });
    expect(s.error).toBeUndefined();
    return { times: out, warnings: s.warnings.map((w) => `byte ${w.offset}: ${w.problem}`) };
  }

  const packets = mixedTrace().packets.map((p, i) => ({ ...p, nsec: (p.nsec + i * 123_457) % 1e9 }));
  const synthetic: [string, Buffer][] = [
    ['ns-le.pcap', writePcap(packets, { nanosecond: true })],
    ['ns-be.pcap', writePcap(packets, { nanosecond: true, bigEndian: true })],
    ['us-be.pcap', writePcap(packets, { bigEndian: true })],
  ];
  it.each(synthetic)('%s', async (name, bytes) => {
    const path = write(`times-${name}`, bytes);
    const ns = name.startsWith('ns');
    const expected = packets.map(
      (p) => `${p.sec}.${String(ns ? p.nsec : Math.floor(p.nsec / 1000) * 1000).padStart(9, '0')}`,
    );
    expect((await times(path)).times).toEqual(expected);
    if (tsharkAvailable())
      expect(tsharkFields(path, ['frame.time_epoch']).map((r) => r[0])).toEqual(expected);
  });

  const skip =
    skipReason('pcap timestamps against tshark') ?? tsharkSkipReason('pcap timestamps against tshark');
  it
    .skipIf(skip !== undefined)
    .each(['nanosecs_big_endian.pcap', 'tcp-handshake-nano.pcap', 'sip.pcap', 'raw_ip.pcap'])(
    '%s equals tshark frame.time_epoch',
    async (name) => {
      const path = sharedCapture(name);
      expect((await times(path)).times).toEqual(tsharkFields(path, ['frame.time_epoch']).map((r) => r[0]));
    },
  );

  it.skipIf(skip !== undefined)(
    'timestamp_invalid_nano.pcap: fractions of a second or more are carried, with a warning',
    async () => {
      // tshark prints these as "1418145370.1000000000" and a negative time; we carry the excess into the
      // seconds and say where: the records at bytes 116 and 208 have fractions of 1e9 and 2^31 ns.
      const { times: t, warnings } = await times(sharedCapture('timestamp_invalid_nano.pcap'));
      expect(t).toEqual(['1418145369.999999999', '1418145371.000000000', '1418145372.147483648']);
      expect(warnings).toEqual([
        'byte 116: timestamp fraction 1000000000 is out of range',
        'byte 208: timestamp fraction 2147483648 is out of range',
      ]);
    },
  );
});
