/**
 * The SIP recognizer (src/recognize/sip.ts, SDP via src/recognize/sdp.ts) on hand-built messages:
 * request and status lines, compact and folded headers, several messages per datagram or segment,
 * messages split across TCP segments, SIP over WebSocket, SDP offers and answers with ICE
 * candidates in the forms Lync uses, error responses as findings, garbage that starts like SIP,
 * and linear time on adversarial headers.
 */
import { describe, expect, it } from 'vitest';
import { sip, parseSipMessage, type ParseOut, type SipMessage } from '../src/recognize/sip.js';
import { summarizeSdp } from '../src/recognize/sdp.js';
import { RECOGNIZERS } from '../src/recognize/index.js';
import { recognize, segments, type TestPacket } from './helpers/recognize.js';
import type { PacketContext, Payload } from '../src/recognize/types.js';

const CRLF = '\r\n';

function msg(startLine: string, headers: string[], body = ''): Buffer {
  const withLength = headers.some((h) => /^(content-length|l)\s*:/i.test(h))
    ? headers
    : [...headers, `Content-Length: ${Buffer.byteLength(body)}`];
  return Buffer.from(startLine + CRLF + withLength.join(CRLF) + CRLF + CRLF + body, 'latin1');
}

const OFFER_SDP = [
  'v=0',
  'o=- 0 0 IN IP4 10.0.0.5',
  's=session',
  'c=IN IP4 10.0.0.5',
  't=0 0',
  'm=audio 50010 RTP/SAVP 114 111 0 8 101',
  'a=ice-ufrag:Abcd',
  'a=ice-pwd:0123456789012345678901',
  'a=candidate:1 1 UDP 2130706431 10.0.0.5 50010 typ host',
  'a=candidate:1 2 UDP 2130705918 10.0.0.5 50011 typ host',
  'a=candidate:2 1 TCP-PASS 174455807 10.0.0.5 50012 typ host',
  'a=candidate:3 1 TCP-ACT 174846975 10.0.0.5 50013 typ host',
  'a=candidate:4 1 UDP 16648703 198.51.100.7 53000 typ relay raddr 203.0.113.9 rport 40000',
  'a=x-candidate-ipv6:5 1 UDP 2130706430 2001:db8::5 50014 typ host',
  'a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:abcdefghijklmnopqrstuvwxyz0123456789ABCD|2^31|1:1',
  'a=rtcp:50011',
  'a=sendrecv',
  'm=video 50020 RTP/SAVP 121 122',
  'c=IN IP4 10.0.0.6',
  'a=candidate:6 1 UDP 2130706431 10.0.0.6 50020 typ host',
  '',
].join(CRLF);

const ANSWER_SDP = [
  'v=0',
  'o=- 0 0 IN IP4 192.0.2.20',
  's=session',
  'c=IN IP4 192.0.2.20',
  't=0 0',
  'm=audio 18000 RTP/SAVP 114',
  // Lync 2007/2010 MS-ICE version 1 candidate: <ufrag> <component> <password> <transport> <q> <ip> <port>
  'a=candidate:Wmnd6p2TwNvO6Nr0QPV2e1hA 1 zY5HLQ6eFpiyJ0XyxcS3DQ UDP 0.830 192.0.2.20 18000',
  'm=video 0 RTP/SAVP 121',
  '',
].join(CRLF);

const INVITE = msg(
  'INVITE sip:bob@example.com SIP/2.0',
  [
    'Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK776asdhds',
    'Max-Forwards: 70',
    'To: Bob <sip:bob@example.com>',
    'From: Alice <sip:alice@example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.example.com',
    'CSeq: 314159 INVITE',
    'Contact: <sip:alice@10.0.0.5>',
    'User-Agent: UCCAPI/4.0.7577.0 OC/4.0.7577.0 (Microsoft Lync 2010)',
    'Content-Type: application/sdp',
  ],
  OFFER_SDP,
);

function response(status: string, cseq: string, headers: string[] = [], body = ''): Buffer {
  return msg(
    `SIP/2.0 ${status}`,
    [
      'Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK776asdhds',
      'To: Bob <sip:bob@example.com>;tag=a6c85cf',
      'From: Alice <sip:alice@example.com>;tag=1928301774',
      'Call-ID: a84b4c76e66710@pc33.example.com',
      `CSeq: ${cseq}`,
      ...headers,
    ],
    body,
  );
}

