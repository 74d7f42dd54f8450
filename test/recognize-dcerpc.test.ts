/**
 * DCE/RPC (C706 chapter 12) on TCP 135: an endpoint-mapper exchange built byte by byte (bind,
 * bind_ack, ept_map request and response with towers, C706 appendices L and O), faults and
 * bind_nak, PDUs split across segments and several in one segment. The ports the mapper hands out
 * appear as app_detail.epm_ports; tshark, where installed, decodes the same file and must find
 * the same port and address in the towers.
 */
import { describe, expect, it } from 'vitest';
import { ByteConn, recognizeTrace, writeTrace } from './helpers/app.js';
import { tsharkFields, tsharkSkipReason } from './helpers/tshark.js';
import { Trace } from './helpers/traffic.js';
import { dcomStringBindings, parseEptMapResponse, parseTower } from '../src/recognize/dcerpc.js';
import type { FlowRecord } from '../src/flow/record.js';

/** A UUID in little-endian DCE byte order (the first three fields swapped). */
function uuid(text: string): Buffer {
  const h = text.replace(/-/g, '');
  const b = Buffer.from(h, 'hex');
  b.subarray(0, 4).reverse();
  b.subarray(4, 6).reverse();
  b.subarray(6, 8).reverse();
  return b;
}

const EPM = 'e1af8308-5d1f-11c9-91a4-08002b14a0fa';
const NDR = '8a885d04-1ceb-11c9-9fe8-08002b104860';
const LSARPC = '12345778-1234-abcd-ef00-0123456789ab';

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return b;
}
function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}
function be16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}
function pad4(b: Buffer): Buffer {
  return b.length % 4 === 0 ? b : Buffer.concat([b, Buffer.alloc(4 - (b.length % 4))]);
}

/** C706 section 12.6.3.1 common header + body; frag_length filled in. */
function pdu(type: number, callId: number, body: Buffer, flags = 0x03): Buffer {
  const h = Buffer.concat([
    Buffer.of(5, 0, type, flags, 0x10, 0, 0, 0),
    u16(16 + body.length),
    u16(0),
    u32(callId),
  ]);
  return Buffer.concat([h, body]);
}

function syntax(id: string, version: number): Buffer {
  return Buffer.concat([uuid(id), u32(version)]);
}

function bind(callId: number, iface: string, version: number): Buffer {
  return pdu(
    11,
    callId,
    Buffer.concat([
      u16(5840),
      u16(5840),
      u32(0),
      Buffer.of(1, 0, 0, 0),
      u16(0),
      Buffer.of(1, 0),
      syntax(iface, version),
      syntax(NDR, 2),
    ]),
  );
}

function bindAck(callId: number, result = 0, reason = 0): Buffer {
  const sec = Buffer.from('135\0');
  const head = Buffer.concat([u16(5840), u16(5840), u32(0x1234), u16(sec.length), sec]);
  // The result list is 4-aligned from the start of the PDU (16-byte header + head).
  const padded = pad4(Buffer.concat([Buffer.alloc(16), head])).subarray(16);
  return pdu(
    12,
    callId,
    Buffer.concat([padded, Buffer.of(1, 0, 0, 0), u16(result), u16(reason), syntax(NDR, 2)]),
  );
}

/** C706 appendix L tower: interface, NDR, ncacn (0x0b), TCP port (0x07, big-endian), IPv4 (0x09). */
function tower(iface: string, major: number, port: number, ipv4: string): Buffer {
  const floor = (lhs: Buffer, rhs: Buffer): Buffer =>
    Buffer.concat([u16(lhs.length), lhs, u16(rhs.length), rhs]);
  return Buffer.concat([
    u16(5),
    floor(Buffer.concat([Buffer.of(0x0d), uuid(iface), u16(major)]), u16(0)),
    floor(Buffer.concat([Buffer.of(0x0d), uuid(NDR), u16(2)]), u16(0)),
    floor(Buffer.of(0x0b), u16(0)),
    floor(Buffer.of(0x07), be16(port)),
    floor(Buffer.of(0x09), Buffer.from(ipv4.split('.').map(Number))),
  ]);
}

function twr(t: Buffer): Buffer {
  return pad4(Buffer.concat([u32(t.length), u32(t.length), t]));
}

