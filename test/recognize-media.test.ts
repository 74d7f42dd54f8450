/**
 * The media recognizer (src/recognize/media.ts with stun.ts and rtp.ts) on hand-built packets:
 * STUN in RFC 8489 and MS-TURN layouts, TURN ChannelData, STUN over TCP (back to back, split,
 * RFC 4571 framed), ICE checks followed by RTP and RTCP on one 5-tuple, RFC 3550 loss and jitter,
 * truncated payloads, and garbage that merely looks like RTP or STUN.
 */
import { describe, expect, it } from 'vitest';
import { media } from '../src/recognize/media.js';
import { RECOGNIZERS } from '../src/recognize/index.js';
import { recognize, segments, type TestPacket } from './helpers/recognize.js';
import { prng } from './helpers/packets.js';

// --- builders --------------------------------------------------------------------------------

interface Attr {
  type: number;
  value: Buffer;
}

const COOKIE = Buffer.from('2112a442', 'hex');
const MS_COOKIE_ATTR = Buffer.from('000f000472c64bc6', 'hex');

function attr(type: number, value: Buffer | string): Attr {
  return { type, value: typeof value === 'string' ? Buffer.from(value, 'latin1') : value };
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function attrBytes(attrs: Attr[], pad: boolean): Buffer {
  return Buffer.concat(
    attrs.map((a) => {
      const len = pad ? (a.value.length + 3) & ~3 : a.value.length;
      const b = Buffer.alloc(4 + len);
      b.writeUInt16BE(a.type, 0);
      b.writeUInt16BE(a.value.length, 2);
      a.value.copy(b, 4);
      return b;
    }),
  );
}

/** RFC 8489 section 5 message: type, length, cookie, 96-bit transaction id, padded attributes. */
function stun5389(type: number, txid: Buffer, attrs: Attr[] = []): Buffer {
  const body = attrBytes(attrs, true);
  const h = Buffer.alloc(8);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(body.length, 2);
  COOKIE.copy(h, 4);
  return Buffer.concat([h, txid.subarray(0, 12), body]);
}

/** [MS-TURN] 2.2.2 message: 128-bit transaction id, MAGIC-COOKIE first, attributes unpadded. */
function msTurn(type: number, txid16: Buffer, attrs: Attr[] = [], pad = false): Buffer {
  const body = Buffer.concat([MS_COOKIE_ATTR, attrBytes(attrs, pad)]);
  const h = Buffer.alloc(4);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, txid16.subarray(0, 16), body]);
}

function errorCode(code: number, reason: string): Buffer {
  return Buffer.concat([
    Buffer.from([0, 0, Math.floor(code / 100), code % 100]),
    Buffer.from(reason, 'latin1'),
  ]);
}

function tx(n: number, len = 12): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (n * 31 + i * 7) & 0xff;
  return b;
}

interface RtpOpts {
  pt: number;
  seq: number;
  ts: number;
  ssrc: number;
  payload?: number;
  marker?: boolean;
}

/** RFC 3550 section 5.1 fixed header plus `payload` bytes of (pretend SRTP) payload. */
function rtp(o: RtpOpts): Buffer {
  const b = Buffer.alloc(12 + (o.payload ?? 40), 0x55);
  b[0] = 0x80;
  b[1] = (o.marker ? 0x80 : 0) | o.pt;
  b.writeUInt16BE(o.seq & 0xffff, 2);
  b.writeUInt32BE(o.ts >>> 0, 4);
  b.writeUInt32BE(o.ssrc >>> 0, 8);
  return b;
}

/** RFC 3550 section 6.4.2 receiver report with one report block (32 bytes). */
function rtcpRr(ssrc: number): Buffer {
  const b = Buffer.alloc(32);
  b[0] = 0x81;
  b[1] = 201;
  b.writeUInt16BE(7, 2);
  b.writeUInt32BE(ssrc, 4);
  return b;
}

