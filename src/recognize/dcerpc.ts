/**
 * Connection-oriented DCE/RPC (The Open Group C706, chapter 12: the 16-byte common header of
 * section 12.6.1 and the bind, bind_ack, bind_nak, alter_context, request, response and fault PDUs
 * of section 12.6.4), as Lync servers use it on TCP 135 (the endpoint mapper and DCOM activation)
 * and on the dynamic ports it hands out.
 *
 * Why: the endpoint mapper answers with a dynamic TCP port (Windows: 49152-65535) that overlaps the
 * media port ranges. The ports it hands out are reported as `epm_ports` (and `epm_endpoints` with
 * the address), so a later cross-flow step can tie the follow-on connection to this exchange
 * instead of calling it unexpected media. Two answers carry them:
 * - ept_map (EPM interface e1af8308-5d1f-11c9-91a4-08002b14a0fa, opnum 3; C706 appendix O): towers
 *   whose floors (C706 appendix L) hold a TCP port (protocol 0x07, big-endian) and an IPv4 address
 *   (0x09);
 * - DCOM activation and OXID resolution ([MS-DCOM] 2.2.19 DUALSTRINGARRAY in the answers of
 *   IRemoteSCMActivator/ISystemActivator, IActivation and IObjectExporter): string bindings
 *   `host[port]` for ncacn_ip_tcp (tower id 0x0007), in UTF-16LE.
 * A bind_nak, a bind whose every context is rejected, a fault, and an ept_map that finds no
 * endpoint are findings.
 *
 * Each PDU is buffered up to MAX_PDU bytes (the rest skipped); at most MAX_PDUS PDUs per flow.
 */
import { StreamBuffer } from './stream.js';
import type { AppResult, FlowEnd, Finding, PacketContext, Payload, Recognizer } from './types.js';

const HEADER = 16;
const MAX_PDU = 16 * 1024;
const MAX_PDUS = 64;
const MAX_LISTED = 8;

// C706 section 12.6.4.1 PTYPE values (MS-RPCE adds none for CO).
const PTYPE_NAMES = [
  'request',
  'ping',
  'response',
  'fault',
  'working',
  'nocall',
  'reject',
  'ack',
  'cl_cancel',
  'fack',
  'cancel_ack',
  'bind',
  'bind_ack',
  'bind_nak',
  'alter_context',
  'alter_context_resp',
  'auth3',
  'shutdown',
  'co_cancel',
  'orphaned',
];
const PT_REQUEST = 0;
const PT_RESPONSE = 2;
const PT_FAULT = 3;
const PT_BIND = 11;
const PT_BIND_ACK = 12;
const PT_BIND_NAK = 13;
const PT_ALTER = 14;
const PT_ALTER_RESP = 15;

const PFC_FIRST_FRAG = 0x01;
const PFC_LAST_FRAG = 0x02;
const PFC_OBJECT_UUID = 0x80;

export const EPM_UUID = 'e1af8308-5d1f-11c9-91a4-08002b14a0fa';
const EPT_MAP = 3;
/** C706 appendix O / MS-RPCE: ept_map's status when nothing is registered for the interface. */
const EPT_S_NOT_REGISTERED = 0x16c9a0d6;

const INTERFACES: Record<string, string> = {
  [EPM_UUID]: 'epmapper',
  '000001a0-0000-0000-c000-000000000046': 'ISystemActivator',
  '4d9f4ab8-7d1c-11cf-861e-0020af6e7c57': 'IActivation',
  '99fcfec4-5260-101b-bbcb-00aa0021347a': 'IObjectExporter',
  '00000131-0000-0000-c000-000000000046': 'IRemUnknown',
  '00000143-0000-0000-c000-000000000046': 'IRemUnknown2',
  '12345778-1234-abcd-ef00-0123456789ab': 'lsarpc',
  '12345778-1234-abcd-ef00-0123456789ac': 'samr',
  '12345678-1234-abcd-ef00-01234567cffb': 'netlogon',
  '4b324fc8-1670-01d3-1278-5a47bf6ee188': 'srvsvc',
  '6bffd098-a112-3610-9833-46c3f87e345a': 'wkssvc',
  'e3514235-4b06-11d1-ab04-00c04fc2dcd2': 'drsuapi',
  '367abb81-9844-35f1-ad32-98f038001003': 'svcctl',
  '338cd001-2244-31f1-aaaa-900038001003': 'winreg',
};

