/**
 * The media and signalling recognizers (STUN / TURN / MS-TURN, RTP, RTCP, SIP) against tshark's
 * dissectors on the real captures in ../shared/captures.
 *
 * tshark 4.0's view per flow: the protocols in `frame.protocols` of every frame of the 5-tuple.
 * STUN (also `classicstun` for cookie-less RFC 3489 / MS-TURN messages), RTCP and SIP are found by
 * tshark's default heuristics and ports; RTP on arbitrary ports only with its UDP heuristic, which
 * is off by default, so we run `tshark --enable-heuristic rtp_udp` (RTP opened by SDP in SIP/MGCP
 * is found either way). tshark's main label for a flow uses the same precedence as ours: rtp
 * (or srtp) if any frame was RTP, else rtcp (or srtcp), else stun / classicstun, else sip.
 *
 * For every flow where tshark names one of these protocols our `app` must agree, except the
 * disagreements listed (and explained) in EXPLAINED; the agreement rate is printed and must be at
 * least 95%. Flows we label that tshark does not are listed in EXTRA, each with its reason.
 * The nDPI result files are printed as a third-party sanity check, not asserted as ground truth.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parseNdjson, runCli } from './helpers/cli.js';
import { sharedCapture, skipReason } from './helpers/shared.js';
import { tsharkSkipReason } from './helpers/tshark.js';
import type { FlowRecord } from '../src/flow/record.js';

const CAPTURES = [
  'teams.pcap',
  'skype-conference-call.pcap',
  'stun_msteams_unidir.pcapng',
  'stun.pcap',
  'stun_tcp_multiple_msgs_same_pkt.pcap',
  'webrtc-stun.pcap',
  'sip.pcap',
  'sip_ipv4_tcp.pcap',
  'sip_ipv6_udp.pcap',
  'rtp_rtcp_sip_ipv4_udp.pcap',
  'rtp.pcapng',
  'rtcp_multiple_pkts_in_the_same_datagram.pcap',
  'public-cloudshark-sip-s0.pcap',
  'sip_ipv4_tcp_retrans.pcap',
  'sip_tcp_websocket.pcap',
];

const TSHARK_ARGS = ['--enable-heuristic', 'rtp_udp'];
const RANK: Record<string, number> = { rtp: 4, rtcp: 3, stun: 2, sip: 1 };

/** tshark protocol names that mean one of our labels. */
const TSHARK_NAMES: Record<string, string> = {
  stun: 'stun',
  classicstun: 'stun',
  rtp: 'rtp',
  srtp: 'rtp',
  rtcp: 'rtcp',
  srtcp: 'rtcp',
  sip: 'sip',
};

/**
 * Disagreements, keyed "capture|flow key", with the reason. Each one is checked to still occur.
 */
const EXPLAINED: Record<string, string> = {
  'teams.pcap|udp 192.168.1.6:50036 93.71.110.205:16333':
    'ICE pair with STUN checks, then two SRTCP datagrams (PSFB and RR from SSRC 0x0000e65b, RFC 5761 muxed): we say rtcp. ' +
    "tshark's RTCP-over-UDP heuristic only takes datagrams sent to an odd port (RFC 3550 section 11) whose length is a " +
    'multiple of 4; these go to port 50036 and carry the SRTCP index and a 10-byte tag, so tshark leaves them as data.',
  'stun_msteams_unidir.pcapng|udp 10.0.0.1:50006 52.115.136.55:3479':
    'Teams relay to client, one direction only: 4 STUN Binding responses and 8 SRTCP SR/RR datagrams (two SSRCs, each ' +
    "seen repeatedly) on the same 5-tuple: we say rtcp; tshark's RTCP heuristic rejects them (even port 50006, SRTCP trailer).",
};

/** Flows we label where tshark names none of the four protocols, with the reason. */
const EXTRA: Record<string, string> = {
  'rtp.pcapng|tcp 172.16.168.24:40252 172.16.168.64:5000':
    'RTP over TCP with RFC 4571 framing (2-byte length, then RTP version 2, PCMA, one SSRC, consecutive sequence ' +
    'numbers): tshark has no heuristic for RFC 4571 framing and shows it as TCP data (nDPI, for what it is worth, says RTP).',
};

/**
 * "addr:port", IPv6 in brackets and in one canonical text form on both sides (our flow records
 * compress a single zero group with "::", tshark follows RFC 5952 section 4.2.2 and does not).
 */
function endpoint(h: string, p: number | string): string {
  return h.includes(':') ? `[${new URL(`http://[${h}]/`).hostname.slice(1, -1)}]:${p}` : `${h}:${p}`;
}

function flowKey(proto: string, a: string, b: string): string {
  return a <= b ? `${proto} ${a} ${b}` : `${proto} ${b} ${a}`;
}

function best(labels: Iterable<string>): string | undefined {
  let out: string | undefined;
  for (const l of labels) if (RANK[l] !== undefined && (out === undefined || RANK[l] > RANK[out])) out = l;
  return out;
}

