/**
 * The TLS recognizer on handshakes built byte by byte (test/helpers/tls-bytes.ts) and carried in
 * real TCP segments through the whole pipeline: hellos split across segments and records, several
 * records per segment, truncated payloads, garbage that only starts like TLS, reordered segments,
 * and the handshake failures that matter on 5061 (reset, silence, alert, no ChangeCipherSpec).
 * Where tshark is installed it reads the same files and must find the same SNI and versions.
 */
import { describe, expect, it } from 'vitest';
import { ByteConn, recognizeTrace, udpDatagram, writeTrace } from './helpers/app.js';
import { tsharkFields, tsharkSkipReason } from './helpers/tshark.js';
import { Trace } from './helpers/traffic.js';
import {
  CCS,
  HRR_RANDOM,
  SERVER_HELLO_DONE,
  alert,
  appData,
  certificate,
  certificateRequest,
  clientHello,
  clientKeyExchange,
  encryptedHandshake,
  record,
  serverHello,
} from './helpers/tls-bytes.js';
import { parseClientHello, tls } from '../src/recognize/tls.js';
import type { FlowRecord } from '../src/flow/record.js';
import type { PacketContext } from '../src/recognize/types.js';

const ENDS = { client: '10.0.0.10', server: '10.0.0.20', cport: 50000, sport: 5061 };

function conn(trace: Trace, sport = 5061, cport = 50000): ByteConn {
  return new ByteConn(trace, { ...ENDS, sport, cport }).handshake();
}

const CH = record(22, clientHello({ sni: 'pool01.contoso.com', alpn: ['sip', 'h2'] }));
const SERVER_FLIGHT = Buffer.concat([
  record(22, serverHello({ suite: 0xc030 })),
  record(22, certificate(900)),
  record(22, SERVER_HELLO_DONE),
]);
const CLIENT_FINISH = Buffer.concat([record(22, clientKeyExchange()), CCS, encryptedHandshake()]);
const SERVER_FINISH = Buffer.concat([CCS, encryptedHandshake()]);

function only(records: FlowRecord[]): FlowRecord {
  const tcpFlows = records.filter((r) => r.proto === 'tcp');
  expect(tcpFlows).toHaveLength(1);
  return tcpFlows[0];
}

function finding(r: FlowRecord): Record<string, unknown> | undefined {
  const f = r.app_findings?.find((x) => x.kind === 'tls-handshake-failed');
  return f === undefined ? undefined : { message: f.message, ...f.detail };
}