/** RFC 3550 section 6.5 SDES with one CNAME item, padded to 32 bits. */
function rtcpSdes(ssrc: number, cname: string): Buffer {
  const item = Buffer.concat([Buffer.from([1, cname.length]), Buffer.from(cname), Buffer.from([0])]);
  const chunk = Buffer.concat([u32(ssrc), item]);
  const padded = Buffer.concat([chunk, Buffer.alloc((4 - (chunk.length % 4)) % 4)]);
  const h = Buffer.alloc(4);
  h[0] = 0x81;
  h[1] = 202;
  h.writeUInt16BE(padded.length / 4, 2);
  return Buffer.concat([h, padded]);
}

function rfc4571(frame: Buffer): Buffer {
  const h = Buffer.alloc(2);
  h.writeUInt16BE(frame.length);
  return Buffer.concat([h, frame]);
}

function udp(rs = [media]) {
  return (packets: TestPacket[]) => recognize(rs, 'udp', packets);
}

const runUdp = udp();

function detail<T = Record<string, unknown>>(r: ReturnType<typeof runUdp>, key: string): T {
  return (r.result!.detail as Record<string, unknown>)[key] as T;
}

// --- STUN ------------------------------------------------------------------------------------

describe('STUN (RFC 8489) over UDP', () => {
  it('labels ICE Binding checks, pairs responses with requests, keeps the username short and escaped', () => {
    const req = stun5389(0x0001, tx(1), [
      attr(0x0006, 'abcd:efgh'),
      attr(0x0024, u32(0x6e7f00ff)),
      attr(0x802a, Buffer.alloc(8)),
      attr(0x0025, Buffer.alloc(0)),
    ]);
    const res = stun5389(0x0101, tx(1), [attr(0x0020, Buffer.from('0001a1b2c3d4e5f6', 'hex'))]);
    const r = runUdp([{ data: req }, { data: res, fromOrig: false }]);
    expect(r.result?.app).toBe('stun');
    expect(r.result?.confidence).toBeGreaterThanOrEqual(0.9);
    const s = detail<Record<string, unknown>>(r, 'stun');
    expect(s.formats).toEqual(['rfc5389']);
    expect(s.types).toEqual({ 'Binding request': 1, 'Binding success': 1 });
    expect(s.transactions).toMatchObject({ requests: 1, answered: 1, unanswered: 0 });
    expect(s.usernames).toEqual(['abcd:efgh']);
    expect(s.ice).toEqual({ controlling: 1, controlled: 0, use_candidate: 1 });
    expect(detail(r, 'protocols')).toEqual(['stun']);
    expect(r.result?.findings).toEqual([]);
  });

  it('reports a request without a response as a finding with its transaction id in hex', () => {
    const id = tx(7);
    const req = stun5389(0x0001, id, [attr(0x0006, 'u:v')]);
    const r = runUdp([{ data: req }, { data: req }, { data: req }]);
    expect(r.result?.app).toBe('stun');
    const f = r.result!.findings.find((x) => x.kind === 'stun-no-response');
    expect(f?.detail).toMatchObject({
      transaction_id: id.toString('hex'),
      method: 'Binding',
      sent: 3,
      from: 'orig',
    });
    expect(f?.message).toContain(id.toString('hex'));
    expect(detail<Record<string, unknown>>(r, 'stun').transactions).toMatchObject({
      retransmits: 2,
      unanswered: 1,
    });
  });

  it('reports error responses with code and reason; the TURN 401 challenge is only info', () => {
    const allocate = stun5389(0x0003, tx(2), [attr(0x0019, Buffer.from([17, 0, 0, 0]))]);
    const e401 = stun5389(0x0113, tx(2), [
      attr(0x0009, errorCode(401, 'Unauthorized')),
      attr(0x0014, 'example.org'),
      attr(0x0015, 'nonce123'),
    ]);
    const allocate2 = stun5389(0x0003, tx(3), [attr(0x0006, 'user')]);
    const e486 = stun5389(0x0113, tx(3), [attr(0x0009, errorCode(486, 'Allocation Quota Reached'))]);
    const r = runUdp([
      { data: allocate },
      { data: e401, fromOrig: false },
      { data: allocate2 },
      { data: e486, fromOrig: false },
    ]);
    const s = detail<Record<string, unknown>>(r, 'stun');
    expect(s.turn).toBe(true);
    expect(s.realm).toBe('example.org');
    const errors = r.result!.findings.filter((f) => f.kind === 'stun-error-response');
    expect(errors.map((f) => [f.detail?.code, f.severity])).toEqual([
      [401, 'info'],
      [486, 'warning'],
    ]);
    expect(errors[1].message).toContain('Allocation Quota Reached');
  });

  it('escapes control characters and hex-dumps binary usernames', () => {
    const r = runUdp([
      { data: stun5389(0x0001, tx(4), [attr(0x0006, 'a\x1b[31mb')]) },
      { data: stun5389(0x0001, tx(5), [attr(0x0006, Buffer.from('00010203040506070809', 'hex'))]) },
    ]);
    expect(detail<Record<string, unknown>>(r, 'stun').usernames).toEqual([
      'a\\x1b[31mb',
      'hex:00010203040506070809',
    ]);
  });
});