/** Per flow, the set of our four labels tshark found in its frames. */
function tsharkFlows(capture: string): Map<string, Set<string>> {
  const r = spawnSync(
    'tshark',
    [
      '-n',
      '-r',
      capture,
      ...TSHARK_ARGS,
      '-T',
      'fields',
      '-E',
      'separator=\t',
      '-e',
      'frame.protocols',
      '-e',
      'ip.src',
      '-e',
      'ipv6.src',
      '-e',
      'ip.dst',
      '-e',
      'ipv6.dst',
      '-e',
      'udp.srcport',
      '-e',
      'udp.dstport',
      '-e',
      'tcp.srcport',
      '-e',
      'tcp.dstport',
    ],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  const flows = new Map<string, Set<string>>();
  for (const line of r.stdout.split('\n')) {
    if (line.length === 0) continue;
    const [protocols, ip4s, ip6s, ip4d, ip6d, us, ud, ts, td] = line.split('\t');
    const layers = protocols.split(':');
    // ICMP errors quote an inner header (two addresses per field); tunnels too: not a flow of their own.
    if (layers.includes('icmp') || layers.includes('icmpv6')) continue;
    const src = ip4s || ip6s;
    const dst = ip4d || ip6d;
    if (!src || !dst || src.includes(',') || dst.includes(',')) continue;
    const udp = us !== '';
    const sp = udp ? us : ts;
    const dp = udp ? ud : td;
    if (!sp || !dp || sp.includes(',')) continue;
    const key = flowKey(udp ? 'udp' : 'tcp', endpoint(src, sp), endpoint(dst, dp));
    let set = flows.get(key);
    if (set === undefined) flows.set(key, (set = new Set()));
    for (const l of layers) {
      const ours = TSHARK_NAMES[l];
      if (ours !== undefined) set.add(ours);
    }
  }
  return flows;
}

function ourFlows(capture: string): Map<string, { labels: Set<string>; records: FlowRecord[] }> {
  const run = runCli(['flows', '--no-progress', capture]);
  expect(run.signal).toBeNull();
  const out = new Map<string, { labels: Set<string>; records: FlowRecord[] }>();
  for (const f of parseNdjson<FlowRecord>(run.stdout)) {
    if (f.proto !== 'tcp' && f.proto !== 'udp') continue;
    const key = flowKey(f.proto, endpoint(f.orig_h, f.orig_p), endpoint(f.resp_h, f.resp_p));
    let e = out.get(key);
    if (e === undefined) out.set(key, (e = { labels: new Set(), records: [] }));
    if (f.app !== undefined) e.labels.add(f.app);
    e.records.push(f);
  }
  return out;
}

/** nDPI's "addr:port" / "[v6]:port" in our key form (nDPI sometimes prints invalid IPv6 text: kept as is). */
function ndpiEndpoint(text: string): string {
  const colon = text.lastIndexOf(':');
  const host = text.slice(0, colon).replace(/^\[|\]$/g, '');
  try {
    return endpoint(host, text.slice(colon + 1));
  } catch {
    return text;
  }
}

/** nDPI's label per flow from its result file: "proto: 78.38/STUN.Skype_TeamsCall" → "STUN.Skype_TeamsCall". */
function ndpiFlows(capture: string): Map<string, string> {
  const file = `${capture}.ndpi-result.txt`;
  const out = new Map<string, string>();
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const t = line.trim().split(/\s+/);
    if (t.length < 5 || (t[1] !== 'UDP' && t[1] !== 'TCP')) continue;
    const a = ndpiEndpoint(t[2]);
    const b = ndpiEndpoint(t[4]);
    const m = line.indexOf('[proto: ');
    if (m < 0) continue;
    const label = line.slice(m + 8, line.indexOf(']', m)).replace(/^[\d.]+\//, '');
    out.set(flowKey(t[1].toLowerCase(), a, b), label);
  }
  return out;
}

const skip = skipReason('recognizers vs tshark') ?? tsharkSkipReason('recognizers vs tshark');

describe.skipIf(skip !== undefined)('media and signalling recognizers agree with tshark', () => {
  const totals = { flows: 0, agree: 0 };
  const seenExplained = new Set<string>();
  const seenExtra = new Set<string>();

  it.each(CAPTURES)('%s', (name) => {
    const capture = sharedCapture(name);
    const theirs = tsharkFlows(capture);
    const ours = ourFlows(capture);
    let flows = 0;
    let agree = 0;
    const unexplained: string[] = [];
    for (const [key, set] of theirs) {
      const expected = best(set);
      if (expected === undefined) continue;
      flows++;
      const got = best(ours.get(key)?.labels ?? []);
      if (got === expected) {
        agree++;
        continue;
      }
      const id = `${name}|${key}`;
      const why = EXPLAINED[id];
      if (why === undefined)
        unexplained.push(`${id}: tshark ${expected} (${[...set].join(',')}), ours ${got}`);
      else seenExplained.add(id);
    }
    for (const [key, e] of ours) {
      const got = best(e.labels);
      if (got === undefined || best(theirs.get(key) ?? []) !== undefined) continue;
      const id = `${name}|${key}`;
      if (EXTRA[id] === undefined) unexplained.push(`${id}: ours ${got}, tshark none`);
      else seenExtra.add(id);
    }
    totals.flows += flows;
    totals.agree += agree;
    console.log(`${name}: ${agree}/${flows} flows agree with tshark ${TSHARK_ARGS.join(' ')}`);

    // nDPI, for the record.
    const ndpi = ndpiFlows(capture);
    for (const [key, label] of ndpi) {
      if (!/^(STUN|RTP|RTCP|SIP|DTLS|Skype|Teams)/.test(label)) continue;
      console.log(`  nDPI ${label.padEnd(28)} ours ${best(ours.get(key)?.labels ?? []) ?? '-'}  ${key}`);
    }
    expect(unexplained).toEqual([]);
  });

  it('agrees on at least 95% of the flows tshark labels, and every listed disagreement still occurs', () => {
    const rate = totals.flows === 0 ? 1 : totals.agree / totals.flows;
    console.log(`total: ${totals.agree}/${totals.flows} = ${(rate * 100).toFixed(1)}%`);
    expect(totals.flows).toBeGreaterThan(0);
    expect(rate).toBeGreaterThanOrEqual(0.95);
    expect(Object.keys(EXPLAINED).filter((k) => !seenExplained.has(k))).toEqual([]);
    expect(Object.keys(EXTRA).filter((k) => !seenExtra.has(k))).toEqual([]);
  });
});
