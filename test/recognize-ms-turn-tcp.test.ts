/**
 * MS-TURN over TCP 443 (the A/V Edge's pseudo-TLS) and PSOM (port + TLS). There is no public
 * capture of the pseudo-TLS, so the bytes are built here one by one from its description
 * (../shared/research/microsoft-ports.md section 3; libnice socket/pseudossl.c and
 * socket/udp-turn-over-tcp.c, read for the layout only):
 *   client: record 16 03 01 00 2d; client_hello 01 00 00 29; version 03 01; 32-byte random;
 *           empty session id; cipher suites 00 02 00 18; compression 01 00; no extensions
 *   server: record 16 03 01 00 4e; server_hello 02 00 00 46; version 03 01; random of 32 zeros;
 *           session id of 32 bytes; suite 00 18; compression 00; server_hello_done 0e 00 00 00
 *   then:   type (02 control / 03 data), 00, u16 length, message
 */
import { describe, expect, it } from 'vitest';
import { ByteConn, hex, recognizeTrace, udpDatagram } from './helpers/app.js';
import { Trace } from './helpers/traffic.js';
import {
  CCS,
  SERVER_HELLO_DONE,
  alert,
  appData,
  certificate,
  clientHello,
  record,
  serverHello,
} from './helpers/tls-bytes.js';
import type { FlowRecord } from '../src/flow/record.js';

const PSEUDO_CLIENT_HELLO = Buffer.concat([
  hex('16 03 01 00 2d'),
  hex('01 00 00 29'),
  hex('03 01'),
  Buffer.alloc(32, 0xc1), // the client random: any bytes
  hex('00'),
  hex('00 02 00 18'),
  hex('01 00'),
]);

const PSEUDO_SERVER_HELLO = Buffer.concat([
  hex('16 03 01 00 4e'),
  hex('02 00 00 46'),
  hex('03 01'),
  Buffer.alloc(32, 0), // all-zero server random
  hex('20'),
  Buffer.alloc(32, 0x3c), // session id
  hex('00 18'),
  hex('00'),
  hex('0e 00 00 00'),
]);

/**
 * An MS-TURN message (old layout: 16-byte transaction id, MAGIC-COOKIE attribute first) of a given
 * type, padded out with `extra` bytes of 8-byte attributes (0x8070, MS implementation version).
 */
function msTurn(type: number, extra = 0): Buffer {
  const filler: Buffer[] = [];
  for (let k = 0; k < extra; k += 8) filler.push(hex('80 70 00 04 00 00 00 03'));
  const attrs = Buffer.concat([hex('00 0f 00 04 72 c6 4b c6'), ...filler]);
  const h = Buffer.alloc(20);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(attrs.length, 2);
  h.fill(0x2b, 4, 20);
  return Buffer.concat([h, attrs]);
}

function frame(type: 2 | 3, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, body]);
}

/** An SRTP-looking packet (RTP version 2 header, opaque rest). */
function rtp(size: number): Buffer {
  const b = Buffer.alloc(size, 0x9d);
  b[0] = 0x80;
  b[1] = 0x72;
  return b;
}

const ENDS = { client: '192.0.2.10', server: '198.51.100.20', cport: 51000, sport: 443 };

function only(records: FlowRecord[]): FlowRecord {
  const t = records.filter((r) => r.proto === 'tcp');
  expect(t).toHaveLength(1);
  return t[0];
}