/** DCOM interfaces whose answers carry DUALSTRINGARRAY string bindings with the object's port. */
const DCOM_BINDING_INTERFACES = new Set([
  '000001a0-0000-0000-c000-000000000046',
  '4d9f4ab8-7d1c-11cf-861e-0020af6e7c57',
  '99fcfec4-5260-101b-bbcb-00aa0021347a',
]);

/** C706 appendix E (ncastat.idl) and the Windows codes MS-RPCE uses in faults. */
const STATUS_NAMES: Record<number, string> = {
  0x00000005: 'access_denied',
  0x000006d8: 'nca_s_fault_cant_perform',
  0x000006f7: 'nca_s_fault_ndr',
  0x1c000001: 'nca_s_fault_int_div_by_zero',
  0x1c000002: 'nca_s_fault_addr_error',
  0x1c000008: 'nca_s_rpc_version_mismatch',
  0x1c000009: 'nca_s_unspec_reject',
  0x1c00000c: 'nca_s_manager_not_entered',
  0x1c00000d: 'nca_s_fault_cancel',
  0x1c000012: 'nca_s_fault_unspec',
  0x1c00001a: 'nca_s_fault_context_mismatch',
  0x1c00001b: 'nca_s_fault_remote_no_memory',
  0x1c00001c: 'nca_s_invalid_pres_context_id',
  0x1c00001d: 'nca_s_unsupported_authn_level',
  0x1c00001f: 'nca_s_invalid_checksum',
  0x1c000020: 'nca_s_invalid_crc',
  0x1c010001: 'nca_s_comm_failure',
  0x1c010002: 'nca_s_op_rng_error',
  0x1c010003: 'nca_s_unk_if',
  0x1c010006: 'nca_s_wrong_boot_time',
  0x1c010009: 'nca_s_you_crashed',
  0x1c01000b: 'nca_s_proto_error',
  0x1c010013: 'nca_s_out_args_too_big',
  0x1c010014: 'nca_s_server_too_busy',
  0x1c010017: 'nca_s_unsupported_type',
  [EPT_S_NOT_REGISTERED]: 'ept_s_not_registered',
};

/** C706 section 12.6.3.1 p_cont_def_result_t and p_provider_reason_t. */
const BIND_RESULTS = ['acceptance', 'user_rejection', 'provider_rejection', 'negotiate_ack'];
const PROVIDER_REASONS = [
  'reason_not_specified',
  'abstract_syntax_not_supported',
  'proposed_transfer_syntaxes_not_supported',
  'local_limit_exceeded',
];
/** C706 section 12.6.3.1 bind_nak reject reasons (MS-RPCE 2.2.2.5 adds 8 and 9). */
const NAK_REASONS = [
  'reason_not_specified',
  'temporary_congestion',
  'local_limit_exceeded',
  'called_paddr_unknown',
  'protocol_version_not_supported',
  'default_context_not_supported',
  'user_data_not_readable',
  'no_psap_available',
  'authentication_type_not_recognized',
  'invalid_checksum',
];
/** MS-RPCE 2.2.1.1.7 security providers, 2.2.1.1.8 authentication levels. */
const AUTH_TYPES: Record<number, string> = {
  0: 'none',
  9: 'spnego',
  10: 'ntlm',
  14: 'schannel',
  16: 'kerberos',
  68: 'netlogon',
  255: 'default',
};
const AUTH_LEVELS = ['default', 'none', 'connect', 'call', 'packet', 'integrity', 'privacy'];

export function statusName(v: number): string {
  return STATUS_NAMES[v] ?? '0x' + v.toString(16).padStart(8, '0');
}

function hexByte(v: number): string {
  return v.toString(16).padStart(2, '0');
}

