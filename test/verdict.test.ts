/**
 * The verdict model of issue 9 on hand-built flow records, judged against the real lync2010
 * catalog: each rule of the precedence table (src/verdict/precedence.ts) is reached by records
 * whose three axes (network, expectation, app_outcome) are the ones it distinguishes, including
 * TLS and MS-TURN-over-TCP handshake failures after a completed TCP handshake and a catalog port
 * reached from a peer its row does not name, answered, refused and filtered. Then the table as a
 * whole (every combination decided, no rule dead, the policy's invariants), and who answered.
 */
import { describe, expect, it } from 'vitest';
import type { FlowRecord } from '../src/flow/record.js';
import { RoleResolver, topologyFromDocument } from '../src/topology/topology.js';
import { HostTtls, answeredBy } from '../src/verdict/answered-by.js';
import { loadCatalogForAnalysis } from '../src/verdict/catalog-access.js';
import { judgeFlow, judgeRecord, type JudgeContext } from '../src/verdict/judge.js';
import { PRECEDENCE, precedenceRule } from '../src/verdict/precedence.js';
import {
  APP_OUTCOMES,
  CONNECTIVITY_PROBLEMS,
  EXPECTATIONS,
  NETWORK_OUTCOMES,
  type AppOutcome,
  type Expectation,
  type JudgedFlow,
  type NetworkOutcome,
  type Verdict,
} from '../src/verdict/types.js';

const CLIENT = '10.1.0.5';
const FE = '10.0.0.10';
/** Another Front End Server of the pool: the peer the catalog names for the Front End's server-to-server ports. */
const FE2 = '10.0.0.11';
const MED = '10.0.0.30';
const GATEWAY = '10.2.0.1';
const EDGE_EXT = '198.51.100.20';
const ROUTER = '10.0.0.1';
const WEB = '203.0.113.80';
const T0 = 1_700_000_000;

const loaded = loadCatalogForAnalysis('lync2010', []);
const topology = topologyFromDocument(
  {
    roles: {
      client: ['10.1.0.0/16'],
      'front-end': [FE, FE2],
      mediation: [MED],
      'pstn-gateway': [GATEWAY],
      'edge-external': [EDGE_EXT],
    },
  },
  'test',
  loaded.roleIds,
);

function context(ttls?: HostTtls): JudgeContext {
  return { catalog: loaded.access, roles: new RoleResolver(topology), captureEnd: T0 + 600, ttls };
}

/** A TCP flow that completed its handshake and closed normally; every test changes what it is about. */
function flow(over: Partial<FlowRecord>): FlowRecord {
  return {
    ts: T0,
    duration: 1.5,
    proto: 'tcp',
    ip_proto: 6,
    orig_h: CLIENT,
    orig_p: 40000,
    resp_h: FE,
    resp_p: 5061,
    conn_state: 'SF',
    history: 'ShADadFf',
    orig_pkts: 8,
    orig_bytes: 600,
    resp_pkts: 7,
    resp_bytes: 1800,
    orig_ip_bytes: 1000,
    resp_ip_bytes: 2200,
    orig_frame_bytes: 1100,
    resp_frame_bytes: 2300,
    community_id: '1:test',
    orig_from: 'syn',
    end_reason: 'closed',
    first_frame: 1,
    last_frame: 15,
    ttl: { orig: 64, resp: 63 },
    ...over,
  };
}

const TLS_OK = { app: 'tls', app_confidence: 0.95, app_detail: { handshake_complete: true } };

function tlsFailure(message: string, detail: Record<string, unknown>): Partial<FlowRecord> {
  return {
    app: 'tls',
    app_confidence: 0.95,
    app_detail: { handshake_complete: false },
    app_findings: [{ kind: 'tls-handshake-failed', severity: 'error', message, detail }],
  };
}