/** ept_map request (opnum 3): object (null), map_tower, entry_handle, max_towers. */
function eptMapRequest(callId: number, iface: string): Buffer {
  const stub = Buffer.concat([u32(0), u32(1), twr(tower(iface, 0, 0, '0.0.0.0')), Buffer.alloc(20), u32(4)]);
  return pdu(0, callId, Buffer.concat([u32(stub.length), u16(0), u16(3), stub]));
}

/** ept_map response: entry_handle, num_towers, towers (conformant varying array of pointers), status. */
function eptMapResponse(callId: number, towers: Buffer[], status = 0): Buffer {
  const refs = towers.map((_, k) => u32(0x20000 + 4 * k));
  const stub = Buffer.concat([
    Buffer.alloc(20),
    u32(towers.length),
    u32(4),
    u32(0),
    u32(towers.length),
    ...refs,
    ...towers.map(twr),
    u32(status),
  ]);
  return pdu(2, callId, Buffer.concat([u32(stub.length), u16(0), Buffer.of(0, 0), stub]));
}

function fault(callId: number, status: number): Buffer {
  return pdu(3, callId, Buffer.concat([u32(32), u16(0), Buffer.of(0, 0), u32(status), u32(0)]));
}

function bindNak(callId: number, reason: number): Buffer {
  return pdu(13, callId, Buffer.concat([u16(reason), Buffer.of(1, 5, 0)]));
}

const ENDS = { client: '10.0.0.10', server: '10.0.0.20', cport: 52000, sport: 135 };

function only(records: FlowRecord[]): FlowRecord {
  const t = records.filter((r) => r.proto === 'tcp');
  expect(t).toHaveLength(1);
  return t[0];
}