describe('MS-TURN (Lync 2010 layout)', () => {
  const id16 = tx(9, 16);

  it('recognizes the cookie-less layout with MAGIC-COOKIE first, unpadded attributes, swapped REALM/NONCE', () => {
    const allocate = msTurn(0x0003, id16, [attr(0x8008, u32(2)), attr(0x0010, u32(12000))]);
    // 0x0014 is NONCE and 0x0015 REALM in MS-TURN; odd lengths make the attributes unaligned.
    const e401 = msTurn(0x0113, id16, [
      attr(0x0009, errorCode(401, 'Unauthorized')),
      attr(0x0014, 'n0nce-value'),
      attr(0x0015, '"rtcmedia"'),
    ]);
    expect(e401.readUInt16BE(2) % 4).not.toBe(0);
    expect(e401.subarray(20, 28).toString('hex')).toBe('000f000472c64bc6');
    const r = runUdp([{ data: allocate }, { data: e401, fromOrig: false }]);
    expect(r.result?.app).toBe('stun');
    const s = detail<Record<string, unknown>>(r, 'stun');
    expect(s.formats).toEqual(['ms-turn']);
    expect(s.realm).toBe('"rtcmedia"');
    expect(s.ms_version).toBe(2);
    expect(s.ms_ice_format).toBe('rfc3489bis-02');
    expect(s.unpadded_messages).toBeGreaterThanOrEqual(1);
    expect(s.transactions).toMatchObject({ requests: 1, answered: 1 });
  });

  it('knows Send requests expect no response and 0x0115 is a Data indication, not an error', () => {
    const inner = stun5389(0x0001, tx(11), [attr(0x0006, 'x:y')]);
    const send = msTurn(0x0004, tx(12, 16), [
      attr(0x0011, Buffer.from('0001ffff01020304', 'hex')),
      attr(0x0013, inner),
    ]);
    const data = msTurn(0x0115, tx(13, 16), [
      attr(0x0012, Buffer.from('0001ffff01020304', 'hex')),
      attr(0x0013, inner),
    ]);
    const r = runUdp([{ data: send }, { data: data, fromOrig: false }]);
    const s = detail<Record<string, unknown>>(r, 'stun');
    expect(s.types).toEqual({ 'Send request': 1, 'Data indication': 1 });
    expect(s.transactions).toMatchObject({ requests: 0, unanswered: 0 });
    expect(s.relayed).toEqual({ stun: 2 });
    expect(r.result!.findings).toEqual([]);
  });

  it('shows an unanswered MS-TURN request with its 128-bit transaction id', () => {
    const r = runUdp([{ data: msTurn(0x0003, id16, [attr(0x8008, u32(1))]) }]);
    const f = r.result!.findings.find((x) => x.kind === 'stun-no-response');
    expect(f?.detail).toMatchObject({
      transaction_id: id16.toString('hex'),
      format: 'ms-turn',
      method: 'Allocate',
    });
  });

  it('reads the multiplexed TURN channel 0xFF10 (8-byte session id, then a STUN message)', () => {
    const inner = stun5389(0x0001, tx(14), [attr(0x0006, 'aa:bb')]);
    const h = Buffer.alloc(4);
    h.writeUInt16BE(0xff10, 0);
    h.writeUInt16BE(8 + inner.length, 2);
    const r = runUdp([{ data: Buffer.concat([h, Buffer.alloc(8, 0x11), inner]) }]);
    expect(r.result?.app).toBe('stun');
    const s = detail<Record<string, unknown>>(r, 'stun');
    expect(s).toMatchObject({ channel_data: 1, channels: ['0xff10'], ms_multiplexed: 1 });
    expect(s.types).toEqual({ 'Binding request': 1 });
  });
});

