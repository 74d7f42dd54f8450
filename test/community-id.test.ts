/**
 * Community ID v1 (https://github.com/corelight/community-id-spec) checked against every
 * published reference we have: the spec's hand-picked vectors (always, they are small enough to
 * keep here), the spec's per-flow baselines for its reference capture (seed 0, seed 1, hex), Zeek's
 * per-connection baselines for its ICMP and ICMPv6 traces, Wireshark's per-frame baseline (rebuilt
 * from the shared captures as PROVENANCE.md "Community ID notes" describes) and tshark's
 * communityid dissector on real captures.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { communityId } from '../src/flow/community-id.js';
import type { FlowRecord } from '../src/flow/record.js';
import { parseNdjson, runCli } from './helpers/cli.js';
import { addressBytes } from './helpers/packets.js';
import { sharedCapture, skipReason } from './helpers/shared.js';
import { tsharkAvailable, tsharkSkipReason } from './helpers/tshark.js';

/**
 * The spec's ICMP rule, written out independently of src/: request/reply types map to their
 * counterpart and are ordered like ports; every other type is one-way, with the code as "port".
 */
const ICMP4_COUNTERPART: Record<number, number> = {
  8: 0,
  0: 8,
  13: 14,
  14: 13,
  15: 16,
  16: 15,
  10: 9,
  9: 10,
  17: 18,
  18: 17,
};
const ICMP6_COUNTERPART: Record<number, number> = {
  128: 129,
  129: 128,
  130: 131,
  131: 130,
  133: 134,
  134: 133,
  135: 136,
  136: 135,
  139: 140,
  140: 139,
  144: 145,
  145: 144,
};

/** A spec table row: for ICMP, sport is the type and dport the code. */
function vector(
  proto: number,
  src: string,
  dst: string,
  sport: number | null,
  dport: number | null,
  seed = 0,
  b64 = true,
): string {
  let dp = dport ?? 0;
  let oneWay = false;
  if ((proto === 1 || proto === 58) && sport !== null) {
    const other = (proto === 1 ? ICMP4_COUNTERPART : ICMP6_COUNTERPART)[sport];
    if (other === undefined) oneWay = true;
    else dp = other;
  }
  return communityId(
    { proto, src: addressBytes(src), dst: addressBytes(dst), sport: sport ?? 0, dport: dp, oneWay },
    seed,
    b64,
  );
}