const OK = response('200 OK', '314159 INVITE', ['Content-Type: application/sdp'], ANSWER_SDP);
const ACK = msg('ACK sip:bob@192.0.2.20 SIP/2.0', [
  'Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnashds9',
  'To: Bob <sip:bob@example.com>;tag=a6c85cf',
  'From: Alice <sip:alice@example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.example.com',
  'CSeq: 314159 ACK',
]);

function run(transport: 'udp' | 'tcp', packets: TestPacket[]) {
  return recognize(RECOGNIZERS, transport, packets, { orig: 5060, resp: 5060 });
}

function d(r: ReturnType<typeof run>): Record<string, unknown> {
  return r.result!.detail;
}

interface Dialog {
  call_id: string;
  methods: string[];
  invite_status?: number;
  offer?: {
    from: string;
    media: { type: string; port: number; address?: string; candidates: Record<string, unknown>[] }[];
  };
  answer?: {
    from: string;
    media: { type: string; port: number; address?: string; candidates: Record<string, unknown>[] }[];
  };
}

describe('SIP over UDP', () => {
  it('parses a call: request and status lines, dialog, the SDP offer and answer with their ICE candidates', () => {
    const r = run('udp', [{ data: INVITE }, { data: OK, fromOrig: false }, { data: ACK }]);
    expect(r.result?.app).toBe('sip');
    expect(r.result!.confidence).toBeGreaterThanOrEqual(0.95);
    expect(d(r)).toMatchObject({
      transport: 'udp',
      messages: 3,
      first_line: 'INVITE sip:bob@example.com',
      requests: { INVITE: 1, ACK: 1 },
      responses: { '200': 1 },
      user_agent: 'UCCAPI/4.0.7577.0 OC/4.0.7577.0 (Microsoft Lync 2010)',
    });
    const [dialog] = d(r).dialogs as Dialog[];
    expect(dialog).toMatchObject({
      call_id: 'a84b4c76e66710@pc33.example.com',
      from: 'sip:alice@example.com',
      from_tag: '1928301774',
      to: 'sip:bob@example.com',
      to_tag: 'a6c85cf',
      methods: ['INVITE', 'ACK'],
      invite_status: 200,
    });
    const offer = dialog.offer!;
    expect(offer.from).toBe('orig');
    expect(offer.media.map((m) => [m.type, m.port, m.address])).toEqual([
      ['audio', 50010, '10.0.0.5'],
      ['video', 50020, '10.0.0.6'],
    ]);
    expect(offer.media[0]).toMatchObject({
      rtcp_port: 50011,
      direction: 'sendrecv',
      crypto: true,
      ice_ufrag: 'Abcd',
    });
    const cands = offer.media[0].candidates;
    expect(cands.map((c) => [c.transport, c.ip, c.port, c.type])).toEqual([
      ['UDP', '10.0.0.5', 50010, 'host'],
      ['UDP', '10.0.0.5', 50011, 'host'],
      ['TCP-PASS', '10.0.0.5', 50012, 'host'],
      ['TCP-ACT', '10.0.0.5', 50013, 'host'],
      ['UDP', '198.51.100.7', 53000, 'relay'],
      ['UDP', '2001:db8::5', 50014, 'host'],
    ]);
    expect(cands[4]).toMatchObject({ raddr: '203.0.113.9', rport: 40000 });
    expect(cands[5].syntax).toBe('x-candidate-ipv6');
    const answer = dialog.answer!;
    expect(answer.from).toBe('resp');
    expect(answer.media[0]).toMatchObject({ type: 'audio', port: 18000, address: '192.0.2.20' });
    expect(answer.media[0].candidates).toEqual([
      { component: 1, transport: 'UDP', priority: '0.830', ip: '192.0.2.20', port: 18000, syntax: 'ms-ice1' },
    ]);
    expect(answer.media[1]).toMatchObject({ type: 'video', port: 0 });
    expect(r.result!.findings).toEqual([]);
  });

  it('keeps the offer and answer when the INVITE and its 200 are retransmitted', () => {
    const r = run('udp', [
      { data: INVITE },
      { data: INVITE },
      { data: OK, fromOrig: false },
      { data: OK, fromOrig: false },
    ]);
    const [dialog] = d(r).dialogs as Dialog[];
    expect(dialog.offer?.from).toBe('orig');
    expect(dialog.answer?.from).toBe('resp');
  });

  it('reads SDP out of a multipart/alternative body, as Lync sends it', () => {
    const body = [
      '--boundary42',
      'Content-Type: application/sdp',
      'Content-Disposition: session; handling=optional; ms-proxy-2007fallback',
      '',
      OFFER_SDP.replace('50010 RTP', '40010 RTP'),
      '--boundary42',
      'Content-Type: application/sdp',
      '',
      OFFER_SDP,
      '--boundary42--',
      '',
    ].join(CRLF);
    const invite = msg(
      'INVITE sip:bob@example.com SIP/2.0',
      [
        'Via: SIP/2.0/TCP 10.0.0.5:5060',
        'From: <sip:alice@example.com>;tag=1',
        'To: <sip:bob@example.com>',
        'Call-ID: multi-1',
        'CSeq: 1 INVITE',
        'Content-Type: multipart/alternative;boundary="boundary42"',
      ],
      body,
    );
    const r = run('udp', [{ data: invite }]);
    const [dialog] = d(r).dialogs as Dialog[];
    expect(dialog.offer?.media[0].port).toBe(40010);
  });

  it('reports 4xx/5xx/6xx responses as findings, with ms-diagnostics; auth challenges are info', () => {
    const r = run('udp', [
      { data: INVITE },
      { data: response('407 Proxy Authentication Required', '314159 INVITE'), fromOrig: false },
      { data: INVITE },
      {
        data: response('488 Not Acceptable Here', '314159 INVITE', [
          'ms-diagnostics: 23;reason="Call failed to establish due to a media connectivity failure";source="edge.example.com"',
        ]),
        fromOrig: false,
      },
      { data: response('503 Service Unavailable', '314160 BYE'), fromOrig: false },
      { data: response('603 Decline', '314161 INVITE'), fromOrig: false },
    ]);
    const f = r.result!.findings;
    expect(f.map((x) => [x.kind, x.detail?.status, x.severity])).toEqual([
      ['sip-error-response', 407, 'info'],
      ['sip-error-response', 488, 'warning'],
      ['sip-error-response', 503, 'warning'],
      ['sip-error-response', 603, 'warning'],
    ]);
    expect(f[1].detail).toMatchObject({ method: 'INVITE', call_id: 'a84b4c76e66710@pc33.example.com' });
    expect(f[1].message).toContain('media connectivity failure');
    expect(f[2].detail?.method).toBe('BYE');
  });

  it('parses two messages in one datagram and skips keep-alives (CRLFs, or spaces as some phones send)', () => {
    const r = run('udp', [
      { data: Buffer.concat([Buffer.from('\r\n\r\n'), INVITE, ACK]) },
      { data: Buffer.from('\r\n') },
      { data: Buffer.from('     ') },
    ]);
    expect(d(r)).toMatchObject({ messages: 2, requests: { INVITE: 1, ACK: 1 }, keepalives: 3 });
    expect(d(r).unparsed).toBeUndefined();
  });

  it('lists the first messages with their identifying headers', () => {
    const r = run('udp', [{ data: INVITE }, { data: OK, fromOrig: false }]);
    const common = {
      ts: expect.any(Number),
      cseq: '314159 INVITE',
      call_id: 'a84b4c76e66710@pc33.example.com',
      via: 'SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK776asdhds',
      content_type: 'application/sdp',
    };
    expect(d(r).first_messages).toEqual([
      {
        ...common,
        from: 'orig',
        line: 'INVITE sip:bob@example.com',
        content_length: Buffer.byteLength(OFFER_SDP),
      },
      { ...common, from: 'resp', line: '200 OK', content_length: Buffer.byteLength(ANSWER_SDP) },
    ]);
  });

  it('understands compact header forms and folded (continued) header lines', () => {
    const m = msg('OPTIONS sip:x@example.com SIP/2.0', [
      'v: SIP/2.0/UDP host.example.com',
      'f: <sip:y@example.com>',
      '  ;tag=folded-tag',
      't: <sip:x@example.com>',
      'i: compact-call-id',
      'CSeq: 9 OPTIONS',
      'l: 0',
    ]);
    const r = run('udp', [{ data: m }]);
    const [dialog] = d(r).dialogs as (Dialog & { from_tag?: string })[];
    expect(dialog).toMatchObject({
      call_id: 'compact-call-id',
      from_tag: 'folded-tag',
      methods: ['OPTIONS'],
    });
  });

  it('reads the headers of a snaplen-cut datagram', () => {
    const cut = INVITE.subarray(0, 200);
    const r = run('udp', [{ data: cut }]);
    expect(r.result?.app).toBe('sip');
    expect(d(r).truncated).toBe(1);
  });
});