const CLIENT_REJECTS_CERT = tlsFailure(
  'TLS handshake on port 5061 failed: the client sent a fatal alert unknown_ca (48)',
  {
    stage: 'after_server_hello',
    reason: 'alert',
    alert: { from: 'client', level: 'fatal', description: 'unknown_ca', code: 48 },
  },
);
const SERVER_ALERT = tlsFailure(
  'TLS handshake on port 5061 failed: the server sent a fatal alert handshake_failure (40) (the server asked for a client certificate and the client sent none)',
  {
    stage: 'after_server_hello',
    reason: 'alert',
    alert: { from: 'server', level: 'fatal', description: 'handshake_failure', code: 40 },
    client_certificate_requested: true,
    client_certificate_sent: false,
  },
);
const NO_SERVER_HELLO = tlsFailure(
  'TLS handshake on port 5061 failed: no ServerHello came back after the ClientHello',
  { stage: 'after_client_hello', reason: 'no-answer', ended: 'silence' },
);
const RESET_AFTER_HELLO = tlsFailure(
  'TLS handshake on port 5061 failed: the server reset the connection after the ClientHello, before any ServerHello',
  { stage: 'after_client_hello', reason: 'reset', ended: 'reset', ended_by: 'server' },
);
const PLAIN_SIP = { app: 'sip', app_confidence: 0.97 };

function icmp(name: string, type: number, code: number, reporter = ROUTER): Partial<FlowRecord> {
  return {
    icmp: { type, code, name, count: 3, first_ts: T0 + 0.001, reporter, about: 'orig', ttl: 64 },
  };
}
/** A SYN and its two retries, answered by three ICMP errors. */
const SYN_ONLY: Partial<FlowRecord> = {
  conn_state: 'S0',
  history: 'S',
  orig_pkts: 3,
  orig_bytes: 0,
  resp_pkts: 0,
  resp_bytes: 0,
  resp_ip_bytes: 0,
  resp_frame_bytes: 0,
  duration: 3,
  end_reason: 'timeout',
  ttl: { orig: 64 },
};
const REJ: Partial<FlowRecord> = {
  conn_state: 'REJ',
  history: 'Sr',
  orig_pkts: 1,
  orig_bytes: 0,
  resp_pkts: 1,
  resp_bytes: 0,
  duration: 0.001,
  ttl: { orig: 64, resp_rst: 64 },
};
const ESTABLISHED_OPEN: Partial<FlowRecord> = {
  conn_state: 'S1',
  history: 'ShAD',
  end_reason: 'end-of-capture',
};

interface Case {
  name: string;
  record: FlowRecord;
  /** Other flows of the capture that show the server's own TTL. */
  others?: FlowRecord[];
  network: NetworkOutcome;
  expectation: Expectation;
  app: AppOutcome;
  verdict: Verdict;
  /** Parts the reason must say. */
  reason?: RegExp[];
  answeredBy?: 'responder' | 'path' | 'unknown';
}

/** The Front End's own packets in another flow: they arrive with TTL 63. */
const FE_ELSEWHERE = flow({ orig_p: 40999, ...TLS_OK });
const MED_ELSEWHERE = flow({ resp_h: MED, resp_p: 5067, orig_h: GATEWAY, ...TLS_OK });

