/**
 * `analyze` end to end on a capture the test writes itself, one flow per verdict of issue 3:
 * the CLI is run as a user runs it and its JSON, NDJSON, table and HTML are checked, along with
 * the exit status for every --fail-on and the errors for bad input.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNdjson, runCli } from './helpers/cli.js';
import { writePcap } from './helpers/capture-writer.js';
import { ByteConn, stunBinding, udpDatagram } from './helpers/app.js';
import { ACK, ETH_IPV4, PROTO_UDP, SYN, ethernet, filler, ipv4, udp } from './helpers/packets.js';
import { Trace, TcpConn, unreachableFrame } from './helpers/traffic.js';
import {
  CCS,
  appData,
  certificate,
  clientHello,
  record,
  serverHello,
  SERVER_HELLO_DONE,
} from './helpers/tls-bytes.js';
import { isProblem, type JudgedFlow } from '../src/verdict/types.js';
import type { Analysis } from '../src/verdict/analysis.js';

const CLIENT = '10.1.0.5';
const FE = '10.0.0.10';
const EDGE = '10.0.0.20';
const INTERNET = '198.51.100.7';
const HOSTILE_SNI = 'fe.contoso.com\x1b[31m<script>alert(1)</script>';

let dir: string;
let capture: string;
let topology: string;

function tlsHandshake(t: Trace, cport: number, sport: number, sni: string): void {
  const c = new ByteConn(t, { client: CLIENT, server: FE, cport, sport }).handshake();
  c.send(true, record(22, clientHello({ sni }), 0x0301));
  c.send(
    false,
    Buffer.concat([record(22, Buffer.concat([serverHello(), certificate(300), SERVER_HELLO_DONE]))]),
  );
  c.send(true, Buffer.concat([CCS, record(22, Buffer.alloc(40, 1))]));
  c.send(false, Buffer.concat([CCS, record(22, Buffer.alloc(40, 2))]));
  c.send(true, appData(200)).send(false, appData(300)).close();
}

function buildCapture(): Trace {
  const t = new Trace();
  // ok: SIP over TLS to the Front End, with a hostile SNI that every renderer must escape.
  tlsHandshake(t, 41001, 5061, HOSTILE_SNI);
  // blocked: three SYNs to 8058 (PSOM for older clients), no answer.
  const blocked = new TcpConn(t, { client: CLIENT, server: FE, cport: 41002, sport: 8058 });
  blocked.send(true, SYN).retransmit(true, SYN, 0, 1_000_000).retransmit(true, SYN, 0, 2_000_000);
  // refused: PSOM 8057 answered by a reset.
  new TcpConn(t, { client: CLIENT, server: FE, cport: 41003, sport: 8057 })
    .send(true, SYN)
    .send(false, 0x04 | ACK);
  // blocked: a STUN Binding request to the Edge's UDP 3478, sent three times, never answered.
  for (let i = 0; i < 3; i++) udpDatagram(t, CLIENT, EDGE, 41004, 3478, stunBinding(7));
  // mismatch: plaintext SIP on 5061.
  const sip = new ByteConn(t, { client: CLIENT, server: FE, cport: 41005, sport: 5061 }).handshake();
  sip.send(
    true,
    Buffer.from(
      'OPTIONS sip:fe.contoso.com SIP/2.0\r\nVia: SIP/2.0/TCP 10.1.0.5:41005;branch=z9hG4bK1\r\nCall-ID: a@b\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:u@contoso.com>;tag=1\r\nTo: <sip:fe.contoso.com>\r\nContent-Length: 0\r\n\r\n',
    ),
  );
  sip.send(
    false,
    Buffer.from(
      'SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 10.1.0.5:41005;branch=z9hG4bK1\r\nCall-ID: a@b\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:u@contoso.com>;tag=1\r\nTo: <sip:fe.contoso.com>;tag=2\r\nContent-Length: 0\r\n\r\n',
    ),
  );
  sip.close();
  // unexpected: telnet to the Edge, answered.
  new ByteConn(t, { client: CLIENT, server: EDGE, cport: 41006, sport: 23 })
    .handshake()
    .send(false, Buffer.from('login: '))
    .close();
  // one-way: 30 datagrams to the Front End's audio range, none back.
  for (let i = 0; i < 30; i++)
    t.add(
      ethernet(
        ETH_IPV4,
        ipv4({
          src: CLIENT,
          dst: FE,
          proto: PROTO_UDP,
          payload: udp({ src: CLIENT, dst: FE, sport: 41007, dport: 50000, payload: filler(160, i) }),
        }),
      ),
      20_000,
    );
  // filtered: UDP to the Front End's audio range answered by ICMP administratively prohibited (type 3 code 13).
  const original = ipv4({
    src: CLIENT,
    dst: FE,
    proto: PROTO_UDP,
    payload: udp({ src: CLIENT, dst: FE, sport: 41008, dport: 50010, payload: filler(40) }),
  });
  t.add(ethernet(ETH_IPV4, original)).add(unreachableFrame('10.0.0.1', original, 13));
  // outside: the client browsing the Internet.
  new TcpConn(t, { client: CLIENT, server: INTERNET, cport: 41009, sport: 80 })
    .handshake()
    .exchange(100, 500)
    .close();
  // incomplete: a SYN in the last second of the capture.
  t.wait(30);
  new TcpConn(t, { client: CLIENT, server: FE, cport: 41010, sport: 5061 }).send(true, SYN);
  return t;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lpa-analyze-'));
  capture = join(dir, 'verdicts.pcap');
  writeFileSync(capture, writePcap(buildCapture().packets));
  topology = join(dir, 'topology.json');
  writeFileSync(
    topology,
    JSON.stringify({ roles: { 'front-end': [FE], 'edge-internal': [EDGE], client: ['10.1.0.0/16'] } }),
  );
});

function analyzeJson(...extra: string[]): Analysis {
  const r = runCli([
    'analyze',
    capture,
    '--topology',
    topology,
    '--format',
    'json',
    '--no-progress',
    ...extra,
  ]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Analysis;
}

function byPort(flows: JudgedFlow[], port: number, proto = 'tcp'): JudgedFlow {
  const f = flows.find((x) => x.resp_p === port && x.proto === proto);
  expect(f, `no ${proto} flow to port ${port}`).toBeDefined();
  return f!;
}

describe('analyze: one flow per verdict', () => {
  it('gives every flow the verdict its traffic earns, with roles, catalog rows and a reason', () => {
    const { flows } = analyzeJson();
    const tls = flows.find((f) => f.resp_p === 5061 && f.orig_p === 41001)!;
    expect(tls.verdict).toBe('ok');
    expect(tls.orig_role).toBe('client');
    expect(tls.resp_role).toBe('front-end');
    expect(tls.app).toBe('tls');
    expect(tls.catalog.some((m) => m.role === 'front-end' && m.ports === '5061' && m.fit === 'yes')).toBe(
      true,
    );

    const blocked = byPort(flows, 8058);
    expect(blocked.verdict).toBe('blocked');
    expect(blocked.conn_state).toBe('S0');
    expect(blocked.reason).toMatch(/3 packets .*no answer/);

    expect(byPort(flows, 8057).verdict).toBe('refused');
    const stun = byPort(flows, 3478, 'udp');
    expect(stun.verdict).toBe('blocked');
    expect(stun.app).toBe('stun');

    const plain = flows.find((f) => f.resp_p === 5061 && f.orig_p === 41005)!;
    expect(plain.app).toBe('sip');
    expect(plain.verdict).toBe('mismatch');
    expect(plain.reason).toMatch(/expects sip-tls .* carries sip/);

    const telnet = byPort(flows, 23);
    expect(telnet.verdict).toBe('unexpected');
    expect(telnet.resp_role).toBe('edge-internal');

    expect(byPort(flows, 50000, 'udp').verdict).toBe('one-way');
    const filtered = byPort(flows, 50010, 'udp');
    expect(filtered.verdict).toBe('filtered');
    expect(filtered.icmp?.name).toBe('admin-prohibited');

    expect(byPort(flows, 80).verdict).toBe('outside');
    const last = flows.find((f) => f.orig_p === 41010)!;
    expect(last.verdict).toBe('incomplete');
    for (const f of flows) expect(f.reason.length, JSON.stringify(f)).toBeGreaterThan(0);
  });

  it('summarises per role: failing rows first, unexpected ports, rows never observed', () => {
    const { roles, summary } = analyzeJson();
    const fe = roles.find((r) => r.role === 'front-end')!;
    expect(fe.hosts).toEqual([FE]);
    const row8058 = fe.rows.find((r) => r.ports === '8058')!;
    expect(row8058.status).toBe('problem');
    expect(row8058.verdicts.blocked).toBe(1);
    expect(row8058.problem_peers).toEqual([{ peer: CLIENT, verdict: 'blocked', flows: 1 }]);
    expect(row8058.first_failure?.reason).toMatch(/no answer/);
    expect(fe.rows[0].status).toBe('problem');
    expect(fe.not_seen.some((n) => n.ports === '5065')).toBe(true);
    const edge = roles.find((r) => r.role === 'edge-internal')!;
    expect(edge.unexpected).toEqual([
      expect.objectContaining({
        proto: 'tcp',
        port: 23,
        direction: 'inbound',
        flows: 1,
        answered: 1,
        peers: [CLIENT],
      }),
    ]);
    expect(summary.verdicts).toMatchObject({
      ok: 1,
      blocked: 2,
      refused: 1,
      mismatch: 1,
      unexpected: 1,
      'one-way': 1,
      filtered: 1,
    });
    expect(summary.topology.source).toBe('file');
  });

  it('streams the same verdicts as NDJSON', () => {
    const json = analyzeJson()
      .flows.map((f) => `${f.community_id} ${f.verdict}`)
      .sort();
    const r = runCli(['analyze', capture, '--topology', topology, '--format', 'ndjson', '--no-progress']);
    expect(r.status).toBe(0);
    expect(
      parseNdjson<JudgedFlow>(r.stdout)
        .map((f) => `${f.community_id} ${f.verdict}`)
        .sort(),
    ).toEqual(json);
  });

  it('exits 1 only when --fail-on finds what it asks for', () => {
    const status = (failOn: string): number | null =>
      runCli(['analyze', capture, '--topology', topology, '--fail-on', failOn, '--format', 'json']).status;
    expect(status('none')).toBe(0);
    expect(status('blocked')).toBe(1);
    expect(status('unexpected')).toBe(1);
    expect(status('any')).toBe(1);
    // Only the TLS flow, which is fine: nothing to fail on.
    const okOnly = runCli([
      'analyze',
      capture,
      '--role',
      `front-end=${FE}`,
      '--role',
      'client=10.1.0.5',
      '--fail-on',
      'any',
    ]);
    expect(okOnly.status).toBe(1);
  });

  it('escapes text from packets in the table and the HTML page', () => {
    const table = runCli(['analyze', capture, '--topology', topology, '--no-progress']);
    expect(table.status).toBe(0);
    expect(table.stdout).not.toContain('\x1b[31m');
    expect(table.stdout).toContain('PROBLEMS');
    const html = runCli(['analyze', capture, '--topology', topology, '--format', 'html']);
    expect(html.status).toBe(0);
    expect(html.stdout).toMatch(/^<!doctype html>/);
    // The SNI's markup is text: escaped in the page, never a script element of its own.
    expect(html.stdout).not.toContain('<script>alert(1)');
    expect(html.stdout.match(/<script[ >]/g)).toHaveLength(2); // the JSON data block and the page script
    expect(html.stdout).not.toContain('\x1b');
    const json = analyzeJson();
    const tls = json.flows.find((f) => f.orig_p === 41001)!;
    // JSON keeps the bytes (escaped by JSON itself), so nothing is lost for scripts.
    expect(JSON.stringify(tls.app_detail)).toContain('\\u001b[31m<script>');
  });

  it('infers roles when no topology is given, and says from what', () => {
    const r = runCli(['analyze', capture, '--format', 'json']);
    expect(r.status).toBe(0);
    const a = JSON.parse(r.stdout) as Analysis;
    expect(a.summary.topology.source).toBe('inferred');
    const fe = a.summary.topology.inferred.find((e) => e.address === FE);
    expect(fe?.role).toBe('front-end');
    expect(fe?.evidence).toMatch(/TCP 5061/);
    expect(a.summary.topology.inferred.find((e) => e.address === CLIENT)?.role).toBe('client');
  });
});

describe('analyze: bounded memory', () => {
  it('past --max-records judges flows as they end: counted in verdicts and roles; only problem flows listed', () => {
    const all = analyzeJson();
    const capped = analyzeJson('--max-records', '3');
    // The first 3 flows, then the problem flows that ended after them (up to as many again).
    const late = capped.flows.slice(3);
    expect(late.length).toBeGreaterThan(0);
    expect(late.length).toBeLessThanOrEqual(3);
    expect(late.every((f) => isProblem(f.verdict))).toBe(true);
    const allProblems = all.flows.filter((f) => isProblem(f.verdict)).length;
    const listedProblems = capped.flows.filter((f) => isProblem(f.verdict)).length;
    expect(listedProblems).toBe(
      Math.min(allProblems, capped.flows.slice(0, 3).filter((f) => isProblem(f.verdict)).length + 3),
    );
    expect(capped.summary.notes.join(' ')).toMatch(
      new RegExp(
        `^${capped.flows.length} of ${all.flows.length} flows listed; .*problem flows among them are listed after the others`,
        'm',
      ),
    );
    expect(capped.summary.verdicts).toEqual(all.summary.verdicts);
    const rows = (a: Analysis): string[] =>
      a.roles
        .flatMap((r) =>
          r.rows.map((row) => `${r.role} ${row.id} ${JSON.stringify(Object.entries(row.verdicts).sort())}`),
        )
        .sort();
    expect(rows(capped)).toEqual(rows(all));
    expect(capped.summary.notes.join(' ')).toMatch(/flows beyond --max-records 3 were judged as they ended/);
  });
});

describe('analyze: bad input', () => {
  it('rejects a bad topology or catalog before reading the capture (exit 2, one line)', () => {
    const bad = join(dir, 'bad-topology.json');
    writeFileSync(bad, JSON.stringify({ roles: { 'front-end': ['10.0.0.300'] } }));
    const r = runCli(['analyze', capture, '--topology', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /bad-topology\.json: roles\.front-end\[0\]: "10\.0\.0\.300" is not an IP address/,
    );
    const role = runCli(['analyze', capture, '--role', 'frontend=10.0.0.10']);
    expect(role.status).toBe(2);
    expect(role.stderr).toMatch(/unknown role "frontend"/);
    const cat = runCli(['analyze', capture, '--catalog', join(dir, 'nope.json')]);
    expect(cat.status).toBe(2);
    const fmt = runCli(['analyze', capture, '--format', 'xml']);
    expect(fmt.status).toBe(2);
  });

  it('reports what it could read from a truncated capture, names the offset, exits 2', () => {
    const whole = writePcap(buildCapture().packets);
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const r = runCli(['analyze', cut, '--topology', topology, '--format', 'json']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/error: .*cut\.pcap: byte \d+: truncated record/);
    const a = JSON.parse(r.stdout) as Analysis;
    expect(a.flows.length).toBeGreaterThan(2);
    expect(a.summary.notes.join(' ')).toMatch(/input error/);
  });
});