/** A UUID in DCE byte order: the first three fields follow the data representation. */
export function uuidAt(b: Buffer, at: number, le: boolean): string {
  const d1 = le ? b.readUInt32LE(at) : b.readUInt32BE(at);
  const d2 = le ? b.readUInt16LE(at + 4) : b.readUInt16BE(at + 4);
  const d3 = le ? b.readUInt16LE(at + 6) : b.readUInt16BE(at + 6);
  let tail = '';
  for (let k = 8; k < 16; k++) tail += hexByte(b[at + k]) + (k === 9 ? '-' : '');
  return `${d1.toString(16).padStart(8, '0')}-${d2.toString(16).padStart(4, '0')}-${d3.toString(16).padStart(4, '0')}-${tail}`;
}

export function interfaceName(uuid: string): string | undefined {
  return INTERFACES[uuid];
}

/** Allocation-free check of a C706 common header at `o` (n bytes available). */
export function headerValid(b: Buffer, o: number, n: number): boolean {
  if (n < HEADER) return false;
  if (b[o] !== 5 || b[o + 1] > 1 || b[o + 2] > 19) return false;
  // packed_drep: integer representation in the high nibble (0 big-endian, 1 little), character in the low (0 ASCII, 1 EBCDIC), float 0-3.
  const d0 = b[o + 4];
  if ((d0 & 0xee) !== 0 || b[o + 5] > 3 || b[o + 6] !== 0 || b[o + 7] !== 0) return false;
  const le = (d0 & 0x10) !== 0;
  const frag = le ? b.readUInt16LE(o + 8) : b.readUInt16BE(o + 8);
  const auth = le ? b.readUInt16LE(o + 10) : b.readUInt16BE(o + 10);
  return frag >= HEADER && frag >= HEADER + auth;
}

export function dcerpcScore(p: Payload): number {
  if (!headerValid(p.buf, p.offset, p.length)) return 0;
  const le = (p.buf[p.offset + 4] & 0x10) !== 0;
  const frag = le ? p.buf.readUInt16LE(p.offset + 8) : p.buf.readUInt16BE(p.offset + 8);
  if (frag === p.length) return 0.9;
  if (frag < p.length) return headerValid(p.buf, p.offset + frag, p.length - frag) ? 0.9 : 0.6;
  return 0.8;
}

// ------------------------------------------------------------------------------- towers and bindings

export interface Endpoint {
  port: number;
  ip?: string;
  host?: string;
  protocol: 'tcp' | 'udp' | 'http';
  via: 'ept_map' | 'dcom';
  interface?: string;
}

interface Tower {
  interface?: string;
  version?: number;
  tcpPort?: number;
  udpPort?: number;
  httpPort?: number;
  ip?: string;
  pipe?: string;
}

/** C706 appendix L tower: u16 floor count, then floors of (u16 lhs length, lhs, u16 rhs length, rhs), little-endian. */
export function parseTower(b: Buffer, start: number, end: number): Tower | undefined {
  if (start + 2 > end) return undefined;
  const floors = b.readUInt16LE(start);
  if (floors === 0 || floors > 8) return undefined;
  const t: Tower = {};
  let i = start + 2;
  for (let f = 0; f < floors; f++) {
    if (i + 2 > end) return undefined;
    const lhsLength = b.readUInt16LE(i);
    const lhs = i + 2;
    if (lhsLength < 1 || lhs + lhsLength + 2 > end) return undefined;
    const rhsLength = b.readUInt16LE(lhs + lhsLength);
    const rhs = lhs + lhsLength + 2;
    if (rhs + rhsLength > end) return undefined;
    const proto = b[lhs];
    if (proto === 0x0d && lhsLength >= 19 && t.interface === undefined) {
      t.interface = uuidAt(b, lhs + 1, true);
      t.version = b.readUInt16LE(lhs + 17);
    } else if (proto === 0x07 && rhsLength >= 2) t.tcpPort = b.readUInt16BE(rhs);
    else if (proto === 0x08 && rhsLength >= 2) t.udpPort = b.readUInt16BE(rhs);
    else if (proto === 0x1f && rhsLength >= 2) t.httpPort = b.readUInt16BE(rhs);
    else if (proto === 0x09 && rhsLength >= 4) t.ip = `${b[rhs]}.${b[rhs + 1]}.${b[rhs + 2]}.${b[rhs + 3]}`;
    else if (proto === 0x0f && rhsLength > 0) t.pipe = b.toString('latin1', rhs, rhs + rhsLength - 1);
    i = rhs + rhsLength;
  }
  return t;
}

