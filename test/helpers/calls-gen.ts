/**
 * Generator of the capture that made the call view quadratic (issue 16): N calls whose SDP answers
 * all name one endpoint (a SIP server that anchors media, a gateway), each with its own offerer.
 * Per call: an INVITE with the offer and a 200 OK with the answer (SIP over UDP 5060), then one
 * RTP packet each way on every negotiated stream. With `ice`, every media line carries
 * MAX_CANDIDATES candidates on both sides (the answer's all on the shared address, the first one
 * the media endpoint itself).
 */
import { MAX_CANDIDATES, MAX_MEDIA } from '../../src/recognize/sdp.js';
import type { Packet } from './capture-writer.js';
import { PROTO_UDP, udp } from './packets.js';
import { Trace, ipFrame } from './traffic.js';

/** The endpoint every answer names. */
export const ANCHOR = '10.0.0.100';
export const ANCHOR_PORT = 40000;

export interface CallsOptions {
  /** Media lines per call (default MAX_MEDIA: 8). */
  media?: number;
  /** ICE candidates on every media line of both sides (MAX_CANDIDATES: 16). */
  ice?: boolean;
}

/** The offerer of call `i`: a client address of its own. */
export function offerer(i: number): string {
  const n = i + 1;
  return `10.${1 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

function sdp(address: string, basePort: number, media: number, ice: boolean): string {
  const lines = ['v=0', `o=- 1 1 IN IP4 ${address}`, 's=-', `c=IN IP4 ${address}`, 't=0 0'];
  for (let k = 0; k < media; k++) {
    const port = basePort + 2 * k;
    lines.push(`m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000');
    if (ice) {
      lines.push('a=ice-ufrag:abcd', 'a=ice-pwd:0123456789012345678901');
      // The first host candidate is the m= line's own endpoint (RFC 8839 section 4.2.1.3), where
      // the media flows; the others are endpoints nothing was sent to.
      for (let c = 0; c < MAX_CANDIDATES; c++)
        lines.push(
          `a=candidate:${c + 1} 1 UDP ${2130706431 - c} ${address} ${c === 0 ? port : port + 100 + c} typ host`,
        );
    }
  }
  return lines.join('\r\n') + '\r\n';
}

function sip(startLine: string, callId: string, cseq: string, from: string, body: string): Buffer {
  const head = [
    startLine,
    `Via: SIP/2.0/UDP ${from}:5060;branch=z9hG4bK-${callId}`,
    `From: <sip:caller@${from}>;tag=a`,
    `To: <sip:anchor@${ANCHOR}>;tag=b`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq}`,
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return Buffer.from(head.join('\r\n') + '\r\n\r\n' + body, 'latin1');
}

function datagram(src: string, dst: string, sport: number, dport: number, payload: Buffer): Buffer {
  return ipFrame(src, dst, PROTO_UDP, udp({ src, dst, sport, dport, payload }));
}

/** A 12-byte RTP header (RFC 3550 section 5.1) and 160 bytes of PCMU. */
function rtp(seq: number, ssrc: number): Buffer {
  const b = Buffer.alloc(172);
  b[0] = 0x80;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(seq * 160, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  return b;
}

/** The capture's packets: `n` calls, all answered by ANCHOR on the same ports. */
export function sharedAnswerCalls(n: number, options: CallsOptions = {}): Packet[] {
  const media = options.media ?? MAX_MEDIA;
  const ice = options.ice === true;
  const t = new Trace(1_700_000_000);
  for (let i = 0; i < n; i++) {
    const client = offerer(i);
    const callId = `call-${i}@${client}`;
    const invite = sip(
      `INVITE sip:anchor@${ANCHOR} SIP/2.0`,
      callId,
      '1 INVITE',
      client,
      sdp(client, 20000, media, ice),
    );
    const ok = sip('SIP/2.0 200 OK', callId, '1 INVITE', client, sdp(ANCHOR, ANCHOR_PORT, media, ice));
    t.add(datagram(client, ANCHOR, 5060, 5060, invite), 100);
    t.add(datagram(ANCHOR, client, 5060, 5060, ok), 100);
    for (let k = 0; k < media; k++) {
      t.add(datagram(client, ANCHOR, 20000 + 2 * k, ANCHOR_PORT + 2 * k, rtp(1, i * 16 + k)), 20);
      t.add(
        datagram(ANCHOR, client, ANCHOR_PORT + 2 * k, 20000 + 2 * k, rtp(1, 0x40000000 + i * 16 + k)),
        20,
      );
    }
  }
  return t.packets;
}
