/**
 * Role inference and the notices of issue 9, on real bytes: a server role only from answered
 * traffic, the DHCP vendor classes (MS-UC-Client, CPE-OCPHONE) the DHCP recogniser writes,
 * Microsoft 365 / Teams addresses as a role of their own (synthetic captures, the shared
 * teams.pcap), a port scan said to be one (the shared synscan.pcap), and never an all-clear over
 * nothing judged.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { ByteConn, udpDatagram, writeTrace } from './helpers/app.js';
import { dhcpMessage, ip, opt } from './helpers/dhcp-bytes.js';
import { SYN } from './helpers/packets.js';
import { sharedCapture, skipReason } from './helpers/shared.js';
import { storedCapture } from './helpers/lab.js';
import { TcpConn, Trace } from './helpers/traffic.js';
import { clientHello, record, serverHello } from './helpers/tls-bytes.js';
import { renderTable } from '../src/report/table.js';
import { analyzeCaptures } from '../src/verdict/analyze.js';
import type { Analysis } from '../src/verdict/analysis.js';
import { loadCatalogForAnalysis } from '../src/verdict/catalog-access.js';

const loaded = loadCatalogForAnalysis('lync2010', []);

async function analyze(path: string): Promise<Analysis> {
  return (await analyzeCaptures([path], { catalog: loaded })).analysis;
}

function roleOf(a: Analysis, address: string): string[] {
  return a.summary.topology.inferred.filter((e) => e.address === address).map((e) => e.role);
}

const FE = '10.0.0.10';
const SILENT = '10.0.0.99';
const DHCP_SERVER = '10.0.0.5';

function inferenceCapture(): string {
  const t = new Trace();
  // A Front End that answers SIP/TLS on 5061.
  const c = new ByteConn(t, { client: '10.1.0.5', server: FE, cport: 41000, sport: 5061 }).handshake();
  c.send(true, record(22, clientHello({ sni: 'fe.contoso.com' }), 0x0301));
  c.send(false, record(22, serverHello()));
  c.close();
  // A host that never answers SYNs to the Mediation Server's ports: nothing says it is one.
  for (const port of [5068, 5070, 5067])
    new TcpConn(t, { client: '10.1.0.6', server: SILENT, cport: 42000 + port, sport: port })
      .send(true, SYN)
      .retransmit(true, SYN, 0, 1_000_000);
  // A Lync Phone Edition device: DHCPDISCOVER from 0.0.0.0 with CPE-OCPHONE, the OFFER names its address.
  udpDatagram(
    t,
    '0.0.0.0',
    '255.255.255.255',
    68,
    67,
    dhcpMessage({ op: 1, xid: 0x0c0ffee, options: [opt(53, [1]), opt(60, 'CPE-OCPHONE')] }),
  );
  udpDatagram(
    t,
    DHCP_SERVER,
    '255.255.255.255',
    67,
    68,
    dhcpMessage({
      op: 2,
      xid: 0x0c0ffee,
      yiaddr: '10.1.0.77',
      options: [opt(53, [2]), opt(54, ip(DHCP_SERVER))],
    }),
  );
  // A Lync client's DHCPINFORM (MS-UC-Client, its own address in ciaddr), and nothing else from it.
  udpDatagram(
    t,
    '10.1.0.8',
    '255.255.255.255',
    68,
    67,
    dhcpMessage({ op: 1, xid: 0x1234, ciaddr: '10.1.0.8', options: [opt(53, [8]), opt(60, 'MS-UC-Client')] }),
  );
  // A Teams client and a Microsoft relay (52.114.0.0 lies in 52.112.0.0/14) answering STUN.
  const stun = Buffer.alloc(20);
  stun.writeUInt16BE(0x0001, 0);
  stun.writeUInt32BE(0x2112a442, 4);
  const answer = Buffer.from(stun);
  answer.writeUInt16BE(0x0101, 0);
  udpDatagram(t, '10.1.0.9', '52.114.77.33', 50010, 3478, stun);
  udpDatagram(t, '52.114.77.33', '10.1.0.9', 3478, 50010, answer);
  return writeTrace(t, 'inference');
}

describe('role inference', () => {
  it('a server role only from answered traffic; DHCP vendor classes; Microsoft 365 a role of its own', async () => {
    const a = await analyze(inferenceCapture());
    expect(roleOf(a, FE)).toEqual(['front-end']);
    expect(a.summary.topology.inferred.find((e) => e.address === FE)?.evidence).toMatch(
      /TCP 5061 \(answered 1\)/,
    );
    // Unanswered SYNs to 5067/5068/5070 do not make a Mediation Server, nor their sender a client.
    expect(roleOf(a, SILENT)).toEqual([]);
    expect(roleOf(a, '10.1.0.6')).toEqual([]);
    const phone = a.summary.topology.inferred.find((e) => e.address === '10.1.0.77');
    expect(phone).toMatchObject({ role: 'phone', evidence: expect.stringMatching(/CPE-OCPHONE/) });
    const dhcpClient = a.summary.topology.inferred.find((e) => e.address === '10.1.0.8');
    expect(dhcpClient).toMatchObject({ role: 'client', evidence: expect.stringMatching(/MS-UC-Client/) });
    expect(roleOf(a, '10.1.0.5')).toEqual(['client']);
    // The relay answers UDP 3478 as an A/V Edge would: it is Microsoft's, not an Edge of ours.
    const relay = a.summary.topology.inferred.find((e) => e.address === '52.114.77.33');
    expect(relay).toMatchObject({
      role: 'microsoft-365',
      evidence: expect.stringMatching(/52\.112\.0\.0\/14, Microsoft 365 endpoints list 2023073100, ID 11/),
    });
    expect(roleOf(a, '10.1.0.9')).toEqual(['client']);
    const teamsFlow = a.flows.find((f) => f.resp_h === '52.114.77.33')!;
    expect(teamsFlow.verdict).toBe('outside');
    expect(teamsFlow.reason).toMatch(/no rows for microsoft-365/);
  });

  it('the lab client is a client by its DHCP vendor class as well', async () => {
    const a = await analyze(storedCapture('all-open', 'client'));
    expect(a.summary.topology.inferred.find((e) => e.address === '10.77.1.10')?.evidence).toMatch(
      /DHCP vendor class MS-UC-Client/,
    );
  });
});

describe('real captures', () => {
  const skip = skipReason('inference on shared captures');

  it.skipIf(skip !== undefined)(
    'synscan.pcap: a port scan, said to be one; no role from it; no all-clear',
    async () => {
      const path = sharedCapture('synscan.pcap');
      expect(existsSync(path)).toBe(true);
      const a = await analyze(path);
      expect(a.summary.topology.inferred).toEqual([]);
      expect(a.summary.notes.join('\n')).toMatch(
        /looks like a port scan: 172\.16\.0\.8 tried 1,000 TCP ports of 64\.13\.134\.52 in 1,994 connection attempts, 99% unanswered or refused/,
      );
      expect(a.summary.judged).toBe(0);
      const table = renderTable(a, { width: 100 });
      expect(table).toMatch(/NOTHING JUDGED: none of the 1,994 flows/);
      expect(table).toMatch(/--topology FILE/);
      expect(table).not.toMatch(/No failing required ports/);
      expect(table).not.toMatch(/PROBLEMS/);
    },
  );

  it.skipIf(skip !== undefined)(
    'teams.pcap: the Microsoft relays are microsoft-365, not clients or Edge Servers',
    async () => {
      const a = await analyze(sharedCapture('teams.pcap'));
      const m365 = a.summary.topology.inferred.filter((e) => e.role === 'microsoft-365');
      expect(m365.length).toBeGreaterThan(10);
      for (const e of a.summary.topology.inferred)
        if (e.address.startsWith('52.11')) expect(e.role, e.address).toBe('microsoft-365');
      expect(roleOf(a, '192.168.1.6')).toEqual(['client']);
      expect(a.summary.topology.inferred.some((e) => e.role === 'edge-external')).toBe(false);
      // Teams HTTPS is no longer "SIP (external user access) ok": nothing here is Lync.
      expect(a.flows.filter((f) => f.verdict === 'ok')).toEqual([]);
      expect(a.summary.judged).toBe(0);
    },
  );
});