const CASES: Case[] = [
  {
    name: 'an ICMP flow of its own is not held against the catalog',
    record: flow({ proto: 'icmp', ip_proto: 1, orig_p: 8, resp_p: 0, conn_state: 'OTH', history: '' }),
    network: 'not-judged',
    expectation: 'outside',
    app: 'not-seen',
    verdict: 'outside',
  },
  {
    name: 'a client browsing the web is outside the audit',
    record: flow({ resp_h: WEB, resp_p: 80, app: 'http', app_confidence: 0.9 }),
    network: 'answered',
    expectation: 'outside',
    app: 'worked',
    verdict: 'outside',
    reason: [/no server role involved/],
  },
  {
    name: 'a reset to the SYN on a port the role owns, sent by a firewall',
    record: flow({ resp_p: 8057, ...REJ }),
    others: [FE_ELSEWHERE],
    network: 'refused',
    expectation: 'expected',
    app: 'not-seen',
    verdict: 'refused',
    answeredBy: 'path',
    reason: [
      /answered by a reset/,
      /1 hop closer than 10\.0\.0\.10 \(TTL 64, 10\.0\.0\.10's own packets arrive with 63\)/,
    ],
  },
  {
    name: 'a reset to the SYN sent by the server itself (nothing listens)',
    record: flow({ orig_h: FE2, resp_p: 5065, ...REJ, ttl: { orig: 64, resp_rst: 63 } }),
    others: [FE_ELSEWHERE],
    network: 'refused',
    expectation: 'expected',
    app: 'not-seen',
    verdict: 'refused',
    answeredBy: 'responder',
    reason: [/10\.0\.0\.10 sent it/],
  },
  {
    name: "an unlisted peer on the Mediation Server's gateway port, refused by ICMP port-unreachable",
    record: flow({ resp_h: MED, resp_p: 5068, ...SYN_ONLY, ...icmp('port-unreachable', 3, 3) }),
    others: [MED_ELSEWHERE],
    network: 'refused',
    expectation: 'unexpected-peer',
    app: 'not-seen',
    verdict: 'refused',
    answeredBy: 'path',
    reason: [
      /ICMP port-unreachable from 10\.0\.0\.1/,
      /not the pstn-gateway the catalog names/,
      /router or firewall/,
    ],
  },
  {
    name: "an unlisted peer on the Mediation Server's gateway port, filtered by ICMP host-unreachable",
    record: flow({ resp_h: MED, resp_p: 5068, ...SYN_ONLY, ...icmp('host-unreachable', 3, 1) }),
    network: 'filtered',
    expectation: 'unexpected-peer',
    app: 'not-seen',
    verdict: 'filtered',
    answeredBy: 'path',
    reason: [/host-unreachable/, /10\.1\.0\.5 \(client\) is not the pstn-gateway/],
  },
  {
    name: "an unlisted peer on the Mediation Server's gateway port, answered",
    record: flow({ resp_h: MED, resp_p: 5068, ...PLAIN_SIP }),
    network: 'answered',
    expectation: 'unexpected-peer',
    app: 'worked',
    verdict: 'unexpected',
    reason: [
      /^the peer 10\.1\.0\.5 \(client\) is not the pstn-gateway the catalog names for mediation TCP 5068/,
    ],
  },
  {
    name: "an unlisted peer on the Mediation Server's gateway port, unanswered",
    record: flow({ resp_h: MED, resp_p: 5068, ...SYN_ONLY }),
    network: 'no-answer',
    expectation: 'unexpected-peer',
    app: 'not-seen',
    verdict: 'blocked',
    reason: [/got no answer/, /not the pstn-gateway/],
  },
  {
    name: 'the listed peer on the same port, answered',
    record: flow({ orig_h: GATEWAY, resp_h: MED, resp_p: 5068, ...PLAIN_SIP }),
    network: 'answered',
    expectation: 'expected',
    app: 'worked',
    verdict: 'ok',
  },
  {
    name: 'plaintext SIP on the TLS port, then reset by a device on the path',
    record: flow({
      ...PLAIN_SIP,
      conn_state: 'RSTR',
      history: 'ShADr',
      ttl: { orig: 64, resp: 63, resp_rst: 64 },
    }),
    network: 'refused',
    expectation: 'mismatch',
    app: 'worked',
    verdict: 'refused',
    answeredBy: 'path',
    reason: [/device on the path reset the connection/, /expects sip-tls on TCP 5061; the flow carries sip/],
  },
  {
    name: 'UDP to the audio range answered by ICMP administratively prohibited',
    record: flow({
      proto: 'udp',
      ip_proto: 17,
      resp_p: 50010,
      conn_state: 'S0',
      history: 'D',
      orig_pkts: 3,
      resp_pkts: 0,
      resp_bytes: 0,
      ttl: { orig: 64 },
      ...icmp('admin-prohibited', 3, 13),
    }),
    network: 'filtered',
    expectation: 'expected',
    app: 'not-seen',
    verdict: 'filtered',
    answeredBy: 'path',
  },
  {
    name: 'SYNs to Focus with no answer',
    record: flow({ orig_h: FE2, resp_p: 444, ...SYN_ONLY }),
    network: 'no-answer',
    expectation: 'expected',
    app: 'not-seen',
    verdict: 'blocked',
    reason: [/3 packets \(SYNs and retries\) got no answer/],
  },
  {
    name: 'RTP to the audio range, none back',
    record: flow({
      proto: 'udp',
      ip_proto: 17,
      resp_p: 50000,
      conn_state: 'S0',
      history: 'D',
      orig_pkts: 30,
      resp_pkts: 0,
      resp_bytes: 0,
      app: 'rtp',
      app_confidence: 0.9,
      ttl: { orig: 64 },
    }),
    network: 'one-way',
    expectation: 'expected',
    app: 'not-seen',
    verdict: 'one-way',
  },
  {
    name: 'telnet to the Edge, answered: no row has the port',
    record: flow({ resp_h: EDGE_EXT, resp_p: 23 }),
    network: 'answered',
    expectation: 'unexpected-port',
    app: 'not-seen',
    verdict: 'unexpected',
    reason: [/^no catalog row for edge-external answering TCP 23/],
  },
  {
    name: 'telnet to the Edge, refused: still a port nobody expected',
    record: flow({ resp_h: EDGE_EXT, resp_p: 23, ...REJ }),
    network: 'refused',
    expectation: 'unexpected-port',
    app: 'not-seen',
    verdict: 'unexpected',
    answeredBy: 'unknown',
  },
  {
    name: 'plaintext SIP on the TLS port, answered',
    record: flow({ ...PLAIN_SIP }),
    network: 'answered',
    expectation: 'mismatch',
    app: 'worked',
    verdict: 'mismatch',
    reason: [/^the catalog expects sip-tls on TCP 5061; the flow carries sip/],
  },
  {
    name: 'an HTTP server error on the SIP/TLS port: the misfit explains the failure',
    record: flow({
      app: 'http',
      app_confidence: 0.95,
      app_findings: [{ kind: 'http-server-error', severity: 'warning', message: 'HTTP 500 from the server' }],
    }),
    network: 'answered',
    expectation: 'mismatch',
    app: 'failed',
    verdict: 'mismatch',
    reason: [/HTTP 500/],
  },
  {
    name: "TLS after a completed TCP handshake: the client rejects the server's certificate",
    record: flow({ ...CLIENT_REJECTS_CERT }),
    network: 'answered',
    expectation: 'expected',
    app: 'failed',
    verdict: 'failed',
    reason: [
      /^TLS handshake on port 5061 failed: the client sent a fatal alert unknown_ca/,
      /certificate problem, not a firewall rule/,
      /TCP handshake completed/,
    ],
  },
  {
    name: 'TLS after a completed TCP handshake: the server ends it with an alert (client certificate required)',
    record: flow({ orig_h: FE2, resp_p: 5062, ...SERVER_ALERT }),
    network: 'answered',
    expectation: 'expected',
    app: 'failed',
    verdict: 'failed',
    reason: [/server requires a client certificate/],
  },
  {
    name: 'TLS after a completed TCP handshake: the ClientHello is never answered',
    record: flow({ ...NO_SERVER_HELLO, resp_bytes: 0 }),
    network: 'answered',
    expectation: 'expected',
    app: 'failed',
    verdict: 'failed',
    reason: [/never answered/],
  },
  {
    name: 'TLS reset after the ClientHello by the server itself',
    record: flow({ ...RESET_AFTER_HELLO, conn_state: 'RSTR', ttl: { orig: 64, resp: 63, resp_rst: 63 } }),
    network: 'answered',
    expectation: 'expected',
    app: 'failed',
    verdict: 'failed',
    answeredBy: 'responder',
  },
  {
    name: 'TLS reset after the ClientHello by a device on the path: the network stopped it',
    record: flow({ ...RESET_AFTER_HELLO, conn_state: 'RSTR', ttl: { orig: 64, resp: 63, resp_rst: 64 } }),
    network: 'refused',
    expectation: 'expected',
    app: 'failed',
    verdict: 'refused',
    answeredBy: 'path',
    reason: [/device on the path reset/, /1 hop closer/, /TLS handshake on port 5061 failed/],
  },
  {
    name: 'MS-TURN over TCP 443 after a completed TCP handshake: the Edge never answers the pseudo-TLS hello',
    record: flow({
      resp_h: EDGE_EXT,
      resp_p: 443,
      resp_bytes: 0,
      app: 'ms-turn-tcp',
      app_confidence: 0.9,
      app_findings: [
        {
          kind: 'ms-turn-tcp-handshake-failed',
          severity: 'error',
          message:
            'MS-TURN over TCP 443: the A/V Edge did not answer the pseudo-TLS hello; the connection was closed',
          detail: { reason: 'no-answer', conn_state: 'SF', port: 443 },
        },
      ],
    }),
    network: 'answered',
    expectation: 'expected',
    app: 'failed',
    verdict: 'failed',
    reason: [/pseudo-TLS hello/],
  },
  {
    name: 'DCE/RPC bind rejected on the Front End',
    record: flow({
      orig_h: FE2,
      resp_p: 135,
      app: 'dcerpc',
      app_confidence: 0.95,
      app_findings: [
        {
          kind: 'dcerpc-bind-rejected',
          severity: 'error',
          message: 'DCE/RPC bind_nak: reason not specified',
        },
      ],
    }),
    network: 'answered',
    expectation: 'expected',
    app: 'failed',
    verdict: 'failed',
  },
  {
    name: "TLS from an unlisted peer to the Mediation Server's gateway TLS port, the client rejects the certificate",
    record: flow({ resp_h: MED, resp_p: 5067, ...CLIENT_REJECTS_CERT }),
    network: 'answered',
    expectation: 'unexpected-peer',
    app: 'failed',
    verdict: 'failed',
    reason: [/unknown_ca/, /not the pstn-gateway/],
  },
  {
    name: 'a TLS alert in a session the capture joined mid-way',
    record: flow({ ...CLIENT_REJECTS_CERT, orig_from: 'first-packet', history: 'DadR' }),
    network: 'incomplete',
    expectation: 'expected',
    app: 'failed',
    verdict: 'failed',
  },
  {
    name: 'a SIP/TLS session still open at the end of the capture',
    record: flow({ ...ESTABLISHED_OPEN, ...TLS_OK }),
    network: 'incomplete',
    expectation: 'expected',
    app: 'worked',
    verdict: 'incomplete',
  },
  {
    // Zeek calls a SYN and its SYN-ACK S1 too; without the originator's ACK the handshake failed.
    name: 'a SYN answered by resent SYN-ACKs, never acknowledged (history Sh): the return path, not an open session',
    record: flow({
      conn_state: 'S1',
      history: 'Sh',
      orig_pkts: 3,
      orig_bytes: 0,
      resp_pkts: 3,
      resp_bytes: 0,
      duration: 3,
      end_reason: 'timeout',
    }),
    network: 'one-way',
    expectation: 'expected',
    app: 'not-seen',
    verdict: 'one-way',
    reason: [/never acknowledged it \(history Sh\)/, /SYN-ACK did not reach it/],
  },
  {
    name: 'a SYN and one SYN-ACK in the last second of the capture: cut by the capture, not failing',
    record: flow({
      ts: T0 + 599.5,
      duration: 0.01,
      conn_state: 'S1',
      history: 'Sh',
      orig_pkts: 1,
      orig_bytes: 0,
      resp_pkts: 1,
      resp_bytes: 0,
      end_reason: 'end-of-capture',
    }),
    network: 'incomplete',
    expectation: 'expected',
    app: 'not-seen',
    verdict: 'incomplete',
    reason: [/the capture ended before the originator's ACK/],
  },
  {
    name: 'SIP over TLS, answered',
    record: flow({ ...TLS_OK }),
    network: 'answered',
    expectation: 'expected',
    app: 'worked',
    verdict: 'ok',
  },
  {
    name: 'an encrypted payload nothing recognises, answered',
    record: flow({ orig_h: FE2, resp_p: 5063 }),
    network: 'answered',
    expectation: 'expected',
    app: 'not-seen',
    verdict: 'ok',
  },
];

function judge(c: Case): JudgedFlow {
  const ttls = new HostTtls();
  for (const o of c.others ?? []) ttls.add(o);
  return judgeFlow(c.record, context(ttls));
}

describe('the precedence table on hand-built records', () => {
  it.each(CASES.map((c) => [c.name, c] as [string, Case]))('%s', (_name, c) => {
    const j = judge(c);
    expect({
      network: j.network,
      expectation: j.expectation,
      app: j.app_outcome,
      verdict: j.verdict,
    }).toEqual({
      network: c.network,
      expectation: c.expectation,
      app: c.app,
      verdict: c.verdict,
    });
    expect(j.verdict).toBe(precedenceRule(j.network, j.expectation, j.app_outcome).verdict);
    expect(j.answered_by).toBe(c.answeredBy);
    if (c.answeredBy !== undefined) expect(j.answered_by_evidence?.text.length).toBeGreaterThan(20);
    for (const r of c.reason ?? []) expect(j.reason).toMatch(r);
    expect(j.network_reason.length).toBeGreaterThan(0);
    expect(j.expectation_reason.length).toBeGreaterThan(0);
    if (j.app_outcome === 'failed') expect(j.app_outcome_finding).toBe(c.record.app_findings?.[0].kind);
  });

  it('every rule of the table is reached by one of the cases', () => {
    const used = new Set(CASES.map((c) => precedenceRule(c.network, c.expectation, c.app)));
    expect(PRECEDENCE.filter((r) => !used.has(r)).map((r) => `${r.verdict}: ${r.why}`)).toEqual([]);
  });

  it('an unlisted peer keeps the row: the flow is counted on the port its role owns', () => {
    const c = CASES.find((x) => x.name.includes('refused by ICMP port-unreachable'))!;
    const j = judge(c);
    expect(j.catalog.map((m) => [m.id, m.peer_fit, m.peers])).toEqual([
      ['med-5068-from-gateway-tcp', false, ['pstn-gateway']],
    ]);
    expect(j.resp_role).toBe('mediation');
  });

  it("judgeRecord gives judgeFlow's judgement on the record itself; judgeFlow leaves the record as it was", () => {
    for (const c of CASES) {
      const before = JSON.stringify(c.record);
      const pure = judgeFlow(c.record, context());
      expect(JSON.stringify(c.record), c.name).toBe(before);
      const copy = JSON.parse(before) as FlowRecord;
      const inPlace = judgeRecord(copy, context());
      expect(inPlace, c.name).toBe(copy);
      expect(JSON.stringify(inPlace), c.name).toBe(JSON.stringify(pure));
    }
  });

  it('names the candidate rows when the payload cannot tell rows on one port apart', () => {
    const syn = judgeFlow(flow({ resp_h: EDGE_EXT, resp_p: 443, ...SYN_ONLY }), context());
    expect(syn.catalog.filter((m) => m.role === 'edge-external').map((m) => m.id)).toEqual([
      'edge-ext-443-sip-tls',
      'edge-ext-443-psom-tls',
      'edge-ext-443-stun-in',
    ]);
    const tls = judgeFlow(flow({ resp_h: EDGE_EXT, resp_p: 443, ...TLS_OK }), context());
    expect(tls.catalog.filter((m) => m.role === 'edge-external').map((m) => m.id)).toEqual([
      'edge-ext-443-sip-tls',
      'edge-ext-443-psom-tls',
    ]);
  });
});

describe('the precedence table as a whole', () => {
  const combos = NETWORK_OUTCOMES.flatMap((n) =>
    EXPECTATIONS.flatMap((e) => APP_OUTCOMES.map((a) => [n, e, a] as const)),
  );

  it('decides every one of the 105 combinations, and every rule decides some', () => {
    expect(combos).toHaveLength(105);
    const used = new Set(combos.map(([n, e, a]) => precedenceRule(n, e, a)));
    expect(used.size).toBe(PRECEDENCE.length);
  });

  it('keeps the policy: network verdicts only from the network, failed only from the application, ok only when all is well', () => {
    const bad: string[] = [];
    for (const [n, e, a] of combos) {
      const v = precedenceRule(n, e, a).verdict;
      const where = `${n}/${e}/${a} → ${v}`;
      if (CONNECTIVITY_PROBLEMS.has(v) && !['refused', 'filtered', 'no-answer', 'one-way'].includes(n))
        bad.push(where);
      // A failing port the role owns is never hidden behind a softer label.
      if (
        ['refused', 'filtered', 'no-answer', 'one-way'].includes(n) &&
        ['expected', 'unexpected-peer', 'mismatch'].includes(e) &&
        !CONNECTIVITY_PROBLEMS.has(v)
      )
        bad.push(where);
      if (v === 'failed' && a !== 'failed') bad.push(where);
      if (v === 'ok' && (n !== 'answered' || e !== 'expected' || a === 'failed')) bad.push(where);
      if ((v === 'outside') !== (n === 'not-judged' || e === 'outside')) bad.push(where);
      if (e === 'unexpected-port' && n !== 'not-judged' && v !== 'unexpected') bad.push(where);
    }
    expect(bad).toEqual([]);
  });
});

describe('who answered: TTL and hop limit, the ICMP reporter', () => {
  const reset = (ttl: FlowRecord['ttl'], over: Partial<FlowRecord> = {}): FlowRecord =>
    flow({ resp_p: 8057, ...REJ, ttl, ...over });
  const withFe = (ttl: number): HostTtls => {
    const t = new HostTtls();
    t.add(flow({ orig_p: 40999, ttl: { orig: 64, resp: ttl } }));
    return t;
  };

  it('the same TTL as the server: the server', () => {
    expect(answeredBy(reset({ orig: 64, resp_rst: 63 }), withFe(63))?.answered_by).toBe('responder');
  });

  it('a larger TTL from the same initial value: a device closer than the server', () => {
    const r = answeredBy(reset({ orig: 64, resp_rst: 62 }), withFe(60))!;
    expect(r.answered_by).toBe('path');
    expect(r.evidence).toMatchObject({
      kind: 'tcp-reset',
      answer_ttl: 62,
      responder_ttl: 60,
      responder_ttl_from: 'other-flows',
      field: 'ttl',
    });
    expect(r.evidence.text).toMatch(/2 hops closer than 10\.0\.0\.10/);
  });

  it("another initial TTL (64 against a Windows server's 128): another IP stack", () => {
    const r = answeredBy(reset({ orig: 64, resp_rst: 63 }), withFe(126))!;
    expect(r.answered_by).toBe('path');
    expect(r.evidence.text).toMatch(/sent with 64.*sent with 128/);
  });

  it("a smaller TTL than the server's: not decided", () => {
    expect(answeredBy(reset({ orig: 64, resp_rst: 60 }), withFe(62))?.answered_by).toBe('unknown');
  });

  it('nothing of the server to compare with: unknown, and says so', () => {
    const r = answeredBy(reset({ orig: 64, resp_rst: 64 }), new HostTtls())!;
    expect(r.answered_by).toBe('unknown');
    expect(r.evidence.text).toMatch(/no other packet of 10\.0\.0\.10/);
  });

  it("the flow's own packets come first: a reset after the server's SYN-ACK", () => {
    const r = answeredBy(
      flow({ conn_state: 'RSTR', ttl: { orig: 64, resp: 63, resp_rst: 63 } }),
      withFe(50),
    )!;
    expect(r.evidence.responder_ttl_from).toBe('this-flow');
    expect(r.answered_by).toBe('responder');
  });

  it('ICMP errors: from the destination itself, or from another address', () => {
    const udp = (reporter: string): FlowRecord =>
      flow({
        proto: 'udp',
        ip_proto: 17,
        resp_p: 50000,
        conn_state: 'S0',
        resp_pkts: 0,
        ...icmp('port-unreachable', 3, 3, reporter),
      });
    expect(answeredBy(udp(FE))?.answered_by).toBe('responder');
    const r = answeredBy(udp(ROUTER), withFe(63))!;
    expect(r.answered_by).toBe('path');
    expect(r.evidence).toMatchObject({
      kind: 'icmp',
      reporter: ROUTER,
      host: FE,
      answer_ttl: 64,
      responder_ttl: 63,
    });
  });

  it('IPv6 says hop limit', () => {
    const r = answeredBy(
      flow({ orig_h: 'fd00::5', resp_h: 'fd00::10', ...REJ, ttl: { orig: 64, resp_rst: 64 } }),
    )!;
    expect(r.evidence.field).toBe('hop_limit');
    expect(r.evidence.text).toMatch(/hop limit 64/);
  });

  it('a flow without a reset or an ICMP error has no answered_by', () => {
    expect(answeredBy(flow({}))).toBeUndefined();
  });
});