/**
 * ept_map's answer (C706 appendix O, NDR): entry_handle (20 bytes), num_towers (u32), the towers
 * as a conformant varying array of pointers (max_count, offset, actual_count, referent ids), each
 * pointee a twr_t (conformance u32, tower_length u32, octets), then status (u32).
 */
export function parseEptMapResponse(
  b: Buffer,
  start: number,
  end: number,
  le: boolean,
): { towers: Tower[]; status?: number } | undefined {
  const u32 = (at: number): number => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  let i = start + 20;
  if (i + 16 > end) return undefined;
  const numTowers = u32(i);
  const actual = u32(i + 12);
  i += 16;
  if (actual > numTowers || actual > 64 || i + 4 * actual > end) return undefined;
  const referents: number[] = [];
  for (let k = 0; k < actual; k++) referents.push(u32(i + 4 * k));
  i += 4 * actual;
  const towers: Tower[] = [];
  for (const ref of referents) {
    if (ref === 0) continue;
    i = start + ((i - start + 3) & ~3);
    if (i + 8 > end) return undefined;
    const length = u32(i + 4);
    i += 8;
    if (i + length > end) return undefined;
    const t = parseTower(b, i, i + length);
    if (t !== undefined) towers.push(t);
    i += length;
  }
  i = start + ((i - start + 3) & ~3);
  return { towers, status: i + 4 <= end ? u32(i) : undefined };
}

/** The interface a ept_map request asks about: the first floor of its map_tower (after the object pointer). */
export function eptMapRequestInterface(
  b: Buffer,
  start: number,
  end: number,
  le: boolean,
): string | undefined {
  const u32 = (at: number): number => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  let i = start;
  if (i + 4 > end) return undefined;
  // object: a unique pointer to a UUID.
  const objRef = u32(i);
  i += 4 + (objRef !== 0 ? 16 : 0);
  if (i + 4 > end || u32(i) === 0) return undefined;
  i += 4; // map_tower referent
  if (i + 8 > end) return undefined;
  const length = u32(i + 4);
  i += 8;
  return parseTower(b, i, Math.min(end, i + length))?.interface;
}

/**
 * [MS-DCOM] 2.2.19.3 STRINGBINDING entries for ncacn_ip_tcp (tower id 0x0007) whose UTF-16LE
 * network address ends in "[port]", found by a bounded linear scan of a DCOM answer.
 */
export function dcomStringBindings(b: Buffer, start: number, end: number): Endpoint[] {
  const out: Endpoint[] = [];
  let i = start;
  while (i + 6 <= end && out.length < 16) {
    if (b[i] !== 0x07 || b[i + 1] !== 0) {
      i++;
      continue;
    }
    // A UTF-16LE string of printable ASCII, NUL-terminated, at most 256 characters.
    let j = i + 2;
    let text = '';
    let ok = false;
    while (j + 1 < end && text.length <= 256) {
      const c = b[j];
      if (b[j + 1] !== 0) break;
      if (c === 0) {
        ok = text.length > 0;
        break;
      }
      if (c < 0x20 || c > 0x7e) break;
      text += String.fromCharCode(c);
      j += 2;
    }
    if (!ok) {
      i += 2;
      continue;
    }
    const open = text.indexOf('[');
    if (open > 0 && text.endsWith(']')) {
      const portText = text.slice(open + 1, -1);
      const port = Number(portText);
      if (portText.length > 0 && portText.length <= 5 && Number.isInteger(port) && port > 0 && port < 65536) {
        const host = text.slice(0, open);
        const ep: Endpoint = { port, protocol: 'tcp', via: 'dcom' };
        if (isIpv4Text(host)) ep.ip = host;
        else ep.host = host;
        out.push(ep);
      }
    }
    i = j + 2;
  }
  return out;
}

