#!/usr/bin/env node
/**
 * Lab STUN client: one RFC 5389 Binding request from a fixed local address and port, so the
 * lab's flows are the same on every run. coturn (a real STUN/TURN server) answers it.
 *
 *   node stun.mjs udp|tcp <local-addr> <local-port> <server-addr> <server-port>
 *
 * UDP retransmits like RFC 5389 section 7.2.1 (RTO 500 ms, doubling: sends at 0, 0.5 and 1.5 s),
 * capped at 2.5 s so a dropped request costs the lab little time. TCP sends once (section 7.2.2).
 * The request carries MS-VERSION (0x8008, [MS-TURN] 2.2.2.14) = 3, which a Lync 2013+ client sends
 * with RFC 5389 framing; it is comprehension-optional, so coturn ignores it.
 * Exit status: 0 on a success response, 1 on an error response or no response.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

const [proto, localAddr, localPortText, serverAddr, serverPortText] = process.argv.slice(2);
if (!['udp', 'tcp'].includes(proto) || !serverPortText) {
  console.error('usage: stun.mjs udp|tcp <local-addr> <local-port> <server-addr> <server-port>');
  process.exit(2);
}
const localPort = Number(localPortText);
const serverPort = Number(serverPortText);
const family = localAddr.includes(':') ? 6 : 4;
const MAGIC = 0x2112a442;
const DEADLINE_MS = 2500;

function bindingRequest() {
  const msg = Buffer.alloc(20 + 8);
  msg.writeUInt16BE(0x0001, 0); // Binding request (RFC 5389 section 6)
  msg.writeUInt16BE(8, 2); // attribute bytes after the header
  msg.writeUInt32BE(MAGIC, 4);
  // Transaction ID: fixed per local port, so reruns of the lab produce the same bytes.
  msg.write(`lpa-lab${String(localPort).padStart(5, '0')}`, 8, 'latin1');
  msg.writeUInt16BE(0x8008, 20); // MS-VERSION
  msg.writeUInt16BE(4, 22);
  msg.writeUInt32BE(3, 24);
  return msg;
}

/** XOR-MAPPED-ADDRESS (RFC 5389 section 15.2) of an IPv4 answer, for the log line. */
function mappedAddress(msg) {
  let off = 20;
  const end = Math.min(msg.length, 20 + msg.readUInt16BE(2));
  while (off + 4 <= end) {
    const type = msg.readUInt16BE(off);
    const len = msg.readUInt16BE(off + 2);
    if (type === 0x0020 && len === 8 && msg[off + 5] === 0x01) {
      const port = msg.readUInt16BE(off + 6) ^ (MAGIC >>> 16);
      const a = (msg.readUInt32BE(off + 8) ^ MAGIC) >>> 0;
      return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}:${port}`;
    }
    off += 4 + ((len + 3) & ~3);
  }
  return 'none';
}

function report(msg) {
  const cls = ((msg.readUInt16BE(0) & 0x0100) >> 7) | ((msg.readUInt16BE(0) & 0x0010) >> 4);
  const ok = cls === 2;
  console.log(
    `stun ${proto} ${serverAddr}:${serverPort}: ${ok ? 'success' : 'error'} response, mapped ${mappedAddress(msg)}`,
  );
  process.exit(ok ? 0 : 1);
}

function noAnswer(why) {
  console.log(`stun ${proto} ${serverAddr}:${serverPort}: ${why}`);
  process.exit(1);
}

const request = bindingRequest();
if (proto === 'udp') {
  const sock = createSocket(family === 6 ? 'udp6' : 'udp4');
  sock.on('message', (msg) => report(msg));
  sock.on('error', (err) => noAnswer(`error ${err.message}`));
  sock.bind(localPort, localAddr, () => {
    for (const at of [0, 500, 1500]) setTimeout(() => sock.send(request, serverPort, serverAddr), at);
    setTimeout(() => noAnswer('no response'), DEADLINE_MS);
  });
} else {
  const sock = connect({ host: serverAddr, port: serverPort, localAddress: localAddr, localPort, family });
  let got = Buffer.alloc(0);
  let answer;
  sock.on('connect', () => sock.write(request));
  sock.on('data', (chunk) => {
    got = Buffer.concat([got, chunk]);
    if (!answer && got.length >= 20 && got.length >= 20 + got.readUInt16BE(2)) {
      answer = got;
      sock.end();
    }
  });
  // coturn answers our FIN with a RST, so the answer counts whichever way the socket ends.
  sock.on('close', () => (answer ? report(answer) : noAnswer('closed without a response')));
  sock.on('error', (err) => (answer ? report(answer) : noAnswer(`error ${err.message}`)));
  setTimeout(() => noAnswer('no response'), DEADLINE_MS);
}
