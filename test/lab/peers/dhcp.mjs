#!/usr/bin/env node
/**
 * The DHCP exchange a Lync 2010 client makes to find its Registrar when DNS SRV fails
 * (Microsoft gg412828 / gg398369, ocs.14): a DHCPINFORM (RFC 2131 section 3.4) carrying the
 * vendor class option 60 = "MS-UC-Client", asking (option 55) for option 43 (the certificate
 * provisioning URL, as sub-options) and option 120 (RFC 3361: the SIP server, here the Registrar
 * FQDN). The Registrar's built-in DHCP server answers only such DHCPINFORMs, with a DHCPACK sent
 * straight to ciaddr (RFC 2131 section 4.3.5).
 *
 *   node dhcp.mjs inform <client-addr> <server-addr>   send one DHCPINFORM from port 68, wait 1.5 s
 *   node dhcp.mjs server <server-addr>                 answer DHCPINFORMs on port 67 until killed
 *
 * Everything in the messages is fixed (transaction id, hardware address), so reruns match.
 */
import { createSocket } from 'node:dgram';

const [mode, a1, a2] = process.argv.slice(2);
const MAGIC_COOKIE = [99, 130, 83, 99];
const CLIENT_MAC = [0x02, 0x77, 0x01, 0x00, 0x00, 0x10];
const XID = 0x4c504101; // "LPA" 01
const VENDOR_CLASS = 'MS-UC-Client';
const REGISTRAR = 'fe.lab.test';

const ipBytes = (addr) => addr.split('.').map(Number);
const opt = (code, bytes) => [code, bytes.length, ...bytes];
const text = (s) => [...Buffer.from(s, 'latin1')];

/** RFC 1035 section 3.1 name encoding, as RFC 3361 encoding 0 wants it. */
function dnsName(name) {
  const out = [];
  for (const label of name.split('.')) out.push(label.length, ...text(label));
  out.push(0);
  return out;
}

/** The fixed 236-byte BOOTP header (RFC 2131 section 2) and the magic cookie. */
function header(op, xid, ciaddr, chaddr, flags) {
  const b = Buffer.alloc(240);
  b[0] = op;
  b[1] = 1; // Ethernet
  b[2] = 6;
  b.writeUInt32BE(xid, 4);
  b.writeUInt16BE(flags, 10);
  Buffer.from(ciaddr).copy(b, 12);
  Buffer.from(chaddr).copy(b, 28);
  Buffer.from(MAGIC_COOKIE).copy(b, 236);
  return b;
}

/** Options as [code, value] pairs, for the server's check. */
function parseOptions(msg) {
  const out = new Map();
  let i = 240;
  while (i < msg.length && msg[i] !== 255) {
    if (msg[i] === 0) {
      i++;
      continue;
    }
    const len = msg[i + 1];
    out.set(msg[i], msg.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  return out;
}

function inform(clientAddr, serverAddr) {
  const options = [
    ...opt(53, [8]), // DHCPINFORM
    ...opt(61, [1, ...CLIENT_MAC]),
    ...opt(60, text(VENDOR_CLASS)),
    ...opt(55, [1, 3, 6, 15, 43, 120]),
    255,
  ];
  const msg = Buffer.concat([header(1, XID, ipBytes(clientAddr), CLIENT_MAC, 0), Buffer.from(options)]);
  const sock = createSocket({ type: 'udp4', reuseAddr: true });
  sock.on('message', (reply) => {
    const o = parseOptions(reply);
    const registrar = o.get(120);
    console.log(
      `dhcp: DHCPACK from ${serverAddr}, option 120 ${registrar ? registrar.length : 0} bytes, option 43 ${o.get(43)?.length ?? 0} bytes`,
    );
    process.exit(reply.readUInt32BE(4) === XID && o.get(53)?.[0] === 5 ? 0 : 1);
  });
  sock.bind(68, clientAddr, () => sock.send(msg, 67, serverAddr));
  setTimeout(() => {
    console.log(`dhcp: no answer from ${serverAddr}`);
    process.exit(1);
  }, 1500);
}

function serve(serverAddr) {
  const sock = createSocket({ type: 'udp4', reuseAddr: true });
  sock.on('message', (req, rinfo) => {
    if (req.length < 240 || req[0] !== 1) return;
    const o = parseOptions(req);
    // Only DHCPINFORM with the exact, case-sensitive vendor class (gg412828).
    if (o.get(53)?.[0] !== 8 || o.get(60)?.toString('latin1') !== VENDOR_CLASS) return;
    const sub43 = [
      ...opt(1, text(VENDOR_CLASS)),
      ...opt(2, text('https')),
      ...opt(3, text(REGISTRAR)),
      ...opt(4, text('443')),
      ...opt(5, text('/CertProv/CertProvisioningService.svc')),
    ];
    const options = [
      ...opt(53, [5]), // DHCPACK
      ...opt(54, ipBytes(serverAddr)),
      ...opt(43, sub43),
      ...opt(120, [0, ...dnsName(REGISTRAR)]),
      255,
    ];
    const ciaddr = [...req.subarray(12, 16)];
    const reply = Buffer.concat([
      header(2, req.readUInt32BE(4), ciaddr, [...req.subarray(28, 44)], req.readUInt16BE(10)),
      Buffer.from(options),
    ]);
    const to = ciaddr.some((x) => x !== 0) ? ciaddr.join('.') : rinfo.address;
    sock.send(reply, 68, to);
  });
  sock.bind(67, serverAddr, () => console.log(`dhcp: answering DHCPINFORM on ${serverAddr}:67`));
}

if (mode === 'inform' && a1 && a2) inform(a1, a2);
else if (mode === 'server' && a1) serve(a1);
else {
  console.error('usage: dhcp.mjs inform <client-addr> <server-addr> | server <server-addr>');
  process.exit(2);
}