describe('From and To name-addr (RFC 3261 section 25.1)', () => {
  function dialogOf(from: string, to = '<sip:bob@example.com>;tag=b2'): Record<string, unknown> {
    const m = msg('OPTIONS sip:bob@example.com SIP/2.0', [
      'Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-1',
      `From: ${from}`,
      `To: ${to}`,
      'Call-ID: name-addr-1',
      'CSeq: 1 OPTIONS',
    ]);
    return (d(run('udp', [{ data: m }])).dialogs as Record<string, unknown>[])[0];
  }

  it('a "<" inside the quoted display name is not the address: from is the addr-spec, not "script"', () => {
    expect(dialogOf('"<script>alert(1)</script>" <sip:a@b>;tag=x1')).toMatchObject({
      from: 'sip:a@b',
      from_tag: 'x1',
    });
  });

  it('quoted-pair escapes, ";tag=" and ">" inside the quotes, a token display name, a bare addr-spec', () => {
    expect(dialogOf('"a \\"<b>\\" ;tag=no" <sip:alice@example.com>;tag=yes')).toMatchObject({
      from: 'sip:alice@example.com',
      from_tag: 'yes',
    });
    expect(dialogOf('Alice Smith <sip:alice@example.com>;tag=t')).toMatchObject({
      from: 'sip:alice@example.com',
      from_tag: 't',
    });
    expect(dialogOf('sip:alice@example.com;tag=bare')).toMatchObject({
      from: 'sip:alice@example.com',
      from_tag: 'bare',
    });
    expect(dialogOf('<sip:a@b>;tag=1', '"Bob <the boss>" <sip:bob@example.com>')).toMatchObject({
      to: 'sip:bob@example.com',
    });
    // An unterminated quote: read as before, from the first "<".
    expect(dialogOf('"unterminated <sip:a@b>;tag=u')).toMatchObject({ from: 'sip:a@b', from_tag: 'u' });
  });
});

