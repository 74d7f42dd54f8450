/**
 * Cross-flow steps of analyze on real captures: the call view (SIP dialogs, the media their SDP
 * negotiated, whether it flowed) and DCE/RPC follow-on connections tied to the endpoint-mapper
 * exchange that announced their port.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { sharedCapture, skipReason } from './helpers/shared.js';
import { tsharkSkipReason } from './helpers/tshark.js';
import { writePcap } from './helpers/capture-writer.js';
import { Trace, TcpConn } from './helpers/traffic.js';
import type { Analysis } from '../src/verdict/analysis.js';

function analyze(capture: string, ...extra: string[]): Analysis {
  const r = runCli(['analyze', capture, '--format', 'json', ...extra]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Analysis;
}

const skip = skipReason('cross-flow steps');

describe.skipIf(skip !== undefined)('the call view', () => {
  it('finds the INVITE dialog of sip_ipv4_tcp.pcap and its audio flowing both ways', () => {
    const a = analyze(sharedCapture('sip_ipv4_tcp.pcap'));
    expect(a.calls).toHaveLength(1);
    const call = a.calls[0];
    expect(call.invite_status).toBe(200);
    expect(call.bye).toBe(true);
    expect(call.media).toEqual([
      expect.objectContaining({
        type: 'audio',
        offer: '10.33.6.100:6000',
        answer: '10.33.6.101:6050',
        status: 'both-ways',
        to_answerer: 24,
        to_offerer: 42,
      }),
    ]);
    // The RTP flow it points at is in the flows, by Community ID.
    const rtp = a.flows.find((f) => f.community_id === call.media[0].flows[0]);
    expect(rtp?.app).toBe('rtp');
    expect(call.findings).toEqual([]);
  });

  it('reports rejected calls and media that flowed one way (sip.pcap)', () => {
    const a = analyze(sharedCapture('sip.pcap'));
    // Registrations are dialogs but not calls.
    expect(a.calls.every((c) => c.invite_status !== undefined)).toBe(true);
    const rejected = a.calls.filter((c) => c.findings.some((f) => f.kind === 'call-failed'));
    expect(rejected.map((c) => c.invite_status).sort()).toEqual([403, 403, 408, 480]);
    const oneWay = a.calls.flatMap((c) => c.media).filter((m) => m.status === 'one-way');
    expect(oneWay).toEqual([
      expect.objectContaining({
        offer: '192.168.1.2:30000',
        answer: '212.242.33.36:40392',
        to_answerer: 9,
        to_offerer: 0,
      }),
    ]);
  });
});

describe.skipIf(skip !== undefined || tsharkSkipReason('rpc links') !== undefined)(
  'DCE/RPC follow-on connections',
  () => {
    it('judges a connection to the port the endpoint mapper announced as the TCP 135 service', () => {
      // kerberos135_auth.pcapng: a DCOM activation that announces TCP 49718 on 10.10.10.100.
      // We add the follow-on connection to that port (mergecap keeps the real exchange as it is).
      const dir = mkdtempSync(join(tmpdir(), 'lpa-rpc-'));
      const t = new Trace(1584356790);
      new TcpConn(t, { client: '10.10.10.129', server: '10.10.10.100', cport: 64300, sport: 49718 })
        .handshake()
        .exchange(120, 80)
        .close();
      const followOn = join(dir, 'follow-on.pcap');
      writeFileSync(followOn, writePcap(t.packets));
      const merged = join(dir, 'merged.pcapng');
      const m = spawnSync('mergecap', ['-w', merged, sharedCapture('kerberos135_auth.pcapng'), followOn], {
        encoding: 'utf8',
      });
      expect(m.status, m.stderr).toBe(0);
      // DCOM on 135 runs between the pool's servers (moving users, address book synchronization).
      const roles = ['--role', 'front-end=10.10.10.100', '--role', 'director=10.10.10.129'];
      const a = analyze(merged, ...roles);
      const mapper = a.flows.find((f) => f.resp_p === 135)!;
      expect(mapper.app).toBe('dcerpc');
      const dynamic = a.flows.find((f) => f.resp_p === 49718)!;
      expect(dynamic.linked).toEqual({ kind: 'dcerpc-endpoint', mapper: mapper.community_id, port: 135 });
      expect(dynamic.catalog.map((c) => c.protocol)).toEqual(['dcom-rpc']);
      expect(dynamic.verdict).toBe('ok');
      expect(a.summary.notes.join(' ')).toMatch(/endpoint mapper/);
      // Without the mapper exchange the same connection is just a port in the Front End's media range.
      const alone = analyze(followOn, ...roles).flows.find((f) => f.resp_p === 49718)!;
      expect(alone.linked).toBeUndefined();
      expect(alone.catalog.map((c) => c.protocol)).not.toContain('dcom-rpc');
    });
  },
);
