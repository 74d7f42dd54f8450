/**
 * pcap-parser (the design card's package) as an independent oracle for classic pcap: it is not
 * on the runtime path (see docs/decisions.md, "pcap-parser"), but for the files it can read
 * (microsecond magic, either byte order, version 2.4) every record it reports must be one our
 * reader reports too, with the same captured length, original length and timestamp.
 */
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../src/capture/reader.js';
import { sharedCapture, skipReason } from './helpers/shared.js';

interface PcapParserPacket {
  header: {
    timestampSeconds: number;
    timestampMicroseconds: number;
    capturedLength: number;
    originalLength: number;
  };
}

const pcapParser = createRequire(import.meta.url)('pcap-parser') as {
  parse(input: string): EventEmitter;
};

interface Row {
  caplen: number;
  len: number;
  sec: number;
  usec: number;
}

/** Every record as pcap-parser sees it. It calls `new Buffer()`, deprecated: silence that one warning. */
function readWithPcapParser(path: string): Promise<Row[]> {
  process.noDeprecation = true;
  return new Promise((resolve, reject) => {
    const rows: Row[] = [];
    const parser = pcapParser.parse(path);
    parser.on('packet', (p: PcapParserPacket) =>
      rows.push({
        caplen: p.header.capturedLength,
        len: p.header.originalLength,
        sec: p.header.timestampSeconds,
        usec: p.header.timestampMicroseconds,
      }),
    );
    parser.on('error', reject);
    parser.on('end', () => resolve(rows));
  });
}

async function readWithOurs(path: string): Promise<Row[]> {
  const rows: Row[] = [];
  const summary = await readCapture(path, {
    onRecord: (rec) =>
      rows.push({ caplen: rec.caplen, len: rec.origLen, sec: rec.tsSec, usec: rec.tsNsec / 1000 }),
  });
  expect(summary.error).toBeUndefined();
  expect(summary.format).toBe('pcap');
  return rows;
}

/** Real classic pcaps of different sizes, link types and both byte orders (see ../shared/captures/PROVENANCE.md). */
const CAPTURES = [
  'teams.pcap', // Ethernet, little-endian, 1540 packets
  'rtp_rtcp_sip_ipv4_udp.pcap', // the largest shared pcap (0.9 MB)
  'microsecs_big_endian.pcap', // big-endian
  'synscan.pcap', // many tiny records
  'linux_dlt_sll2.pcap', // Linux cooked v2
  'null_loopback.pcap', // BSD loopback
];

const skip = skipReason('pcap-parser oracle');

describe.skipIf(skip !== undefined)('pcap-parser and our reader agree on real classic pcaps', () => {
  it.each(CAPTURES)('%s', async (name) => {
    const path = sharedCapture(name);
    if (!existsSync(path)) {
      console.warn(`pcap-parser oracle: ${name} is not in ../shared/captures, skipped`);
      return;
    }
    const [theirs, ours] = await Promise.all([readWithPcapParser(path), readWithOurs(path)]);
    expect(theirs.length).toBeGreaterThan(0);
    expect(ours).toEqual(theirs);
  });
});