describe('the spec README vectors', () => {
  // baseline/README.md of community-id-spec, seed 0 with base64, seed 1, and seed 0 as hex.
  const v6a = 'fe80:0001:0203:0405:0607:0809:0A0B:0C0D';
  const v6b = 'fe80:1011:1213:1415:1617:1819:1A1B:1C1D';
  const rows: [number, string, string, number | null, number | null, string, string, string][] = [
    [
      6,
      '1.2.3.4',
      '5.6.7.8',
      1122,
      3344,
      '1:wCb3OG7yAFWelaUydu0D+125CLM=',
      '1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=',
      'c026f7386ef200559e95a53276ed03fb5db908b3',
    ],
    [
      6,
      '5.6.7.8',
      '1.2.3.4',
      3344,
      1122,
      '1:wCb3OG7yAFWelaUydu0D+125CLM=',
      '1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=',
      'c026f7386ef200559e95a53276ed03fb5db908b3',
    ],
    [
      17,
      '1.2.3.4',
      '5.6.7.8',
      1122,
      3344,
      '1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=',
      '1:OShq+iKDAMVouh/4bMxB9Sz4amw=',
      'd0cbbd227431eb3e1988264cffb1d78b658c84e8',
    ],
    [
      132,
      '5.6.7.8',
      '1.2.3.4',
      3344,
      1122,
      '1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=',
      '1:uitchpn5MMGAQKBJh7bIr/bAr7s=',
      '10ab7832cc6ec9a13a98bfa19ab12443d72c0c3f',
    ],
    [
      1,
      '1.2.3.4',
      '5.6.7.8',
      8,
      0,
      '1:crodRHL2FEsHjbv3UkRrfbs4bZ0=',
      '1:9pr4ZGTICiuZoIh90RRYE2RyXpU=',
      '72ba1d4472f6144b078dbbf752446b7dbb386d9d',
    ],
    [
      1,
      '5.6.7.8',
      '1.2.3.4',
      0,
      0,
      '1:crodRHL2FEsHjbv3UkRrfbs4bZ0=',
      '1:9pr4ZGTICiuZoIh90RRYE2RyXpU=',
      '72ba1d4472f6144b078dbbf752446b7dbb386d9d',
    ],
    [
      1,
      '1.2.3.4',
      '5.6.7.8',
      11,
      0,
      '1:f/YiSyWqczrTgfUCZlBUnvHRcPk=',
      '1:1DD7cWGC/Yg91YGsQeni8du3pIA=',
      '7ff6224b25aa733ad381f5026650549ef1d170f9',
    ],
    [
      58,
      v6a,
      v6b,
      128,
      0,
      '1:0bf7hyMJUwt3fMED7z8LIfRpBeo=',
      '1:IO27GQzPuCtNnwFvjWALMHu5tJE=',
      'd1b7fb872309530b777cc103ef3f0b21f46905ea',
    ],
    [
      58,
      v6b,
      v6a,
      129,
      0,
      '1:0bf7hyMJUwt3fMED7z8LIfRpBeo=',
      '1:IO27GQzPuCtNnwFvjWALMHu5tJE=',
      'd1b7fb872309530b777cc103ef3f0b21f46905ea',
    ],
    [
      58,
      v6a,
      v6b,
      146,
      0,
      '1:fYC8+pz24E+EhANP1EZhpX0Dw10=',
      '1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s=',
      '7d80bcfa9cf6e04f8484034fd44661a57d03c35d',
    ],
    [
      46,
      '1.2.3.4',
      '5.6.7.8',
      null,
      null,
      '1:ikv3kmf89luf73WPz1jOs49S768=',
      '1:/buhqeOmaRCopOZFy9HnoJd5XW8=',
      '8a4bf79267fcf65b9fef758fcf58ceb38f52efaf',
    ],
    [
      46,
      v6b,
      v6a,
      null,
      null,
      '1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=',
      '1:j6EyyfBzL4vWKHFXgUqb5Az3OxM=',
      'c10ff69b0ae75cfe259897077462f978f8d1f9ed',
    ],
  ];
  it.each(rows)('proto %i %s → %s', (proto, src, dst, sport, dport, seed0, seed1, hex) => {
    expect(vector(proto, src, dst, sport, dport)).toBe(seed0);
    expect(vector(proto, src, dst, sport, dport, 1)).toBe(seed1);
    expect(vector(proto, src, dst, sport, dport, 0, false)).toBe(`1:${hex}`);
  });

  const readme = sharedCapture('cid-spec_baseline_README.md');
  it.skipIf(!existsSync(readme))('every row of the README tables in ../shared', () => {
    // Rows: | Proto name | number | src | dst | sport | dport | id | comment |, in three tables.
    const tables = readFileSync(readme, 'utf8').split('### ').slice(1);
    const modes: [number, boolean][] = [
      [0, true],
      [1, true],
      [0, false],
    ];
    let checked = 0;
    tables.forEach((table, i) => {
      const [seed, b64] = modes[i];
      for (const line of table.split('\n')) {
        const cells = line.split('|').map((c) => c.trim());
        if (cells.length < 9 || !/^\d+$/.test(cells[2])) continue;
        const port = (c: string): number | null => (c === '-' ? null : Number(c));
        expect(
          vector(Number(cells[2]), cells[3], cells[4], port(cells[5]), port(cells[6]), seed, b64),
          line,
        ).toBe(cells[7]);
        checked++;
      }
    });
    expect(checked).toBe(48);
  });
});