describe('SIP over TCP', () => {
  it('parses several messages in one segment', () => {
    const r = run('tcp', [{ data: Buffer.concat([INVITE, ACK]) }, { data: OK, fromOrig: false }]);
    expect(d(r)).toMatchObject({ transport: 'tcp', messages: 3 });
  });

  it('reassembles messages split across segments at every kind of boundary', () => {
    const stream = Buffer.concat([INVITE, ACK, INVITE]);
    const cuts = [
      [5], // inside the request line
      [INVITE.indexOf('\r\n') + 1], // between CR and LF
      [INVITE.indexOf('\r\n\r\n') + 2], // inside the empty line
      [INVITE.indexOf('\r\n\r\n') + 4, 30], // at the body start, then inside the body
      [INVITE.length - 1, 2], // last body byte, then across the next message's start
      // The request line in the first segment (detection looks at the first 8 payloads only), then one byte per segment.
      [40, ...Array<number>(stream.length).fill(1)],
    ];
    for (const sizes of cuts) {
      const r = run('tcp', [...segments(stream, sizes), { data: OK, fromOrig: false }]);
      expect(r.result?.app, `cuts ${sizes.slice(0, 3).join(',')}`).toBe('sip');
      expect(d(r).messages, `cuts ${sizes.slice(0, 3).join(',')}`).toBe(4);
      expect((d(r).dialogs as Dialog[])[0].answer?.from).toBe('resp');
    }
  });

  it('resynchronises after missing bytes at the next segment that starts a message', () => {
    const r = run('tcp', [
      { data: INVITE.subarray(0, 100) },
      { data: ACK, gap: true },
      { data: INVITE.subarray(150), gap: true },
      { data: ACK },
    ]);
    expect(d(r).messages).toBe(2);
    expect(d(r).requests).toEqual({ ACK: 2 });
  });

  it('skips a body larger than it buffers and carries on with the next message', () => {
    const big = msg(
      'MESSAGE sip:x@example.com SIP/2.0',
      ['Call-ID: big', 'CSeq: 1 MESSAGE', 'Content-Type: text/plain'],
      'x'.repeat(200_000),
    );
    const r = run('tcp', [...segments(Buffer.concat([big, ACK]), Array<number>(200).fill(1460))]);
    expect(d(r)).toMatchObject({ messages: 2, skipped_bodies: 1, requests: { MESSAGE: 1, ACK: 1 } });
  });
});