describe('MS-TURN over TCP (pseudo-TLS to the A/V Edge)', () => {
  it('recognises the pseudo handshake as media relay, not TLS, and counts control vs data frames', async () => {
    const t = new Trace();
    new ByteConn(t, ENDS)
      .handshake()
      .send(true, PSEUDO_CLIENT_HELLO)
      .send(false, PSEUDO_SERVER_HELLO)
      .send(true, frame(2, msTurn(0x0003, 24))) // Allocate request
      .send(false, frame(2, msTurn(0x0103, 40))) // Allocate response
      // Several frames in one segment, and one frame split across segments.
      .send(true, Buffer.concat([frame(3, rtp(172)), frame(3, rtp(172)), frame(2, msTurn(0x0004, 8))]))
      .send(false, Buffer.concat([frame(3, rtp(200)), frame(3, rtp(90))]), [3, 150])
      .close();
    const r = only(await recognizeTrace(t, 'ms-turn-tcp'));
    expect(r.app).toBe('ms-turn-tcp');
    expect(r.app_confidence).toBeGreaterThan(0.95);
    expect(r.app_detail).toMatchObject({
      handshake: 'pseudo-tls',
      client_hello: true,
      server_hello: true,
      server_random_zero: true,
      cipher_suite: 'TLS_DH_anon_WITH_RC4_128_MD5',
      messages: {
        client: { control: 2, data: 2, bytes: 52 + 172 + 172 + 36 },
        server: { control: 1, data: 2, bytes: 68 + 200 + 90 },
      },
    });
    expect(r.app_detail?.framing_error).toBeUndefined();
    // The control frames decoded as MS-TURN: an answered Allocate, and a Send (which wants no answer).
    expect(r.app_detail?.turn).toMatchObject({
      messages: 3,
      formats: ['ms-turn'],
      turn: true,
      transactions: { requests: 1, answered: 1, unanswered: 0 },
    });
    expect(r.app_findings).toBeUndefined();
  });

  it('the hellos cut across segments still match; a nonzero server random is reported', async () => {
    const server = Buffer.from(PSEUDO_SERVER_HELLO);
    server[20] = 0x42;
    const t = new Trace();
    new ByteConn(t, ENDS)
      .handshake()
      .send(true, PSEUDO_CLIENT_HELLO, [11, 30])
      .send(false, server, [40])
      .send(true, frame(2, msTurn(0x0003)))
      .close();
    const r = only(await recognizeTrace(t, 'ms-turn-split'));
    expect(r.app).toBe('ms-turn-tcp');
    expect(r.app_detail).toMatchObject({ server_hello: true, server_random_zero: false });
  });

  it('no answer to the pseudo hello, a reset, or a real TLS answer are ms-turn-tcp-handshake-failed', async () => {
    const silence = new Trace();
    new ByteConn(silence, ENDS).handshake().send(true, PSEUDO_CLIENT_HELLO).ack(false);
    silence.wait(400); // past the TCP inactivity timeout: unanswered, not cut by the capture's end
    udpDatagram(silence, '192.0.2.99', '192.0.2.98', 5000, 5001, Buffer.from('tick'));
    const reset = new Trace();
    new ByteConn(reset, ENDS).handshake().send(true, PSEUDO_CLIENT_HELLO).reset(false);
    const web = new Trace();
    new ByteConn(web, ENDS)
      .handshake()
      .send(true, PSEUDO_CLIENT_HELLO)
      .send(
        false,
        record(
          22,
          Buffer.concat([
            serverHello({ version: 0x0301, suite: 0x002f }),
            certificate(500),
            SERVER_HELLO_DONE,
          ]),
          0x0301,
        ),
      )
      .close();
    const cases: [Trace, string, string][] = [
      [silence, 'no-answer', 'did not answer'],
      [reset, 'no-answer', 'the server reset the connection'],
      [web, 'real-tls-answer', 'real TLS handshake'],
    ];
    for (const [trace, reason, text] of cases) {
      const r = only(await recognizeTrace(trace, `ms-turn-fail-${reason}`));
      expect(r.app).toBe('ms-turn-tcp');
      const f = r.app_findings?.find((x) => x.kind === 'ms-turn-tcp-handshake-failed');
      expect(f?.detail).toMatchObject({ reason, port: 443 });
      expect(f?.message).toContain(text);
    }
  });

  it('an Allocate the Edge never answers is a stun-no-response finding of the relay flow', async () => {
    const t = new Trace();
    new ByteConn(t, ENDS)
      .handshake()
      .send(true, PSEUDO_CLIENT_HELLO)
      .send(false, PSEUDO_SERVER_HELLO)
      .send(true, frame(2, msTurn(0x0003, 16)), [2, 30]) // the control frame cut across segments
      .close();
    const r = only(await recognizeTrace(t, 'ms-turn-allocate-unanswered'));
    expect(r.app).toBe('ms-turn-tcp');
    expect(r.app_detail?.turn).toMatchObject({ transactions: { requests: 1, answered: 0, unanswered: 1 } });
    expect(r.app_findings?.map((f) => f.kind)).toEqual(['stun-no-response']);
    expect(r.app_findings?.[0].detail).toMatchObject({ method: 'Allocate', format: 'ms-turn' });
  });

  it('a bad frame type after the handshake stops the counting of that side (framing_error)', async () => {
    const t = new Trace();
    new ByteConn(t, ENDS)
      .handshake()
      .send(true, PSEUDO_CLIENT_HELLO)
      .send(false, PSEUDO_SERVER_HELLO)
      .send(true, Buffer.concat([frame(2, msTurn(0x0003)), hex('17 03 01 00 10'), Buffer.alloc(16)]))
      .send(true, frame(3, rtp(100)))
      .close();
    const r = only(await recognizeTrace(t, 'ms-turn-badframe'));
    expect(r.app_detail).toMatchObject({
      framing_error: 'client',
      messages: { client: { control: 1, data: 0 } },
    });
  });

  it('an ordinary TLS 1.0 ClientHello on 443 stays TLS', async () => {
    const t = new Trace();
    new ByteConn(t, ENDS)
      .handshake()
      .send(true, record(22, clientHello({ version: 0x0301, suites: [0x0018], noExtensions: true }), 0x0301))
      .close();
    // The same suite and no extensions, but a 32-byte session id: not the fixed 45-byte record.
    const r = only(await recognizeTrace(t, 'tls10-on-443'));
    expect(r.app).toBe('tls');
  });
});