interface Baseline {
  proto: number;
  saddr: string;
  daddr: string;
  sport: number | null;
  dport: number | null;
  communityid: string;
}

function endpointKey(proto: number, a: string, ap: number | null, b: string, bp: number | null): string {
  const x = `${a}#${ap ?? 0}`;
  const y = `${b}#${bp ?? 0}`;
  return `${proto} ${x < y ? `${x} ${y}` : `${y} ${x}`}`;
}

/** Every frame counted, as tshark counts it (exact duplicates are kept: see duplicates.test.ts). */
function flowsOf(capture: string, extra: string[] = []): FlowRecord[] {
  const run = runCli(['flows', '--no-progress', '--keep-duplicates', ...extra, capture]);
  expect(run.status, run.stderr).toBe(0);
  return parseNdjson<FlowRecord>(run.stdout);
}

const skipShared = skipReason('Community ID baselines');

describe.skipIf(skipShared !== undefined)('the spec baselines on its reference capture', () => {
  const capture = sharedCapture('cid-spec_combined.pcap.gz');
  const cases: [string, string[], (id: string) => string][] = [
    ['cid-spec_baseline_deflt.json', [], (id) => id],
    ['cid-spec_baseline_seed1.json', ['--seed', '1'], (id) => id],
    // The hex form is the same SHA-1 digest: compare the hex of our base64.
    ['cid-spec_baseline_nob64.json', [], (id) => `1:${Buffer.from(id.slice(2), 'base64').toString('hex')}`],
  ];
  it.each(cases)('%s', (file, args, convert) => {
    const baseline = JSON.parse(readFileSync(sharedCapture(file), 'utf8')) as Baseline[];
    const ours = new Map<string, string>();
    for (const f of flowsOf(capture, args)) {
      ours.set(endpointKey(f.ip_proto, f.orig_h, f.orig_p, f.resp_h, f.resp_p), convert(f.community_id));
    }
    expect(baseline).toHaveLength(23);
    for (const b of baseline) {
      const key = endpointKey(b.proto, b.saddr, b.sport, b.daddr, b.dport);
      expect(ours.get(key), key).toBe(b.communityid);
    }
    // And nothing else: every IP flow of the capture is in the baseline (ARP has no ID).
    expect(new Set(baseline.map((b) => endpointKey(b.proto, b.saddr, b.sport, b.daddr, b.dport)))).toEqual(
      new Set(ours.keys()),
    );
  });
});

describe.skipIf(skipShared !== undefined)("Zeek's per-connection baselines", () => {
  it.each(['cid-zeek_icmp.pcap', 'cid-zeek_icmp6.pcap'])('%s', (name) => {
    // [orig_h=..., orig_p=8/icmp, resp_h=..., resp_p=0/icmp, proto=1, ctx=[]], 1:...
    const zeek = new Map<string, string>();
    for (const line of readFileSync(sharedCapture(`${name}.zeek-baseline.txt`), 'utf8').split('\n')) {
      const m =
        /^\[orig_h=(\S+), orig_p=(\d+)\/\w+, resp_h=(\S+), resp_p=(\d+)\/\w+, proto=(\d+), ctx=\[\]\], (\S+)$/.exec(
          line,
        );
      if (m) zeek.set(`${m[5]} ${m[1]}:${m[2]} > ${m[3]}:${m[4]}`, m[6]);
    }
    expect(zeek.size).toBeGreaterThan(0);
    const ours = new Map<string, string>();
    for (const f of flowsOf(sharedCapture(name)))
      ours.set(`${f.ip_proto} ${f.orig_h}:${f.orig_p} > ${f.resp_h}:${f.resp_p}`, f.community_id);
    // Same connections, same originators, same IDs.
    expect(ours).toEqual(zeek);
  });
});