describe('DCE/RPC recognizer', () => {
  it('the endpoint mapper hands out a dynamic port: epm_ports and epm_endpoints', async () => {
    const t = new Trace();
    new ByteConn(t, ENDS)
      .handshake()
      .send(true, bind(1, EPM, 3))
      .send(false, bindAck(1))
      .send(true, eptMapRequest(2, LSARPC))
      .send(false, eptMapResponse(2, [tower(LSARPC, 0, 49713, '10.0.0.20')]))
      .close();
    const r = only(await recognizeTrace(t, 'epm'));
    expect(r.app).toBe('dcerpc');
    expect(r.app_detail).toMatchObject({
      pdus: { bind: 1, bind_ack: 1, request: 1, response: 1 },
      interfaces: [{ uuid: EPM, name: 'epmapper', version: '3.0' }],
      operations: [{ interface: 'epmapper', opnum: 3 }],
      secondary_address: '135',
      epm_ports: [49713],
      epm_endpoints: [{ port: 49713, ip: '10.0.0.20', protocol: 'tcp', via: 'ept_map', interface: 'lsarpc' }],
    });
    expect(r.app_findings).toBeUndefined();
  });

  // The first segment of each side holds at least the 16-byte common header: detection looks at one
  // segment at a time (see app-observer.ts), and real stacks never cut a PDU that early.
  it('PDUs split across segments and several PDUs in one segment', async () => {
    const t = new Trace();
    const req = Buffer.concat([bind(1, EPM, 3), eptMapRequest(2, LSARPC)]);
    const resp = Buffer.concat([
      bindAck(1),
      eptMapResponse(2, [tower(LSARPC, 0, 49800, '10.0.0.21'), tower(LSARPC, 0, 49801, '10.0.0.21')]),
    ]);
    new ByteConn(t, ENDS).handshake().send(true, req, [20, 100]).send(false, resp, [30, 61, 62, 120]).close();
    const r = only(await recognizeTrace(t, 'epm-split'));
    expect(r.app_detail?.epm_ports).toEqual([49800, 49801]);
  });

  it('an ept_map that finds nothing, a fault, and a bind_nak are findings', async () => {
    const t = new Trace();
    new ByteConn(t, ENDS)
      .handshake()
      .send(true, bind(1, EPM, 3))
      .send(false, bindAck(1))
      .send(true, eptMapRequest(2, LSARPC))
      .send(false, eptMapResponse(2, [], 0x16c9a0d6))
      .send(true, eptMapRequest(3, LSARPC))
      .send(false, fault(3, 0x1c010003))
      .close();
    const r = only(await recognizeTrace(t, 'epm-fail'));
    const kinds = r.app_findings?.map((f) => f.kind);
    expect(kinds).toEqual(['dcerpc-epm-not-registered', 'dcerpc-fault']);
    expect(r.app_findings?.[0].detail).toMatchObject({ interface: LSARPC, status: 'ept_s_not_registered' });
    expect(r.app_findings?.[1].detail).toMatchObject({
      status: 'nca_s_unk_if',
      interface: 'epmapper',
      opnum: 3,
    });

    const t2 = new Trace();
    new ByteConn(t2, ENDS)
      .handshake()
      .send(true, bind(1, EPM, 3))
      .send(false, bindNak(1, 4))
      .close();
    const r2 = only(await recognizeTrace(t2, 'bind-nak'));
    expect(r2.app_findings?.[0]).toMatchObject({
      kind: 'dcerpc-bind-rejected',
      detail: { reason: 'protocol_version_not_supported' },
    });

    const t3 = new Trace();
    new ByteConn(t3, ENDS)
      .handshake()
      .send(true, bind(1, LSARPC, 0))
      .send(false, bindAck(1, 2, 1))
      .close();
    const r3 = only(await recognizeTrace(t3, 'bind-rejected'));
    expect(r3.app_findings?.[0].message).toContain('lsarpc: abstract_syntax_not_supported');
  });

  it('towers and string bindings: truncations and garbage neither throw nor invent ports', () => {
    const tw = tower(LSARPC, 1, 49713, '10.0.0.20');
    expect(parseTower(tw, 0, tw.length)).toMatchObject({
      interface: LSARPC,
      version: 1,
      tcpPort: 49713,
      ip: '10.0.0.20',
    });
    for (let n = 0; n < tw.length; n++) expect(parseTower(tw, 0, n)?.tcpPort).toBeUndefined();
    const resp = eptMapResponse(1, [tw]).subarray(24);
    for (let n = 0; n < resp.length; n++) expect(() => parseEptMapResponse(resp, 0, n, true)).not.toThrow();
    const sb = Buffer.concat([
      u16(7),
      Buffer.from('host01[49718]\0', 'utf16le'),
      u16(7),
      Buffer.from('10.0.0.1[135\0', 'utf16le'),
    ]);
    expect(dcomStringBindings(sb, 0, sb.length)).toEqual([
      { port: 49718, protocol: 'tcp', via: 'dcom', host: 'host01' },
    ]);
    expect(dcomStringBindings(Buffer.alloc(4096, 7), 0, 4096)).toEqual([]);
  });

  it('garbage on 135 that starts with a version byte of 5 is not DCE/RPC', async () => {
    const t = new Trace();
    new ByteConn(t, ENDS)
      .handshake()
      .send(true, Buffer.from('0500ff0310000000ffff0000', 'hex'))
      .send(false, Buffer.from('nope'))
      .close();
    expect(only(await recognizeTrace(t, 'dce-garbage')).app).toBeUndefined();
  });
});

const noTshark = tsharkSkipReason('DCE/RPC recognizer vs tshark (synthetic)');

describe.skipIf(noTshark !== undefined)(
  'DCE/RPC recognizer agrees with tshark on the synthetic mapper exchange',
  () => {
    it('the tower TCP port and IP address', async () => {
      const t = new Trace();
      new ByteConn(t, ENDS)
        .handshake()
        .send(true, bind(1, EPM, 3))
        .send(false, bindAck(1))
        .send(true, eptMapRequest(2, LSARPC))
        .send(false, eptMapResponse(2, [tower(LSARPC, 0, 49713, '10.0.0.20')]))
        .close();
      const path = writeTrace(t, 'epm-tshark');
      const rows = tsharkFields(
        path,
        ['dcerpc.pkt_type', 'epm.proto.tcp_port', 'epm.proto.ip'],
        ['-Y', 'dcerpc.pkt_type == 2'],
      );
      expect(rows).toHaveLength(1);
      const r = only(await recognizeTrace(t, 'epm-tshark'));
      const ep = (r.app_detail?.epm_endpoints as { port: number; ip: string }[])[0];
      expect(String(ep.port)).toBe(rows[0][1]);
      expect(ep.ip).toBe(rows[0][2]);
    });
  },
);
