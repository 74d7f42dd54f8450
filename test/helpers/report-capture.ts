/**
 * A capture for the report tests, written byte by byte: problems of every severity at times out
 * of severity order, the same client failing one port two ways (blocked, then refused), an IPv6
 * client blocked, a plaintext SIP call whose audio flows one way, and packet text that tries to
 * become markup (a SIP Subject and User-Agent, a TLS SNI). The topology maps it to lync2010 roles.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePcap } from './capture-writer.js';
import { ByteConn, stunBinding, udpDatagram } from './app.js';
import { RST, ACK, SYN } from './packets.js';
import { Trace, TcpConn } from './traffic.js';
import { clientHello, record } from './tls-bytes.js';

export const CLIENT = '10.1.0.5';
export const CLIENT6 = 'fd00:1::5';
export const FE = '10.0.0.10';
export const FE6 = 'fd00::10';
export const EDGE = '10.0.0.20';
/**
 * The caller of the plaintext SIP call: TCP 5060 on the Front End is the static-route port for
 * trusted applications (remote call control and the like), so the topology gives it that role.
 */
export const CALLER = '10.1.0.7';
/** Text from packets that a careless renderer would run as script. */
export const HOSTILE = "<script>document.title='x'</script>";

function sipMessage(start: string, headers: string[], body = ''): Buffer {
  return Buffer.from(
    `${start}\r\n${headers.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function sdp(address: string, port: number): string {
  return `v=0\r\no=- 1 1 IN IP4 ${address}\r\ns=-\r\nc=IN IP4 ${address}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;
}

function rtp(seq: number): Buffer {
  // RFC 3550 section 5.1: V=2, PT 0 (PCMU), sequence, timestamp, SSRC, then 160 bytes of audio.
  const b = Buffer.alloc(12 + 160, 0xd5);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(seq * 160, 4);
  b.writeUInt32BE(0x1234abcd, 8);
  return b;
}

function call(t: Trace): void {
  const c = new ByteConn(t, { client: CALLER, server: FE, cport: 45060, sport: 5060 }).handshake();
  const common = [
    `Via: SIP/2.0/TCP ${CALLER}:45060;branch=z9hG4bK-report-1`,
    `From: "${HOSTILE}" <sip:alice@contoso.com>;tag=a1`,
    'To: <sip:bob@contoso.com>',
    `Call-ID: report-call-1@${CALLER}`,
  ];
  const withTag = [...common.slice(0, 2), 'To: <sip:bob@contoso.com>;tag=b1', common[3]];
  c.send(
    true,
    sipMessage(
      'INVITE sip:bob@contoso.com SIP/2.0',
      [
        ...common,
        'CSeq: 1 INVITE',
        `Subject: ${HOSTILE}`,
        `User-Agent: ${HOSTILE}`,
        'Content-Type: application/sdp',
      ],
      sdp(CALLER, 40000),
    ),
  );
  c.send(false, sipMessage('SIP/2.0 100 Trying', [...common, 'CSeq: 1 INVITE']));
  c.send(
    false,
    sipMessage(
      'SIP/2.0 200 OK',
      [...withTag, 'CSeq: 1 INVITE', 'Content-Type: application/sdp'],
      sdp(FE, 50020),
    ),
  );
  c.send(true, sipMessage('ACK sip:bob@contoso.com SIP/2.0', [...withTag, 'CSeq: 1 ACK']));
  // The audio goes out and nothing comes back: one-way media.
  for (let i = 0; i < 12; i++) udpDatagram(t, CALLER, FE, 40000, 50020, rtp(i));
  c.send(true, sipMessage('BYE sip:bob@contoso.com SIP/2.0', [...withTag, 'CSeq: 2 BYE']));
  c.send(false, sipMessage('SIP/2.0 200 OK', [...withTag, 'CSeq: 2 BYE']));
  c.close();
}

export function reportTrace(): Trace {
  const t = new Trace(1_764_151_200); // 2025-11-26 10:00:00Z
  // 10:00: telnet to the Edge, answered: unexpected (least severe), and the earliest problem.
  new TcpConn(t, { client: CLIENT, server: EDGE, cport: 41006, sport: 23 })
    .handshake()
    .exchange(10, 20)
    .close();
  t.wait(60);
  // A TLS hello whose SNI is markup, to the Front End's SIP port: the server never answers.
  const tls = new ByteConn(t, { client: CLIENT, server: FE, cport: 41001, sport: 5061 }).handshake();
  tls.send(true, record(22, clientHello({ sni: `fe.contoso.com${HOSTILE}` }), 0x0301));
  t.wait(60);
  // 10:02: the call, with one-way audio.
  call(t);
  t.wait(60);
  // 10:03: the same client to the Front End's TCP 444, first dropped, then reset.
  new TcpConn(t, { client: CLIENT, server: FE, cport: 41002, sport: 444 })
    .send(true, SYN)
    .retransmit(true, SYN, 0, 1_000_000)
    .retransmit(true, SYN, 0, 2_000_000);
  t.wait(5);
  new TcpConn(t, { client: CLIENT, server: FE, cport: 41003, sport: 444 })
    .send(true, SYN)
    .send(false, RST | ACK);
  t.wait(5);
  // An IPv6 client, dropped on the same port.
  new TcpConn(t, { client: CLIENT6, server: FE6, cport: 41004, sport: 444 })
    .send(true, SYN)
    .retransmit(true, SYN, 0, 1_000_000);
  t.wait(30);
  // 10:04: STUN to the Edge's UDP 3478, three times, never answered.
  for (let i = 0; i < 3; i++) udpDatagram(t, CLIENT, EDGE, 41005, 3478, stunBinding(9));
  t.wait(30);
  // And a healthy HTTPS flow, so not everything fails.
  new TcpConn(t, { client: CLIENT, server: FE, cport: 41007, sport: 443 })
    .handshake()
    .exchange(300, 900)
    .close();
  return t;
}

export interface ReportCapture {
  dir: string;
  capture: string;
  topology: string;
}

export function writeReportCapture(): ReportCapture {
  const dir = mkdtempSync(join(tmpdir(), 'lpa-report-'));
  const capture = join(dir, 'report.pcap');
  writeFileSync(capture, writePcap(reportTrace().packets));
  const topology = join(dir, 'topology.json');
  writeFileSync(
    topology,
    JSON.stringify({
      roles: {
        'front-end': [FE, FE6],
        'edge-internal': [EDGE],
        client: ['10.1.0.0/16', 'fd00:1::/64'],
        'trusted-application': [CALLER],
      },
    }),
  );
  return { dir, capture, topology };
}