describe('TURN ChannelData', () => {
  it('counts relayed RTP inside channel 0x4000 and keeps the flow a TURN (stun) flow', () => {
    const bind = stun5389(0x0009, tx(20), [attr(0x000c, Buffer.from([0x40, 0, 0, 0]))]);
    const ok = stun5389(0x0109, tx(20));
    const packets: TestPacket[] = [{ data: bind }, { data: ok, fromOrig: false }];
    for (let i = 0; i < 5; i++) {
      const inner = rtp({ pt: 0, seq: 100 + i, ts: 160 * i, ssrc: 42, payload: 21 });
      const h = Buffer.alloc(4);
      h.writeUInt16BE(0x4000, 0);
      h.writeUInt16BE(inner.length, 2);
      packets.push({ data: Buffer.concat([h, inner, Buffer.alloc(3)]) });
    }
    const r = runUdp(packets);
    expect(r.result?.app).toBe('stun');
    expect(detail<Record<string, unknown>>(r, 'stun')).toMatchObject({
      channel_data: 5,
      relayed: { rtp: 5 },
      turn: true,
    });
  });
});

describe('STUN over TCP', () => {
  const msgs = [0, 1, 2, 3].map((i) =>
    stun5389(i % 2 ? 0x0101 : 0x0001, tx(30 + (i >> 1)), [attr(0x0006, 'user:pass')]),
  );

  it('parses several messages in one segment', () => {
    const r = recognize([media], 'tcp', [
      { data: Buffer.concat([msgs[0], msgs[2]]) },
      { data: Buffer.concat([msgs[1], msgs[3]]), fromOrig: false },
    ]);
    expect(r.result?.app).toBe('stun');
    expect(detail<Record<string, unknown>>(r, 'stun')).toMatchObject({
      messages: 4,
      transactions: { requests: 2, answered: 2 },
    });
    expect(detail(r, 'framing')).toBe('stun');
  });

  it('reassembles a message split across segments, at any byte', () => {
    for (const cut of [1, 3, 19, 20, 21, msgs[0].length - 1]) {
      const stream = Buffer.concat([msgs[0], msgs[2]]);
      const r = recognize([media], 'tcp', [
        ...segments(stream, [cut]),
        { data: Buffer.concat([msgs[1], msgs[3]]), fromOrig: false },
      ]);
      // A first segment shorter than a STUN header cannot be claimed; the next one can.
      if (cut < 8) continue;
      expect(r.result?.app, `cut at ${cut}`).toBe('stun');
      expect(detail<Record<string, unknown>>(r, 'stun').messages, `cut at ${cut}`).toBe(4);
    }
  });

  it('reads RFC 4571 framing (ICE-TCP), STUN then RTP in the same framing', () => {
    const orig = Buffer.concat([
      rfc4571(msgs[0]),
      ...[0, 1, 2, 3, 4].map((i) => rfc4571(rtp({ pt: 96, seq: 7 + i, ts: 960 * i, ssrc: 5 }))),
    ]);
    const r = recognize([media], 'tcp', [
      ...segments(orig, [30, 100, 7]),
      { data: rfc4571(msgs[1]), fromOrig: false },
    ]);
    expect(r.result?.app).toBe('rtp');
    expect(detail(r, 'framing')).toBe('rfc4571');
    expect(detail(r, 'protocols')).toEqual(['stun', 'rtp']);
    expect(detail<{ streams: { packets: number }[] }>(r, 'rtp').streams[0].packets).toBe(5);
  });

  it('decides the framing from a bare 20-byte Binding request', () => {
    const bare = stun5389(0x0001, tx(35));
    expect(bare.length).toBe(20);
    const r = recognize([media], 'tcp', [
      { data: bare },
      { data: stun5389(0x0101, tx(35)), fromOrig: false },
    ]);
    expect(detail<Record<string, unknown>>(r, 'stun').transactions).toMatchObject({
      requests: 1,
      answered: 1,
    });
  });

  it('gives up on a stream that is not framed media', () => {
    const r = recognize([media], 'tcp', [{ data: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n') }]);
    expect(r.result).toBeUndefined();
  });
});

// --- RTP / RTCP ------------------------------------------------------------------------------

/** An audio stream: 20 ms packets of a `rate` clock, arrival jitter from `delay(i)` seconds. */
function audio(
  n: number,
  o: {
    pt: number;
    ssrc: number;
    rate?: number;
    seq0?: number;
    fromOrig?: boolean;
    delay?: (i: number) => number;
    skip?: Set<number>;
  },
): TestPacket[] {
  const rate = o.rate ?? 8000;
  const out: TestPacket[] = [];
  for (let i = 0; i < n; i++) {
    if (o.skip?.has(i)) continue;
    out.push({
      data: rtp({ pt: o.pt, seq: (o.seq0 ?? 1000) + i, ts: 12345 + (i * rate) / 50, ssrc: o.ssrc }),
      fromOrig: o.fromOrig ?? true,
      ts: 2000 + i * 0.02 + (o.delay?.(i) ?? 0),
    });
  }
  return out;
}

function interleave(a: TestPacket[], b: TestPacket[]): TestPacket[] {
  return [...a, ...b].sort((x, y) => x.ts! - y.ts!);
}

describe('RTP and RTCP (RFC 3550)', () => {
  it('ICE checks, then SRTP both ways and RTCP: one flow, app rtp, every protocol listed', () => {
    const checks: TestPacket[] = [
      { data: stun5389(0x0001, tx(40), [attr(0x0006, 'a:b')]), ts: 1999 },
      { data: stun5389(0x0101, tx(40)), fromOrig: false, ts: 1999.01 },
    ];
    const media1 = audio(100, { pt: 114, ssrc: 0x1111, rate: 16000 });
    const media2 = audio(100, { pt: 114, ssrc: 0x2222, rate: 16000, fromOrig: false });
    const rtcp: TestPacket[] = [
      { data: Buffer.concat([rtcpRr(0x1111), rtcpSdes(0x1111, 'alice')]), ts: 2001 },
      { data: rtcpRr(0x2222), fromOrig: false, ts: 2001.5 },
    ];
    const r = runUdp([...checks, ...interleave(interleave(media1, media2), rtcp)]);
    expect(r.result?.app).toBe('rtp');
    expect(r.result!.confidence).toBeGreaterThanOrEqual(0.95);
    expect(detail(r, 'protocols')).toEqual(['stun', 'rtp', 'rtcp']);
    const streams = detail<{ streams: Record<string, unknown>[] }>(r, 'rtp').streams;
    expect(streams).toHaveLength(2);
    expect(streams[0]).toMatchObject({
      ssrc: '0x00001111',
      dir: 'orig',
      pt: 114,
      packets: 100,
      lost: 0,
      clock_rate: 16000,
    });
    expect(streams[1]).toMatchObject({ ssrc: '0x00002222', dir: 'resp' });
    expect(streams[0].clock_rate_source).toBe('lync-payload-type-matches-timestamps');
    expect(streams[0].codec_guess).toBe('x-msrta/16000');
    expect(detail(r, 'rtcp')).toMatchObject({ packets: 2, compound: 1, types: { RR: 2, SDES: 1 } });
    expect(r.result!.findings.filter((f) => f.kind === 'rtp-one-way')).toEqual([]);
  });

  it('counts loss across the 16-bit sequence wrap (RFC 3550 A.1)', () => {
    const r = runUdp(audio(20, { pt: 0, ssrc: 9, seq0: 65530, skip: new Set([8, 9, 15]) }));
    const s = detail<{ streams: Record<string, unknown>[] }>(r, 'rtp').streams[0];
    expect(s).toMatchObject({
      packets: 17,
      lost: 3,
      clock_rate: 8000,
      clock_rate_source: 'static-payload-type',
    });
  });

  it('computes interarrival jitter per RFC 3550 A.8', () => {
    const steady = runUdp(audio(200, { pt: 0, ssrc: 1 }));
    expect(detail<{ streams: { jitter_ms: number }[] }>(steady, 'rtp').streams[0].jitter_ms).toBeCloseTo(
      0,
      3,
    );
    // Every other packet 10 ms late: |D| = 10 ms each time, so J converges to 10 ms.
    const bumpy = runUdp(audio(300, { pt: 0, ssrc: 1, delay: (i) => (i % 2 ? 0.01 : 0) }));
    const j = detail<{ streams: { jitter_ms: number }[] }>(bumpy, 'rtp').streams[0].jitter_ms;
    expect(j).toBeGreaterThan(9.9);
    expect(j).toBeLessThanOrEqual(10);
  });

  it('estimates the clock of an unknown dynamic payload type from the timestamps, and says so', () => {
    const r = runUdp(audio(100, { pt: 96, ssrc: 3, rate: 48000 }));
    const s = detail<{ streams: Record<string, unknown>[] }>(r, 'rtp').streams[0];
    expect(s).toMatchObject({ clock_rate: 48000, clock_rate_source: 'estimated-from-timestamps' });
    // A Lync payload type whose timestamps disagree with the table: the timestamps win.
    const opus = runUdp(audio(100, { pt: 111, ssrc: 3, rate: 48000 }));
    expect(detail<{ streams: Record<string, unknown>[] }>(opus, 'rtp').streams[0]).toMatchObject({
      clock_rate: 48000,
      clock_rate_source: 'estimated-from-timestamps',
    });
  });

  it('reports media in one direction only', () => {
    const r = runUdp([...audio(50, { pt: 8, ssrc: 77 }), { data: rtcpRr(88), fromOrig: false, ts: 2000.5 }]);
    expect(r.result?.app).toBe('rtp');
    const f = r.result!.findings.find((x) => x.kind === 'rtp-one-way');
    expect(f?.severity).toBe('warning');
    expect(f?.detail).toMatchObject({ from: 'orig', packets: 50, reverse_rtcp: 1 });
  });

  it('labels a lone compound RTCP datagram whose lengths chain exactly', () => {
    const r = runUdp([{ data: Buffer.concat([rtcpRr(5), rtcpSdes(5, 'host@example')]) }]);
    expect(r.result?.app).toBe('rtcp');
  });

  it('caps the streams tracked per flow', () => {
    const packets: TestPacket[] = [];
    for (let s = 0; s < 20; s++) packets.push(...audio(3, { pt: 0, ssrc: 1000 + s, seq0: s * 100 }));
    const r = runUdp(packets);
    const d = detail<{ streams: unknown[]; dropped_streams_packets?: number }>(r, 'rtp');
    expect(d.streams.length).toBe(8);
    expect(d.dropped_streams_packets).toBe(36);
  });
});

describe('garbage that merely looks like a protocol', () => {
  it('random bytes with first byte 0x80 are not RTP (no SSRC with consecutive sequence numbers)', () => {
    const rnd = prng(7);
    const packets: TestPacket[] = [];
    for (let i = 0; i < 60; i++) {
      const b = Buffer.alloc(60 + Math.floor(rnd() * 100));
      for (let k = 0; k < b.length; k++) b[k] = Math.floor(rnd() * 256);
      b[0] = 0x80;
      b[1] &= 0x7f; // an RTP-looking payload type
      packets.push({ data: b, fromOrig: i % 2 === 0 });
    }
    const r = recognize(RECOGNIZERS, 'udp', packets);
    expect(r.claimedBy).toBe('rtp');
    expect(r.result).toBeUndefined();
  });

  it('one RTCP-looking datagram on its own is not RTCP', () => {
    const b = rtcpRr(1234);
    const junk = Buffer.concat([b.subarray(0, 8), Buffer.alloc(50, 0x33)]);
    junk.writeUInt16BE(3, 2); // a length that fits, then bytes that do not chain
    expect(recognize(RECOGNIZERS, 'udp', [{ data: junk }]).result).toBeUndefined();
  });

  it('a DNS exchange whose id starts with 0x8x is not RTP', () => {
    const q = Buffer.from('8a3b01000001000000000000076578616d706c6503636f6d0000010001', 'hex');
    const a = Buffer.from(
      '8a3b81800001000100000000076578616d706c6503636f6d0000010001c00c000100010000012c00045db8d822',
      'hex',
    );
    const r = recognize(RECOGNIZERS, 'udp', [{ data: q }, { data: a, fromOrig: false }]);
    expect(r.result).toBeUndefined();
  });

  it('bytes 0x00 0x01 with a wrong STUN length or no cookie and no known type are not STUN', () => {
    // Shorter than the datagram: trailing bytes a STUN datagram cannot have (RFC 8489 section 6.3).
    // (Longer than the datagram reads as a snaplen cut when the cookie is there: see below.)
    const wrongLength = stun5389(0x0001, tx(50), [attr(0x0006, 'a:b')]);
    wrongLength.writeUInt16BE(wrongLength.readUInt16BE(2) - 4, 2);
    const rnd = prng(3);
    const noCookie = Buffer.alloc(48);
    for (let k = 0; k < noCookie.length; k++) noCookie[k] = Math.floor(rnd() * 256);
    noCookie.writeUInt16BE(0x0003, 0); // Allocate without cookie and without MAGIC-COOKIE: not a format we know
    noCookie.writeUInt16BE(28, 2);
    expect(recognize(RECOGNIZERS, 'udp', [{ data: wrongLength }]).result).toBeUndefined();
    expect(recognize(RECOGNIZERS, 'udp', [{ data: noCookie }]).result).toBeUndefined();
  });

  it('a snaplen-cut STUN message is accepted when the cookie vouches for it, and counted as truncated', () => {
    const full = stun5389(0x0001, tx(60), [attr(0x0006, 'x'.repeat(40)), attr(0x0024, u32(1))]);
    const r = runUdp([{ data: full.subarray(0, 40) }]);
    expect(r.result?.app).toBe('stun');
    expect(detail<Record<string, unknown>>(r, 'stun').truncated_messages).toBe(1);
    // Without a cookie a cut message proves nothing.
    const classic = Buffer.concat([
      Buffer.from([0, 1, 0, 8]),
      tx(61, 16),
      Buffer.from('0001000400000000', 'hex'),
    ]);
    expect(runUdp([{ data: classic.subarray(0, 26) }]).result).toBeUndefined();
  });

  it('truncated RTP headers (fewer than 12 bytes, CSRCs beyond the end) are not RTP', () => {
    const short = rtp({ pt: 0, seq: 1, ts: 0, ssrc: 1 }).subarray(0, 11);
    const csrc = rtp({ pt: 0, seq: 2, ts: 0, ssrc: 1, payload: 0 });
    csrc[0] = 0x8f; // 15 CSRCs announced, none present
    expect(runUdp([{ data: short }, { data: csrc }]).result).toBeUndefined();
  });
});