/** Packets per Community ID: ours summed over flows, tshark's counted per frame. */
function oursPerId(flows: FlowRecord[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const f of flows) m.set(f.community_id, (m.get(f.community_id) ?? 0) + f.orig_pkts + f.resp_pkts);
  return m;
}

function tsharkPerId(capture: string): Map<string, number> {
  const r = spawnSync(
    'tshark',
    ['-n', '--enable-protocol', 'communityid', '-r', capture, '-T', 'fields', '-e', 'communityid'],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const m = new Map<string, number>();
  for (const line of r.stdout.split('\n')) if (line) m.set(line, (m.get(line) ?? 0) + 1);
  return m;
}

const skipTshark = skipShared ?? tsharkSkipReason('Community ID against tshark');

describe.skipIf(skipTshark !== undefined)("Wireshark's communityid dissector", () => {
  const dir = mkdtempSync(join(tmpdir(), 'lpa-cid-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("rebuilds Wireshark's baseline file, and our flows carry its IDs packet for packet", () => {
    // PROVENANCE.md: cid-spec_arp.pcap followed by a time-ordered merge of these seven files.
    const parts = [
      'cid-zeek_icmp.pcap',
      'cid-zeek_icmp6.pcap',
      'cid-spec_ipv6.pcap',
      'cid-spec_rsvp.pcap',
      'cid-spec_sctp.pcap',
      'cid-spec_tcp.pcap',
      'cid-spec_udp.pcap',
    ];
    const merged = join(dir, 'merged.pcapng');
    const all = join(dir, 'communityid.pcapng');
    expect(spawnSync('mergecap', ['-w', merged, ...parts.map(sharedCapture)]).status).toBe(0);
    expect(spawnSync('mergecap', ['-a', '-w', all, sharedCapture('cid-spec_arp.pcap'), merged]).status).toBe(
      0,
    );
    const baselineLines = readFileSync(sharedCapture('wireshark-baseline_communityid.txt'), 'utf8').split(
      '\n',
    );
    const r = spawnSync(
      'tshark',
      ['-n', '--enable-protocol', 'communityid', '-r', all, '-T', 'fields', '-e', 'communityid'],
      { encoding: 'utf8' },
    );
    expect(r.stdout.split('\n')).toEqual(baselineLines);
    const baseline = new Map<string, number>();
    for (const line of baselineLines) if (line) baseline.set(line, (baseline.get(line) ?? 0) + 1);
    expect(oursPerId(flowsOf(all))).toEqual(baseline);
    // The filtered baseline is the UDP/DNS flow's two frames.
    const filtered = readFileSync(sharedCapture('wireshark-baseline_communityid-filtered.txt'), 'utf8')
      .split('\n')
      .filter(Boolean);
    const dns = flowsOf(all).filter((f) => f.community_id === filtered[0]);
    expect(dns.map((f) => `${f.proto} ${f.orig_pkts + f.resp_pkts}`)).toEqual([`udp ${filtered.length}`]);
  });

  // Captures without IP fragments (tshark gives a reassembled datagram one ID on one frame, and
  // the other fragments another, port-less one; we count every fragment to the datagram's flow).
  const real = [
    'teams.pcap',
    'synscan.pcap',
    'stun.pcap',
    'icmp-destunreach-udp.pcap',
    'sip.pcap',
    'raw_ip.pcap',
    'linux_dlt_sll2.pcap',
    'http-qinq-0.pcap',
    'null_loopback.pcap',
    'sip_ipv6_udp.pcap',
    'smbv1.pcap',
    'rtp.pcapng',
    'tcp_refuseconnection.pcapng',
  ];
  it.each(real)('%s: every packet of every flow has the ID tshark gives its frame', (name) => {
    expect(tsharkAvailable()).toBe(true);
    expect(oursPerId(flowsOf(sharedCapture(name)))).toEqual(tsharkPerId(sharedCapture(name)));
  });
});