function isIpv4Text(s: string): boolean {
  const parts = s.split('.');
  const digits = (p: string): boolean => {
    for (let k = 0; k < p.length; k++) if (p.charCodeAt(k) < 0x30 || p.charCodeAt(k) > 0x39) return false;
    return p.length > 0 && p.length <= 3 && Number(p) <= 255;
  };
  return parts.length === 4 && parts.every(digits);
}

// ------------------------------------------------------------------------------- state

interface Side {
  buf: StreamBuffer;
  /** Bytes of the current PDU still to skip (beyond MAX_PDU). */
  skip: number;
  lost: boolean;
  seen: boolean;
}

interface Call {
  callId: number;
  context: number;
  opnum: number;
  interface?: string;
  /** For ept_map: the interface asked about. */
  asked?: string;
  /** Response stub gathered across fragments. */
  stub?: Buffer[];
  stubLength?: number;
}

export interface DcerpcState {
  orig: Side;
  resp: Side;
  pdus: number;
  counts: Record<string, number>;
  /** Presentation context id → abstract syntax (interface) UUID, from bind / alter_context. */
  contexts: Map<number, string>;
  interfaces: { uuid: string; name?: string; version: string }[];
  pendingBind: number[];
  calls: Call[];
  operations: { interface: string; opnum: number }[];
  secondaryAddress?: string;
  auth?: { type: string; level: string };
  stubEncrypted: boolean;
  endpoints: Endpoint[];
  findings: Finding[];
  bindResults: string[];
}

function newSide(): Side {
  return { buf: new StreamBuffer(MAX_PDU), skip: 0, lost: false, seen: false };
}

function addFinding(s: DcerpcState, f: Finding): void {
  if (s.findings.length < MAX_LISTED) s.findings.push(f);
}

function addEndpoint(s: DcerpcState, e: Endpoint): void {
  if (s.endpoints.length >= 32) return;
  if (s.endpoints.some((x) => x.port === e.port && x.ip === e.ip && x.host === e.host && x.via === e.via))
    return;
  s.endpoints.push(e);
}

function ifaceLabel(uuid: string | undefined): string {
  if (uuid === undefined) return 'an unknown interface';
  return interfaceName(uuid) ?? uuid;
}