describe('SIP over WebSocket (RFC 7118)', () => {
  function frame(payload: Buffer, mask: Buffer | null): Buffer {
    const len = payload.length;
    const head = len < 126 ? Buffer.from([0x81, len]) : Buffer.from([0x81, 126, len >> 8, len & 0xff]);
    if (mask === null) return Buffer.concat([head, payload]);
    head[1] |= 0x80;
    const masked = Buffer.from(payload);
    for (let i = 0; i < len; i++) masked[i] ^= mask[i & 3];
    return Buffer.concat([head, mask, masked]);
  }

  it('follows the Upgrade, unmasks client frames and parses the SIP inside, even split across segments', () => {
    const upgrade = Buffer.from(
      'GET / HTTP/1.1\r\nHost: sip.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const accept = Buffer.from(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: sip\r\n\r\n',
    );
    const client = Buffer.concat([
      frame(INVITE, Buffer.from([1, 2, 3, 4])),
      frame(ACK, Buffer.from([9, 8, 7, 6])),
    ]);
    const r = run('tcp', [
      { data: upgrade },
      { data: Buffer.concat([accept, frame(OK, null)]), fromOrig: false },
      ...segments(client, [10, 300, 3]),
    ]);
    expect(r.result?.app).toBe('sip');
    expect(d(r)).toMatchObject({ transport: 'websocket', messages: 3, requests: { INVITE: 1, ACK: 1 } });
  });

  it('leaves a WebSocket for another subprotocol to HTTP', () => {
    const upgrade = Buffer.from(
      'GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: chat, superchat\r\n\r\n',
    );
    expect(run('tcp', [{ data: upgrade }]).claimedBy).toBe('http');
  });
});

describe('garbage that starts like SIP', () => {
  it('"SIP/2.0" followed by binary is not SIP', () => {
    const junk = Buffer.concat([
      Buffer.from('SIP/2.0'),
      Buffer.from([0, 1, 2, 0xff, 0x80, 0x0d, 0x0a, 0x0d, 0x0a]),
    ]);
    expect(run('udp', [{ data: junk }]).result).toBeUndefined();
    const status = Buffer.concat([Buffer.from('SIP/2.0 200 '), Buffer.from([0, 1, 2, 3, 0x0d, 0x0a])]);
    expect(run('udp', [{ data: status }]).result).toBeUndefined();
  });

  it('a request line without a SIP version, or with a URI lacking a scheme, is not SIP', () => {
    expect(run('udp', [{ data: Buffer.from('INVITE bob SIP/2.0\r\n\r\n') }]).result).toBeUndefined();
    expect(
      run('udp', [{ data: Buffer.from('INVITE sip:bob@example.com HTTP/1.1\r\n\r\n') }]).result,
    ).toBeUndefined();
  });

  it('a valid first message followed by binary junk counts the junk and lowers the confidence', () => {
    const r = run('udp', [{ data: INVITE }, { data: Buffer.from([0x53, 0x49, 0x50, 0, 0, 0]) }]);
    expect(r.result?.app).toBe('sip');
    expect(d(r).unparsed).toBe(1);
    expect(r.result!.confidence).toBeLessThan(0.95);
  });

  it('an SDP body with an absurdly long line is parsed without that line', () => {
    const sdp = summarizeSdp(
      `v=0\r\nc=IN IP4 10.1.1.1\r\nm=audio 4000 RTP/AVP 0\r\na=candidate:${' 1'.repeat(50_000)}\r\n`,
    );
    expect(sdp?.media).toMatchObject([{ type: 'audio', port: 4000, address: '10.1.1.1', candidates: [] }]);
  });
});