describe('PSOM (port + TLS)', () => {
  const ch = record(22, clientHello({ sni: 'fe01.contoso.com' }));
  const serverFlight = Buffer.concat([
    record(22, serverHello()),
    record(22, certificate(400)),
    record(22, SERVER_HELLO_DONE),
  ]);

  it('TLS to 8057 is psom, said to be identified by port + TLS, with the TLS details', async () => {
    const t = new Trace();
    new ByteConn(t, { ...ENDS, sport: 8057 })
      .handshake()
      .send(true, ch)
      .send(false, serverFlight)
      .send(true, Buffer.concat([CCS, appData(40)]))
      .send(false, Buffer.concat([CCS, appData(40)]))
      .close();
    const r = only(await recognizeTrace(t, 'psom'));
    expect(r.app).toBe('psom');
    expect(r.app_detail).toMatchObject({
      identified_by: 'port+tls',
      port: 8057,
      sni: 'fe01.contoso.com',
      handshake_complete: true,
    });
  });

  it('a failed handshake on 8058 is a tls-handshake-failed finding that names PSOM', async () => {
    const t = new Trace();
    new ByteConn(t, { ...ENDS, sport: 8058 }).handshake().send(true, ch).send(false, alert(2, 48)).close();
    const r = only(await recognizeTrace(t, 'psom-fail'));
    expect(r.app).toBe('psom');
    const f = r.app_findings?.find((x) => x.kind === 'tls-handshake-failed');
    expect(f?.message).toContain('PSOM (TLS)');
    expect(f?.detail).toMatchObject({ reason: 'alert', alert: { description: 'unknown_ca' } });
  });

  it('TLS on 443 is not guessed to be PSOM, and plain text on 8057 is not PSOM', async () => {
    const t = new Trace();
    new ByteConn(t, ENDS).handshake().send(true, ch).send(false, serverFlight).close();
    expect(only(await recognizeTrace(t, 'tls-443')).app).toBe('tls');
    const t2 = new Trace();
    new ByteConn(t2, { ...ENDS, sport: 8057 }).handshake().send(true, Buffer.from('hello there\r\n')).close();
    expect(only(await recognizeTrace(t2, 'text-8057')).app).toBeUndefined();
  });
});