/** Bind / alter_context (C706 section 12.6.4.3): the p_cont_elem_t list. */
function onBind(s: DcerpcState, b: Buffer, end: number, le: boolean): void {
  const u16 = (at: number): number => (le ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const u32 = (at: number): number => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  if (end < 28) return;
  const n = b[24];
  let i = 28;
  s.pendingBind = [];
  for (let k = 0; k < n && i + 24 <= end; k++) {
    const ctxId = u16(i);
    const nTransfer = b[i + 2];
    const uuid = uuidAt(b, i + 4, le);
    const version = u32(i + 20);
    s.contexts.set(ctxId, uuid);
    s.pendingBind.push(ctxId);
    if (!s.interfaces.some((x) => x.uuid === uuid) && s.interfaces.length < MAX_LISTED) {
      const entry: { uuid: string; name?: string; version: string } = {
        uuid,
        version: `${version & 0xffff}.${version >>> 16}`,
      };
      const name = interfaceName(uuid);
      if (name !== undefined) entry.name = name;
      s.interfaces.push(entry);
    }
    i += 24 + 20 * nTransfer;
  }
}

/** Bind_ack / alter_context_resp (C706 section 12.6.4.4): secondary address, then the results. */
function onBindAck(s: DcerpcState, b: Buffer, end: number, le: boolean, ts: number): void {
  const u16 = (at: number): number => (le ? b.readUInt16LE(at) : b.readUInt16BE(at));
  if (end < 26) return;
  const secLength = u16(24);
  if (26 + secLength > end) return;
  if (secLength > 1) s.secondaryAddress = b.toString('latin1', 26, 26 + secLength - 1);
  let i = (26 + secLength + 3) & ~3;
  if (i + 4 > end) return;
  const n = b[i];
  i += 4;
  const rejected: string[] = [];
  let accepted = 0;
  for (let k = 0; k < n && i + 24 <= end; k++) {
    const result = u16(i);
    const reason = u16(i + 2);
    const ctxId = s.pendingBind[k];
    const uuid = ctxId === undefined ? undefined : s.contexts.get(ctxId);
    if (s.bindResults.length < MAX_LISTED) s.bindResults.push(BIND_RESULTS[result] ?? `result_${result}`);
    if (result === 0) accepted++;
    else if (result === 1 || result === 2) {
      rejected.push(`${ifaceLabel(uuid)}: ${PROVIDER_REASONS[reason] ?? `reason ${reason}`}`);
      if (ctxId !== undefined) s.contexts.delete(ctxId);
    }
    // Result 3 (negotiate_ack) answers the bind-time feature negotiation context, not an interface.
    i += 24;
  }
  if (rejected.length > 0 && accepted === 0)
    addFinding(s, {
      kind: 'dcerpc-bind-rejected',
      severity: 'error',
      message: `DCE/RPC bind rejected: ${rejected.join('; ')}`,
      ts,
      detail: { rejected },
    });
}

function requestFor(s: DcerpcState, callId: number): Call | undefined {
  for (let k = s.calls.length - 1; k >= 0; k--) if (s.calls[k].callId === callId) return s.calls[k];
  return undefined;
}

function stubEnd(b: Buffer, frag: number, auth: number): number {
  // The auth verifier (8-byte sec_trailer + auth_length bytes) ends the PDU; the pad before it is small.
  if (auth === 0) return frag;
  const trailer = frag - auth - 8;
  return trailer >= 0 ? trailer - (b[trailer + 2] ?? 0) : frag;
}

function onRequest(s: DcerpcState, b: Buffer, end: number, le: boolean, frag: number, auth: number): void {
  const u16 = (at: number): number => (le ? b.readUInt16LE(at) : b.readUInt16BE(at));
  if (end < 24) return;
  const callId = le ? b.readUInt32LE(12) : b.readUInt32BE(12);
  const context = u16(20);
  const opnum = u16(22);
  const iface = s.contexts.get(context);
  if ((b[3] & PFC_FIRST_FRAG) === 0) return;
  const call: Call = { callId, context, opnum, interface: iface };
  if (iface === EPM_UUID && opnum === EPT_MAP && !s.stubEncrypted) {
    const start = 24 + (b[3] & PFC_OBJECT_UUID ? 16 : 0);
    call.asked = eptMapRequestInterface(b, start, Math.min(end, stubEnd(b, frag, auth)), le);
  }
  if (s.calls.length >= 16) s.calls.shift();
  s.calls.push(call);
  if (
    iface !== undefined &&
    s.operations.length < MAX_LISTED &&
    !s.operations.some((o) => o.interface === iface && o.opnum === opnum)
  )
    s.operations.push({ interface: interfaceName(iface) ?? iface, opnum });
}

function onResponse(
  s: DcerpcState,
  b: Buffer,
  end: number,
  le: boolean,
  frag: number,
  auth: number,
  ts: number,
): void {
  if (end < 24 || s.stubEncrypted) return;
  const callId = le ? b.readUInt32LE(12) : b.readUInt32BE(12);
  const call = requestFor(s, callId);
  if (call === undefined || call.interface === undefined) return;
  const isEpm = call.interface === EPM_UUID && call.opnum === EPT_MAP;
  const isDcom = DCOM_BINDING_INTERFACES.has(call.interface);
  if (!isEpm && !isDcom) return;
  // Gather the stub across fragments (bounded), decode at the last one.
  if (b[3] & PFC_FIRST_FRAG) {
    call.stub = [];
    call.stubLength = 0;
  }
  if (call.stub === undefined || (call.stubLength ?? 0) > MAX_PDU) return;
  const piece = Buffer.from(b.subarray(24, Math.max(24, Math.min(end, stubEnd(b, frag, auth)))));
  call.stub.push(piece);
  call.stubLength = (call.stubLength ?? 0) + piece.length;
  if ((b[3] & PFC_LAST_FRAG) === 0) return;
  const stub = Buffer.concat(call.stub);
  call.stub = undefined;
  if (isEpm) {
    const r = parseEptMapResponse(stub, 0, stub.length, le);
    if (r === undefined) return;
    for (const t of r.towers) {
      const port = t.tcpPort ?? t.httpPort ?? t.udpPort;
      if (port === undefined) continue;
      const e: Endpoint = {
        port,
        protocol: t.tcpPort !== undefined ? 'tcp' : t.httpPort !== undefined ? 'http' : 'udp',
        via: 'ept_map',
      };
      if (t.ip !== undefined) e.ip = t.ip;
      const iface = t.interface ?? call.asked;
      if (iface !== undefined) e.interface = interfaceName(iface) ?? iface;
      addEndpoint(s, e);
    }
    if (r.towers.length === 0 || r.status === EPT_S_NOT_REGISTERED)
      addFinding(s, {
        kind: 'dcerpc-epm-not-registered',
        severity: 'warning',
        message: `The endpoint mapper has no endpoint for ${ifaceLabel(call.asked)} (${statusName(r.status ?? 0)})`,
        ts,
        detail: { interface: call.asked, status: statusName(r.status ?? 0) },
      });
  } else {
    for (const e of dcomStringBindings(stub, 0, stub.length)) {
      e.interface = interfaceName(call.interface) ?? call.interface;
      addEndpoint(s, e);
    }
  }
}

function onPdu(s: DcerpcState, b: Buffer, end: number, fromOrig: boolean, ts: number): void {
  const le = (b[4] & 0x10) !== 0;
  const type = b[2];
  const frag = le ? b.readUInt16LE(8) : b.readUInt16BE(8);
  const auth = le ? b.readUInt16LE(10) : b.readUInt16BE(10);
  const name = PTYPE_NAMES[type];
  s.counts[name] = (s.counts[name] ?? 0) + 1;
  if (auth > 0 && frag - auth - 8 >= HEADER && frag <= end) {
    const t = frag - auth - 8;
    const level = b[t + 1];
    if (s.auth === undefined)
      s.auth = { type: AUTH_TYPES[b[t]] ?? `auth_${b[t]}`, level: AUTH_LEVELS[level] ?? `level_${level}` };
    // MS-RPCE 2.2.1.1.8: at privacy level the stubs of requests and responses are encrypted.
    if (level === 6) s.stubEncrypted = true;
  }
  switch (type) {
    case PT_BIND:
    case PT_ALTER:
      onBind(s, b, end, le);
      break;
    case PT_BIND_ACK:
    case PT_ALTER_RESP:
      onBindAck(s, b, end, le, ts);
      break;
    case PT_BIND_NAK: {
      const reason = end >= 18 ? (le ? b.readUInt16LE(16) : b.readUInt16BE(16)) : -1;
      const reasonName = NAK_REASONS[reason] ?? `reason ${reason}`;
      addFinding(s, {
        kind: 'dcerpc-bind-rejected',
        severity: 'error',
        message: `DCE/RPC bind_nak: ${reasonName}`,
        ts,
        detail: { pdu: 'bind_nak', reason: reasonName },
      });
      break;
    }
    case PT_REQUEST:
      onRequest(s, b, end, le, frag, auth);
      break;
    case PT_RESPONSE:
      onResponse(s, b, end, le, frag, auth, ts);
      break;
    case PT_FAULT: {
      if (end < 28) break;
      const status = le ? b.readUInt32LE(24) : b.readUInt32BE(24);
      const callId = le ? b.readUInt32LE(12) : b.readUInt32BE(12);
      const call = requestFor(s, callId);
      const detail: Record<string, unknown> = { status: statusName(status), status_code: status };
      if (call?.interface !== undefined) detail.interface = interfaceName(call.interface) ?? call.interface;
      if (call !== undefined) detail.opnum = call.opnum;
      addFinding(s, {
        kind: 'dcerpc-fault',
        severity: 'error',
        message: `DCE/RPC fault ${statusName(status)}${call !== undefined ? ` for ${ifaceLabel(call.interface)} opnum ${call.opnum}` : ''}`,
        ts,
        detail,
      });
      break;
    }
    default:
      break;
  }
  void fromOrig;
}

/** PDU framing per direction: buffer up to MAX_PDU bytes of each PDU, skip the rest, then handle it. */
function feedSide(
  s: DcerpcState,
  side: Side,
  fromOrig: boolean,
  b: Buffer,
  off: number,
  len: number,
  ts: number,
): void {
  const end = off + len;
  let i = off;
  while (i < end && !side.lost && s.pdus < MAX_PDUS) {
    if (side.skip > 0) {
      const n = Math.min(side.skip, end - i);
      side.skip -= n;
      i += n;
      continue;
    }
    const buf = side.buf;
    if (buf.length < HEADER) {
      const n = Math.min(HEADER - buf.length, end - i);
      buf.append(b, i, n);
      i += n;
      if (buf.length < HEADER) return;
      if (!headerValid(buf.view(), 0, HEADER)) {
        side.lost = true;
        return;
      }
    }
    const v = buf.view();
    const le = (v[4] & 0x10) !== 0;
    const frag = le ? v.readUInt16LE(8) : v.readUInt16BE(8);
    const keep = Math.min(frag, MAX_PDU);
    const n = Math.min(keep - buf.length, end - i);
    buf.append(b, i, n);
    i += n;
    if (buf.length < keep) return;
    s.pdus++;
    onPdu(s, buf.view(), keep, fromOrig, ts);
    buf.clear();
    side.skip = frag - keep;
  }
}

function feed(s: DcerpcState, p: Payload, ctx: PacketContext): boolean {
  const side = ctx.fromOrig ? s.orig : s.resp;
  if (side.seen && ctx.gap) {
    side.buf.clear();
    side.skip = 0;
    side.lost = !headerValid(p.buf, p.offset, p.length);
  }
  side.seen = true;
  feedSide(s, side, ctx.fromOrig, p.buf, p.offset, p.length, ctx.ts);
  return s.pdus < MAX_PDUS && !(s.orig.lost && s.resp.lost);
}

function finish(s: DcerpcState, end: FlowEnd): AppResult {
  void end;
  if (s.pdus === 0) return { app: 'unknown', confidence: 0, detail: {}, findings: [] };
  const detail: Record<string, unknown> = { pdus: s.counts };
  if (s.interfaces.length > 0) detail.interfaces = s.interfaces;
  if (s.operations.length > 0) detail.operations = s.operations;
  if (s.bindResults.length > 0) detail.bind_results = s.bindResults;
  if (s.secondaryAddress !== undefined) detail.secondary_address = s.secondaryAddress;
  if (s.auth !== undefined) detail.auth = s.auth;
  if (s.stubEncrypted) detail.stub_encrypted = true;
  if (s.endpoints.length > 0) {
    detail.epm_ports = [...new Set(s.endpoints.map((e) => e.port))];
    detail.epm_endpoints = s.endpoints;
  }
  if (s.orig.lost || s.resp.lost) detail.framing_lost = true;
  return { app: 'dcerpc', confidence: s.pdus >= 2 ? 0.95 : 0.8, detail, findings: s.findings };
}

export const dcerpc: Recognizer<DcerpcState> = {
  app: 'dcerpc',
  transports: ['tcp'],
  detect: dcerpcScore,
  start: (): DcerpcState => ({
    orig: newSide(),
    resp: newSide(),
    pdus: 0,
    counts: {},
    contexts: new Map(),
    interfaces: [],
    pendingBind: [],
    calls: [],
    operations: [],
    stubEncrypted: false,
    endpoints: [],
    findings: [],
    bindResults: [],
  }),
  feed,
  finish,
};