describe('linear time on adversarial headers', () => {
  /**
   * Fastest of `runs` timings of `reps` calls, in milliseconds: the minimum is the measurement least
   * disturbed by other processes (the test suite runs files in parallel).
   */
  // CPU time of the fastest of `runs` runs (process.cpuUsage, so a busy machine's preemption does
  // not count), per call. The sizes compared differ 8-16x, so linear and quadratic growth are far
  // apart and the bounds leave room for a loaded machine.
  function time(fn: () => void, runs = 15, reps = 5): number {
    let best = Infinity;
    for (let i = 0; i < runs; i++) {
      const s = process.cpuUsage();
      for (let k = 0; k < reps; k++) fn();
      const d = process.cpuUsage(s);
      best = Math.min(best, (d.user + d.system) / 1e3 / reps);
    }
    return best;
  }

  function headers(n: number): Buffer {
    // Thousands of tiny headers made of colons and spaces.
    return Buffer.from('INVITE sip:a@b SIP/2.0\r\n' + 'X: :\r\n'.repeat(n) + '\r\n');
  }

  it('parses thousands of headers in time proportional to their number', () => {
    const out: ParseOut = { msg: undefined as unknown as SipMessage, need: 0, scanned: 0 };
    const small = headers(1000);
    const large = headers(8000);
    expect(large.length).toBeLessThan(64 * 1024); // within MAX_HEADER: every header is really parsed
    for (let i = 0; i < 20; i++) parseSipMessage(large, false, out);
    const a = time(() => parseSipMessage(small, false, out));
    const b = time(() => parseSipMessage(large, false, out));
    expect(out.msg.request).toBe(true);
    console.log(
      `SIP headers: 1000 headers ${a.toFixed(3)} ms, 8000 headers ${b.toFixed(3)} ms, ratio ${(b / a).toFixed(2)}`,
    );
    expect(b / a).toBeLessThan(24); // linear: about 8; quadratic: about 64
  });

  it('returns fast on megabytes of spaces and colons, over UDP and over TCP segments, in time linear in their size', () => {
    function blob(size: number): Buffer {
      const b = Buffer.alloc(size, 0x20);
      Buffer.from('INVITE sip:a@b SIP/2.0\r\nX:').copy(b);
      for (let i = 40; i < size; i += 3) b[i] = 0x3a;
      return b;
    }
    // The SIP recogniser alone (no test harness around it): the payloads are cut and placed once,
    // outside the measured part, so that only the parser's work is timed. Both sizes are past the
    // stream buffer's limit (MAX_HEADER + MAX_BODY), so both are in the same regime: buffer, give
    // up, then look for a start line in each later segment.
    const ctxOf = (transport: 'udp' | 'tcp'): PacketContext => ({
      fromOrig: true,
      ts: 1,
      transport,
      origPort: 5060,
      respPort: 5060,
      gap: false,
    });
    const feedAll = (transport: 'udp' | 'tcp', payloads: Payload[]) => () => {
      const ctx = ctxOf(transport);
      const st = sip.start(ctx);
      for (const p of payloads) if (!sip.feed(st, p, ctx)) break;
    };
    const cut = (b: Buffer, size: number): Payload[] => {
      const out: Payload[] = [];
      for (let at = 0; at < b.length; at += size)
        out.push({ buf: b, offset: at, length: Math.min(size, b.length - at) });
      return out;
    };
    const one = blob(1024 * 1024);
    const eight = blob(8 * 1024 * 1024);
    const runs = {
      u1: feedAll('udp', cut(one, one.length)),
      u8: feedAll('udp', cut(eight, eight.length)),
      t1: feedAll('tcp', cut(one, 1460)),
      t8: feedAll('tcp', cut(eight, 1460)),
    };
    // Warm up every path first, so that the JIT's state is the same for each measurement.
    for (let i = 0; i < 5; i++) Object.values(runs).forEach((f) => f());
    const u1 = time(runs.u1);
    const u8 = time(runs.u8);
    const t1 = time(runs.t1, 9, 2);
    const t8 = time(runs.t8, 7, 1);
    console.log(
      `spaces and colons: UDP ${u1.toFixed(3)} / ${u8.toFixed(3)} ms, TCP ${t1.toFixed(2)} / ${t8.toFixed(2)} ms (1 MB / 8 MB)`,
    );
    // 8 times the bytes: linear is at most about 8 (UDP stops at MAX_HEADER), quadratic about 64.
    expect(u8 / Math.max(u1, 0.02)).toBeLessThan(24);
    expect(t8 / Math.max(t1, 0.02)).toBeLessThan(24);
    const full = one;
    expect(run('tcp', segments(full, Array<number>(720).fill(1460))).result).toBeUndefined();
  });
});

void sip;