describe('TLS recognizer', () => {
  it('reads a complete TLS 1.2 handshake: SNI, ALPN, versions, cipher suite; no finding', async () => {
    const t = new Trace();
    conn(t)
      .send(true, CH)
      .send(false, SERVER_FLIGHT)
      .send(true, CLIENT_FINISH)
      .send(false, SERVER_FINISH)
      .send(true, appData(300))
      .close();
    const r = only(await recognizeTrace(t, 'tls12'));
    expect(r.app).toBe('tls');
    expect(r.app_confidence).toBeGreaterThanOrEqual(0.9);
    expect(r.app_detail).toMatchObject({
      sni: 'pool01.contoso.com',
      alpn: ['sip', 'h2'],
      client_version: 'TLS 1.2',
      version: 'TLS 1.2',
      cipher_suite: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
      handshake_complete: true,
    });
    expect(r.app_findings).toBeUndefined();
  });

  it('reassembles a ClientHello split across three segments, the record header itself cut', async () => {
    const t = new Trace();
    conn(t)
      .send(true, CH, [3, 40])
      .send(false, SERVER_FLIGHT, [7, 100, 101])
      .send(true, CLIENT_FINISH)
      .send(false, SERVER_FINISH)
      .close();
    const r = only(await recognizeTrace(t, 'split'));
    expect(r.app).toBe('tls');
    expect(r.app_detail).toMatchObject({
      sni: 'pool01.contoso.com',
      version: 'TLS 1.2',
      handshake_complete: true,
    });
  });

  it('reassembles a ClientHello fragmented across two records (RFC 8446 section 5.1)', async () => {
    const hello = clientHello({ sni: 'fragmented.example', versions: [0x0304, 0x0303] });
    const twoRecords = Buffer.concat([record(22, hello.subarray(0, 60)), record(22, hello.subarray(60))]);
    const t = new Trace();
    conn(t)
      .send(true, twoRecords)
      .send(false, SERVER_FLIGHT)
      .send(true, CLIENT_FINISH)
      .send(false, SERVER_FINISH);
    const r = only(await recognizeTrace(t, 'fragmented'));
    expect(r.app_detail).toMatchObject({
      sni: 'fragmented.example',
      client_supported_versions: ['TLS 1.3', 'TLS 1.2'],
    });
  });

  it('parses several records in one segment, and handshake messages sharing one record', async () => {
    const oneRecord = record(
      22,
      Buffer.concat([
        serverHello({ suite: 0x009c }),
        certificate(200),
        certificateRequest(),
        SERVER_HELLO_DONE,
      ]),
    );
    const t = new Trace();
    conn(t)
      .send(true, CH)
      .send(false, oneRecord)
      .send(true, Buffer.concat([record(22, certificate(0)), CLIENT_FINISH]))
      .send(false, Buffer.concat([SERVER_FINISH, appData(64), appData(64)]))
      .close();
    const r = only(await recognizeTrace(t, 'many-records'));
    expect(r.app_detail).toMatchObject({
      cipher_suite: 'TLS_RSA_WITH_AES_128_GCM_SHA256',
      client_certificate_requested: true,
      client_certificate_sent: false,
      handshake_complete: true,
    });
    expect(r.app_detail?.handshake).toEqual([
      'client_hello',
      'server_hello',
      'certificate',
      'certificate_request',
      'server_hello_done',
      'certificate',
      'client_key_exchange',
    ]);
  });

  it('a handshake reset by the server after the ClientHello is a tls-handshake-failed finding', async () => {
    const t = new Trace();
    conn(t).send(true, CH).reset(false);
    const r = only(await recognizeTrace(t, 'reset'));
    expect(r.app).toBe('tls');
    expect(r.conn_state).toBe('RSTR');
    expect(finding(r)).toMatchObject({
      reason: 'reset',
      ended_by: 'server',
      stage: 'after_client_hello',
      sni: 'pool01.contoso.com',
      port: 5061,
    });
    expect(r.app_findings?.[0].severity).toBe('error');
  });

  it('silence after the ClientHello, and a closed connection, are told apart', async () => {
    // Silence for longer than the TCP inactivity timeout (300 s): the flow times out unanswered.
    const t1 = new Trace();
    conn(t1).send(true, CH).ack(false);
    t1.wait(400);
    udpDatagram(t1, '10.0.0.99', '10.0.0.98', 5000, 5001, Buffer.from('tick'));
    const r1 = only(await recognizeTrace(t1, 'silence'));
    expect(r1.end_reason).toBe('timeout');
    expect(finding(r1)).toMatchObject({ reason: 'no-answer', ended: 'silence' });
    // The same silence cut short by the end of the capture proves nothing: no finding.
    const t0 = new Trace();
    conn(t0).send(true, CH).ack(false);
    const r0 = only(await recognizeTrace(t0, 'silence-capture-end'));
    expect(r0.app_findings).toBeUndefined();
    expect(r0.app_detail).toMatchObject({ handshake_complete: false, capture_ended_during_handshake: true });
    const t2 = new Trace();
    conn(t2).send(true, CH).close();
    expect(finding(only(await recognizeTrace(t2, 'closed')))).toMatchObject({
      reason: 'closed',
      ended: 'closed',
    });
  });

  it('a fatal alert from the server (MTLS without a client certificate) names the alert', async () => {
    const t = new Trace();
    conn(t)
      .send(true, CH)
      .send(
        false,
        record(22, Buffer.concat([serverHello(), certificate(300), certificateRequest(), SERVER_HELLO_DONE])),
      )
      .send(
        true,
        Buffer.concat([
          record(22, certificate(0)),
          record(22, clientKeyExchange()),
          CCS,
          encryptedHandshake(),
        ]),
      )
      .send(false, alert(2, 40))
      .close();
    const r = only(await recognizeTrace(t, 'alert'));
    const f = finding(r);
    expect(f).toMatchObject({
      reason: 'alert',
      alert: { from: 'server', level: 'fatal', description: 'handshake_failure', code: 40 },
      client_certificate_requested: true,
      client_certificate_sent: false,
    });
    expect(f?.message).toContain('client certificate');
    expect(r.app_detail?.alerts).toEqual([
      { from: 'resp', level: 'fatal', description: 'handshake_failure' },
    ]);
  });

  it('TLS 1.2 hellos with no ChangeCipherSpec or application data afterwards did not complete', async () => {
    const t = new Trace();
    conn(t).send(true, CH).send(false, SERVER_FLIGHT).ack(true).close();
    const r = only(await recognizeTrace(t, 'no-ccs'));
    expect(r.app_detail?.handshake_complete).toBe(false);
    expect(finding(r)).toMatchObject({ reason: 'incomplete', stage: 'after_server_hello' });
  });

  it('TLS 1.3: completion is the client sending encrypted records after the server flight', async () => {
    const ch13 = record(22, clientHello({ sni: 'lync.example', versions: [0x0a0a, 0x0304, 0x0303] }), 0x0301);
    const sh13 = record(22, serverHello({ suite: 0x1302, selected: 0x0304 }));
    const t = new Trace();
    conn(t, 443)
      .send(true, ch13)
      .send(false, Buffer.concat([sh13, CCS, appData(30), appData(2000), appData(300), appData(60)]))
      .send(true, Buffer.concat([CCS, appData(60)]))
      .send(true, appData(500))
      .send(false, appData(900))
      .close();
    const r = only(await recognizeTrace(t, 'tls13'));
    expect(r.app_detail).toMatchObject({
      version: 'TLS 1.3',
      client_version: 'TLS 1.2',
      client_supported_versions: ['TLS 1.3', 'TLS 1.2'],
      cipher_suite: 'TLS_AES_256_GCM_SHA384',
      handshake_complete: true,
    });
    expect(r.app_findings).toBeUndefined();

    // The client refuses the server's certificate: one encrypted alert record, then the close.
    const t2 = new Trace();
    conn(t2, 443)
      .send(true, ch13)
      .send(false, Buffer.concat([sh13, CCS, appData(30), appData(2000), appData(300), appData(60)]))
      .send(true, Buffer.concat([CCS, appData(19)]))
      .close();
    const r2 = only(await recognizeTrace(t2, 'tls13-fail'));
    expect(r2.app_detail?.handshake_complete).toBe(false);
    expect(finding(r2)).toMatchObject({ reason: 'incomplete', stage: 'after_server_hello' });
  });

  it('a HelloRetryRequest is not the ServerHello: the second one is', async () => {
    const hrr = record(22, serverHello({ suite: 0x1301, selected: 0x0304, random: HRR_RANDOM }));
    const ch2 = record(22, clientHello({ sni: 'retry.example', versions: [0x0304] }));
    const t = new Trace();
    conn(t, 443)
      .send(true, record(22, clientHello({ sni: 'retry.example', versions: [0x0304] })))
      .send(false, Buffer.concat([hrr, CCS]))
      .send(true, Buffer.concat([CCS, ch2]))
      .send(
        false,
        Buffer.concat([record(22, serverHello({ suite: 0x1301, selected: 0x0304 })), appData(100)]),
      )
      .send(true, appData(60))
      .send(true, appData(60))
      .close();
    const r = only(await recognizeTrace(t, 'hrr'));
    expect(r.app_detail).toMatchObject({
      hello_retry_request: true,
      version: 'TLS 1.3',
      handshake_complete: true,
    });
  });

  it('a ServerHello whose first segment arrives after the second is put back in order', async () => {
    const t = new Trace();
    conn(t)
      .send(true, CH)
      .sendOutOfOrder(false, SERVER_FLIGHT, [500], [1, 0])
      .send(true, CLIENT_FINISH)
      .send(false, SERVER_FINISH)
      .close();
    const r = only(await recognizeTrace(t, 'reordered'));
    expect(r.app_detail).toMatchObject({ version: 'TLS 1.2', handshake_complete: true });
    expect(r.app_detail?.gaps).toBeUndefined();
    expect(r.app_findings).toBeUndefined();
  });

  it('a capture that starts mid-session: application data only, no handshake finding', async () => {
    const t = new Trace();
    const c = new ByteConn(t, ENDS);
    c.send(true, Buffer.concat([appData(100), appData(40)]))
      .send(false, appData(500))
      .send(true, appData(80));
    const r = only(await recognizeTrace(t, 'midstream'));
    expect(r.app).toBe('tls');
    expect(r.app_detail?.handshake_complete).toBe('not seen (the capture started mid-session)');
    expect(r.app_findings).toBeUndefined();
  });

  it('lost segments inside the server flight: resynchronises on the next record header', async () => {
    const t = new Trace();
    conn(t)
      .send(true, CH)
      .send(false, record(22, serverHello()))
      .lose(false, 700) // part of the certificate record is not in the capture
      .send(false, Buffer.concat([SERVER_FINISH, appData(50)]))
      .send(true, CLIENT_FINISH)
      .close();
    const r = only(await recognizeTrace(t, 'lost'));
    expect(r.app_detail).toMatchObject({ version: 'TLS 1.2', handshake_complete: true, gaps: true });
  });

  it('a truncated ClientHello (the flow ends inside the record) neither throws nor claims too much', async () => {
    const t = new Trace();
    conn(t).send(true, CH.subarray(0, 30)).close();
    const r = only(await recognizeTrace(t, 'truncated'));
    expect(r.app).toBe('tls');
    expect(r.app_detail?.sni).toBeUndefined();
    expect(r.app_findings).toBeUndefined(); // no complete ClientHello, no claim about the handshake
  });

  it('garbage that starts like TLS is not TLS', async () => {
    const cases = [
      Buffer.from('1603010fffffffffffffffffffffffffffffff', 'hex'), // record length over 2^14 + 2048
      Buffer.concat([Buffer.from('16030100300100ffff0303', 'hex'), Buffer.alloc(40, 0x41)]), // hello longer than any real one
      Buffer.concat([Buffer.from('160301002c01000028ff', 'hex'), Buffer.alloc(40, 0x41)]), // version 0xff..
      Buffer.concat([
        Buffer.from('16030100300100002c0303', 'hex'),
        Buffer.alloc(32, 1),
        Buffer.from('ff', 'hex'),
        Buffer.alloc(20),
      ]), // session id 255
      Buffer.from('1603ff0010' + '41'.repeat(16), 'hex'), // minor version 255
      Buffer.from('17030300ff' + '42'.repeat(8) + '4745542f20485454502f312e310d0a', 'hex'), // app data, then text
    ];
    for (const [i, bytes] of cases.entries()) {
      const t = new Trace();
      conn(t, 443, 40000 + i)
        .send(true, bytes)
        .send(false, Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'))
        .close();
      const r = only(await recognizeTrace(t, `garbage-${i}`));
      expect(r.app === undefined || r.app !== 'tls', `case ${i}: ${JSON.stringify(r.app_detail)}`).toBe(true);
    }
  });

  it('parseClientHello rejects every truncation of a valid hello instead of reading past the end', () => {
    const body = clientHello({ sni: 'x.example', alpn: ['h2'], versions: [0x0304] }).subarray(4);
    expect(parseClientHello(body, 0, body.length)?.sni).toBe('x.example');
    for (let n = 0; n < body.length; n++) {
      const info = parseClientHello(body, 0, n);
      // Only a cut exactly before the extensions block parses (TLS 1.2 allows a hello without one).
      if (info !== undefined) expect(info.extensions).toEqual([]);
    }
  });

  it('detect: nothing for short or non-TLS payloads, a weak claim for a cut record header', () => {
    const ctx: PacketContext = {
      fromOrig: true,
      ts: 0,
      transport: 'tcp',
      origPort: 1,
      respPort: 443,
      gap: false,
    };
    for (const b of [
      Buffer.of(0x16),
      Buffer.of(0x16, 3),
      Buffer.of(0x17, 3, 3),
      Buffer.alloc(0),
      Buffer.from('GET / HTTP/1.1\r\n'),
    ])
      expect(tls.detect({ buf: b, offset: 0, length: b.length }, ctx)).toBe(0);
    expect(tls.detect({ buf: Buffer.of(0x16, 3, 1), offset: 0, length: 3 }, ctx)).toBe(0.5);
  });
});

const noTshark = tsharkSkipReason('TLS recognizer vs tshark (synthetic)');

describe.skipIf(noTshark !== undefined)(
  'TLS recognizer agrees with tshark on the synthetic handshakes',
  () => {
    it('SNI, client version, supported versions, ServerHello version and cipher suite', async () => {
      const t = new Trace();
      conn(t, 5061, 50001)
        .send(true, CH)
        .send(false, SERVER_FLIGHT)
        .send(true, CLIENT_FINISH)
        .send(false, SERVER_FINISH);
      const ch13 = record(22, clientHello({ sni: 'lync.example', versions: [0x0304, 0x0303] }), 0x0301);
      conn(t, 443, 50002)
        .send(true, ch13)
        .send(
          false,
          Buffer.concat([record(22, serverHello({ suite: 0x1302, selected: 0x0304 })), appData(30)]),
        );
      const path = writeTrace(t, 'tls-tshark');
      const ours = (await recognizeTrace(t, 'tls-tshark')).filter((r) => r.app === 'tls');
      const rows = tsharkFields(path, [
        'tcp.srcport',
        'tls.handshake.type',
        'tls.handshake.extensions_server_name',
        'tls.handshake.version',
        'tls.handshake.extensions.supported_version',
        'tls.handshake.ciphersuite',
      ]);
      for (const r of ours) {
        const ch = rows.find((row) => Number(row[0]) === r.orig_p && row[1].split(',').includes('1'));
        const sh = rows.find((row) => Number(row[0]) === r.resp_p && row[1].split(',').includes('2'));
        expect(ch, `tshark ClientHello for ${r.orig_p}`).toBeDefined();
        expect(sh, `tshark ServerHello for ${r.orig_p}`).toBeDefined();
        expect(r.app_detail?.sni).toBe(ch![2]);
        expect(r.app_detail?.client_version).toBe(versionText(ch![3]));
        const shVersion = sh![4] !== '' ? sh![4] : sh![3];
        expect(r.app_detail?.version).toBe(versionText(shVersion));
        expect(parseInt(sh![5].split(',')[0], 16)).toBe(r.orig_p === 50001 ? 0xc030 : 0x1302);
      }
      expect(ours).toHaveLength(2);
    });
  },
);

/** tshark prints versions as 0x0303; ours are names. */
function versionText(v: string): string {
  const n = parseInt(v, 16);
  return n === 0x0300 ? 'SSL 3.0' : `TLS 1.${n - 0x0301}`;
}
