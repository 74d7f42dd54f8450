/**
 * SMB over TCP 445 (direct TCP transport, [MS-SMB2] section 2.1: a zero byte and a 24-bit length
 * before each message) and over the NetBIOS session service on 139 (RFC 1002 section 4.3.1: type,
 * flags, 17-bit length; session request 0x81, positive / negative response 0x82 / 0x83).
 * Inside: SMB1 ([MS-CIFS] section 2.2.3.1 header, `FF 'SMB'`) or SMB2/3 ([MS-SMB2] section 2.2.1
 * header, `FE 'SMB'`; `FD 'SMB'` is an encrypted SMB3 transform header, 2.2.41).
 *
 * Lync uses SMB for Central Management Store replication to internal servers (the xds-replica
 * share); a failed SMB response status such as STATUS_ACCESS_DENIED or STATUS_LOGON_FAILURE is a
 * finding. The dialect comes from the negotiate exchange ([MS-SMB2] 2.2.3 / 2.2.4; [MS-CIFS]
 * 2.2.4.52 for SMB1).
 *
 * Each message is buffered up to MAX_MESSAGE bytes (headers and the small bodies we read), the rest
 * skipped; at most MAX_MESSAGES messages per flow.
 */
import { StreamBuffer } from './stream.js';
import type { AppResult, FlowEnd, Finding, PacketContext, Payload, Recognizer } from './types.js';

const MAX_MESSAGE = 1024;
const MAX_MESSAGES = 128;
const MAX_LISTED = 8;

const SMB2_COMMANDS = [
  'NEGOTIATE',
  'SESSION_SETUP',
  'LOGOFF',
  'TREE_CONNECT',
  'TREE_DISCONNECT',
  'CREATE',
  'CLOSE',
  'FLUSH',
  'READ',
  'WRITE',
  'LOCK',
  'IOCTL',
  'CANCEL',
  'ECHO',
  'QUERY_DIRECTORY',
  'CHANGE_NOTIFY',
  'QUERY_INFO',
  'SET_INFO',
  'OPLOCK_BREAK',
];

/** [MS-CIFS] section 2.2.2.1, the commands an SMB1 session starts with. */
const SMB1_COMMANDS: Record<number, string> = {
  0x04: 'CLOSE',
  0x25: 'TRANSACTION',
  0x2b: 'ECHO',
  0x2d: 'OPEN_ANDX',
  0x2e: 'READ_ANDX',
  0x2f: 'WRITE_ANDX',
  0x32: 'TRANSACTION2',
  0x71: 'TREE_DISCONNECT',
  0x72: 'NEGOTIATE',
  0x73: 'SESSION_SETUP_ANDX',
  0x74: 'LOGOFF_ANDX',
  0x75: 'TREE_CONNECT_ANDX',
  0xa0: 'NT_TRANSACT',
  0xa2: 'NT_CREATE_ANDX',
};

const DIALECTS: Record<number, string> = {
  0x0202: 'SMB 2.0.2',
  0x0210: 'SMB 2.1',
  0x02ff: 'SMB 2.???',
  0x0300: 'SMB 3.0',
  0x0302: 'SMB 3.0.2',
  0x0311: 'SMB 3.1.1',
};

/** [MS-ERREF] 2.3.1 NTSTATUS values SMB servers answer with. */
const NT_STATUS: Record<number, string> = {
  0x00000000: 'STATUS_SUCCESS',
  0x00000103: 'STATUS_PENDING',
  0x0000010c: 'STATUS_NOTIFY_ENUM_DIR',
  0x80000005: 'STATUS_BUFFER_OVERFLOW',
  0x80000006: 'STATUS_NO_MORE_FILES',
  0xc0000001: 'STATUS_UNSUCCESSFUL',
  0xc0000002: 'STATUS_NOT_IMPLEMENTED',
  0xc0000003: 'STATUS_INVALID_INFO_CLASS',
  0xc0000008: 'STATUS_INVALID_HANDLE',
  0xc000000d: 'STATUS_INVALID_PARAMETER',
  0xc000000f: 'STATUS_NO_SUCH_FILE',
  0xc0000010: 'STATUS_INVALID_DEVICE_REQUEST',
  0xc0000011: 'STATUS_END_OF_FILE',
  0xc0000016: 'STATUS_MORE_PROCESSING_REQUIRED',
  0xc0000022: 'STATUS_ACCESS_DENIED',
  0xc0000033: 'STATUS_OBJECT_NAME_INVALID',
  0xc0000034: 'STATUS_OBJECT_NAME_NOT_FOUND',
  0xc0000035: 'STATUS_OBJECT_NAME_COLLISION',
  0xc000003a: 'STATUS_OBJECT_PATH_NOT_FOUND',
  0xc0000043: 'STATUS_SHARING_VIOLATION',
  0xc000005e: 'STATUS_NO_LOGON_SERVERS',
  0xc0000064: 'STATUS_NO_SUCH_USER',
  0xc000006a: 'STATUS_WRONG_PASSWORD',
  0xc000006d: 'STATUS_LOGON_FAILURE',
  0xc000006e: 'STATUS_ACCOUNT_RESTRICTION',
  0xc000006f: 'STATUS_INVALID_LOGON_HOURS',
  0xc0000070: 'STATUS_INVALID_WORKSTATION',
  0xc0000071: 'STATUS_PASSWORD_EXPIRED',
  0xc0000072: 'STATUS_ACCOUNT_DISABLED',
  0xc000009a: 'STATUS_INSUFFICIENT_RESOURCES',
  0xc00000b5: 'STATUS_IO_TIMEOUT',
  0xc00000ba: 'STATUS_FILE_IS_A_DIRECTORY',
  0xc00000bb: 'STATUS_NOT_SUPPORTED',
  0xc00000c9: 'STATUS_NETWORK_NAME_DELETED',
  0xc00000ca: 'STATUS_NETWORK_ACCESS_DENIED',
  0xc00000cc: 'STATUS_BAD_NETWORK_NAME',
  0xc0000120: 'STATUS_CANCELLED',
  0xc000015b: 'STATUS_LOGON_TYPE_NOT_GRANTED',
  0xc000018d: 'STATUS_TRUSTED_RELATIONSHIP_FAILURE',
  0xc000019c: 'STATUS_FS_DRIVER_REQUIRED',
  0xc0000203: 'STATUS_USER_SESSION_DELETED',
  0xc0000205: 'STATUS_INSUFF_SERVER_RESOURCES',
  0xc0000224: 'STATUS_PASSWORD_MUST_CHANGE',
  0xc0000225: 'STATUS_NOT_FOUND',
  0xc0000234: 'STATUS_ACCOUNT_LOCKED_OUT',
  0xc000035c: 'STATUS_NETWORK_SESSION_EXPIRED',
};

/**
 * Error statuses that are part of normal operation (more authentication legs, probing for a file,
 * the end of a directory listing, DFS referral probes, a cancelled change notification): not findings.
 */
const ROUTINE = new Set([
  0xc0000016, 0xc0000034, 0xc0000011, 0xc0000225, 0xc000019c, 0xc0000010, 0xc0000120, 0xc000000f,
]);
/** Statuses that mean the server refused the client: errors; other failures are warnings. */
const REFUSALS = new Set([
  0xc0000022, 0xc00000ca, 0xc00000cc, 0xc000006d, 0xc000006a, 0xc0000064, 0xc000006e, 0xc000006f, 0xc0000070,
  0xc0000071, 0xc0000072, 0xc0000224, 0xc0000234, 0xc000015b, 0xc000018d, 0xc000005e,
]);

export function ntStatusName(v: number): string {
  return NT_STATUS[v] ?? '0x' + v.toString(16).padStart(8, '0');
}

export function dialectName(v: number): string {
  return DIALECTS[v] ?? '0x' + v.toString(16).padStart(4, '0');
}

/** `FF|FE|FD|FC 'SMB'` at `at`: the SMB generation, or 0. */
function smbMagic(b: Buffer, at: number): number {
  if (b[at + 1] !== 0x53 || b[at + 2] !== 0x4d || b[at + 3] !== 0x42) return 0;
  const m = b[at];
  return m === 0xff || m === 0xfe || m === 0xfd || m === 0xfc ? m : 0;
}

/** Allocation-free: a session message with an SMB header, or a NetBIOS session request on 139. */
export function smbScore(p: Payload, ctx: PacketContext): number {
  const b = p.buf;
  const o = p.offset;
  if (p.length >= 8 && b[o] === 0x00 && smbMagic(b, o + 4) !== 0) {
    const length = (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
    return length >= 32 ? 0.95 : 0;
  }
  // RFC 1002 section 4.3.2: a session request carries two encoded NetBIOS names (34 bytes each).
  if (
    p.length >= 4 &&
    b[o] === 0x81 &&
    (b[o + 1] & 0xfe) === 0 &&
    (ctx.respPort === 139 || ctx.origPort === 139)
  ) {
    const length = ((b[o + 1] & 1) << 16) | (b[o + 2] << 8) | b[o + 3];
    return length === 68 ? 0.7 : 0;
  }
  return 0;
}

// ------------------------------------------------------------------------------- state

interface Side {
  buf: StreamBuffer;
  /** Message bytes still to skip (beyond MAX_MESSAGE). */
  skip: number;
  /** Length of the message being gathered (after the 4-byte session header), or -1. */
  want: number;
  type: number;
  lost: boolean;
  seen: boolean;
}

interface ErrorSeen {
  status: string;
  code: number;
  command: string;
  count: number;
}

export interface SmbState {
  orig: Side;
  resp: Side;
  messages: number;
  smb1: boolean;
  smb2: boolean;
  encrypted: boolean;
  compressed: boolean;
  signed: boolean;
  dialect?: string;
  clientDialects: string[];
  commands: Record<string, number>;
  trees: string[];
  errors: ErrorSeen[];
  netbios: string[];
}

function newSide(): Side {
  return { buf: new StreamBuffer(MAX_MESSAGE), skip: 0, want: -1, type: 0, lost: false, seen: false };
}

function noteError(s: SmbState, status: number, command: string): void {
  const name = ntStatusName(status);
  const e = s.errors.find((x) => x.code === status && x.command === command);
  if (e !== undefined) e.count++;
  else if (s.errors.length < MAX_LISTED) s.errors.push({ status: name, code: status, command, count: 1 });
}

function utf16(b: Buffer, start: number, end: number): string {
  return b.toString('utf16le', start, end - ((end - start) & 1));
}

/** [MS-SMB2] 2.2.1.2 sync header (64 bytes) and the negotiate / tree connect bodies. */
function onSmb2(s: SmbState, m: Buffer, n: number, fromOrig: boolean): void {
  let at = 0;
  for (let k = 0; k < 8 && at + 64 <= n; k++) {
    if (m[at] !== 0xfe || m.readUInt16LE(at + 4) !== 64) return;
    const status = m.readUInt32LE(at + 8);
    const command = m.readUInt16LE(at + 12);
    const flags = m.readUInt32LE(at + 16);
    const next = m.readUInt32LE(at + 20);
    const reply = (flags & 1) !== 0;
    const name = SMB2_COMMANDS[command] ?? `COMMAND_${command}`;
    if (flags & 8) s.signed = true;
    const body = at + 64;
    if (!reply) {
      s.commands[name] = (s.commands[name] ?? 0) + 1;
      if (command === 0 && body + 36 <= n) {
        const count = m.readUInt16LE(body + 2);
        for (let d = 0; d < count && body + 36 + 2 * d + 2 <= n && s.clientDialects.length < 16; d++) {
          const dn = dialectName(m.readUInt16LE(body + 36 + 2 * d));
          if (!s.clientDialects.includes(dn)) s.clientDialects.push(dn);
        }
      } else if (command === 3 && body + 8 <= n) {
        // Tree connect request: PathOffset (from the header) and PathLength.
        const off = m.readUInt16LE(body + 4);
        const len = m.readUInt16LE(body + 6);
        if (off >= 64 && at + off + len <= n && s.trees.length < MAX_LISTED)
          s.trees.push(utf16(m, at + off, at + off + len));
      }
    } else {
      if (command === 0 && status === 0 && body + 6 <= n) s.dialect = dialectName(m.readUInt16LE(body + 4));
      // SMB2 responses with the high bit set in the severity are failures ([MS-ERREF] 2.3).
      if (status >>> 30 === 3 && !ROUTINE.has(status)) noteError(s, status, name);
    }
    if (next === 0) return;
    at += next;
  }
  void fromOrig;
}

/** [MS-CIFS] 2.2.3.1 header (32 bytes), negotiate dialect strings (2.2.4.52), the status. */
function onSmb1(s: SmbState, m: Buffer, n: number): void {
  if (n < 33) return;
  const command = m[4];
  const flags = m[9];
  const flags2 = m.readUInt16LE(10);
  const reply = (flags & 0x80) !== 0;
  const name = SMB1_COMMANDS[command] ?? `COMMAND_0x${command.toString(16)}`;
  const wordCount = m[32];
  const bytesAt = 33 + 2 * wordCount + 2;
  if (!reply) {
    s.commands[name] = (s.commands[name] ?? 0) + 1;
    if (command === 0x72 && bytesAt <= n) {
      // Dialect strings: 0x02, then a NUL-terminated name.
      let i = bytesAt;
      while (i < n && m[i] === 0x02 && s.clientDialects.length < 16) {
        let j = i + 1;
        while (j < n && m[j] !== 0) j++;
        const d = m.toString('latin1', i + 1, j);
        if (!s.clientDialects.includes(d)) s.clientDialects.push(d);
        i = j + 1;
      }
    } else if (command === 0x75 && bytesAt <= n && wordCount >= 4) {
      // TREE_CONNECT_ANDX: password (PasswordLength at word 3), then the path (Unicode when flags2 0x8000).
      const passwordLength = m.readUInt16LE(33 + 6);
      let i = bytesAt + passwordLength;
      if (flags2 & 0x8000) {
        if ((i & 1) !== 0) i++;
        let j = i;
        while (j + 1 < n && (m[j] !== 0 || m[j + 1] !== 0)) j += 2;
        if (s.trees.length < MAX_LISTED && j > i) s.trees.push(utf16(m, i, j));
      } else {
        let j = i;
        while (j < n && m[j] !== 0) j++;
        if (s.trees.length < MAX_LISTED && j > i) s.trees.push(m.toString('latin1', i, j));
      }
    }
    return;
  }
  if (flags2 & 0x4000) {
    const status = m.readUInt32LE(5);
    if (status >>> 30 === 3 && !ROUTINE.has(status)) noteError(s, status, name);
  } else if (m[5] !== 0) {
    // DOS error class (byte 5) and code (bytes 7-8).
    const code = (m[5] << 24) | m.readUInt16LE(7);
    const e = s.errors.find((x) => x.code === code && x.command === name);
    if (e !== undefined) e.count++;
    else if (s.errors.length < MAX_LISTED)
      s.errors.push({ status: `dos_class_${m[5]}_code_${m.readUInt16LE(7)}`, code, command: name, count: 1 });
  }
  if (command === 0x72 && wordCount >= 1 && 35 <= n && s.dialect === undefined) {
    const index = m.readUInt16LE(33);
    s.dialect = index === 0xffff ? 'none' : (s.clientDialects[index] ?? `index ${index}`);
  }
}

function onMessage(s: SmbState, type: number, m: Buffer, n: number, fromOrig: boolean): void {
  s.messages++;
  if (type !== 0x00) {
    const names: Record<number, string> = {
      0x81: 'session_request',
      0x82: 'positive_session_response',
      0x83: 'negative_session_response',
      0x84: 'retarget_session_response',
      0x85: 'keepalive',
    };
    const name = names[type] ?? `type_0x${type.toString(16)}`;
    if (type !== 0x85 && s.netbios.length < MAX_LISTED) s.netbios.push(name);
    return;
  }
  if (n < 4) return;
  const magic = smbMagic(m, 0);
  if (magic === 0xff) {
    s.smb1 = true;
    onSmb1(s, m, n);
  } else if (magic === 0xfe) {
    s.smb2 = true;
    onSmb2(s, m, n, fromOrig);
  } else if (magic === 0xfd) {
    s.smb2 = true;
    s.encrypted = true;
  } else if (magic === 0xfc) {
    s.smb2 = true;
    s.compressed = true;
  }
}

function feedSide(s: SmbState, side: Side, fromOrig: boolean, b: Buffer, off: number, len: number): void {
  const end = off + len;
  let i = off;
  while (i < end && !side.lost && s.messages < MAX_MESSAGES) {
    if (side.skip > 0) {
      const n = Math.min(side.skip, end - i);
      side.skip -= n;
      i += n;
      continue;
    }
    const buf = side.buf;
    if (side.want < 0) {
      // The 4-byte session header (RFC 1002 4.3.1 / MS-SMB2 2.1).
      const n = Math.min(4 - buf.length, end - i);
      buf.append(b, i, n);
      i += n;
      if (buf.length < 4) return;
      const h = buf.view();
      const type = h[0];
      if (type !== 0x00 && (type < 0x81 || type > 0x85)) {
        side.lost = true;
        return;
      }
      side.type = type;
      side.want = type === 0x00 ? (h[1] << 16) | (h[2] << 8) | h[3] : ((h[1] & 1) << 16) | (h[2] << 8) | h[3];
      buf.clear();
    }
    const keep = Math.min(side.want, MAX_MESSAGE);
    const n = Math.min(keep - buf.length, end - i);
    buf.append(b, i, n);
    i += n;
    if (buf.length < keep) return;
    onMessage(s, side.type, buf.view(), keep, fromOrig);
    side.skip = side.want - keep;
    side.want = -1;
    buf.clear();
  }
}

function feed(s: SmbState, p: Payload, ctx: PacketContext): boolean {
  const side = ctx.fromOrig ? s.orig : s.resp;
  if (side.seen && ctx.gap) {
    side.buf.clear();
    side.skip = 0;
    side.want = -1;
    const b = p.buf;
    side.lost = !(p.length >= 8 && b[p.offset] === 0 && smbMagic(b, p.offset + 4) !== 0);
  }
  side.seen = true;
  feedSide(s, side, ctx.fromOrig, p.buf, p.offset, p.length);
  return s.messages < MAX_MESSAGES && !(s.orig.lost && s.resp.lost);
}

function finish(s: SmbState, end: FlowEnd): AppResult {
  void end;
  if (s.messages === 0) return { app: 'unknown', confidence: 0, detail: {}, findings: [] };
  const detail: Record<string, unknown> = {};
  const dialect = s.dialect;
  const smb3 = s.encrypted || (dialect !== undefined && dialect.startsWith('SMB 3'));
  detail.version = s.smb2 ? (smb3 ? 'SMB3' : 'SMB2') : s.smb1 ? 'SMB1' : 'NetBIOS';
  if (s.smb1 && s.smb2) detail.negotiated_up_from_smb1 = true;
  if (dialect !== undefined) detail.dialect = dialect;
  if (s.clientDialects.length > 0) detail.client_dialects = s.clientDialects;
  if (Object.keys(s.commands).length > 0) detail.commands = s.commands;
  if (s.trees.length > 0) detail.tree_connects = s.trees;
  if (s.signed) detail.signed = true;
  if (s.encrypted) detail.encrypted = true;
  if (s.compressed) detail.compressed = true;
  if (s.netbios.length > 0) detail.netbios = s.netbios;
  if (s.errors.length > 0)
    detail.errors = s.errors.map((e) => ({ status: e.status, command: e.command, count: e.count }));
  if (s.orig.lost || s.resp.lost) detail.framing_lost = true;
  const findings: Finding[] = s.errors.map((e) => ({
    kind: 'smb-error-status',
    severity: REFUSALS.has(e.code) ? 'error' : 'warning',
    message: `SMB ${e.command} failed with ${e.status}${e.count > 1 ? ` (${e.count} times)` : ''}`,
    detail: { status: e.status, command: e.command, count: e.count },
  }));
  if (s.netbios.includes('negative_session_response'))
    findings.push({
      kind: 'smb-error-status',
      severity: 'error',
      message: 'NetBIOS session request refused (negative session response)',
      detail: { status: 'negative_session_response' },
    });
  return { app: 'smb', confidence: s.smb1 || s.smb2 ? 0.95 : 0.7, detail, findings };
}

export const smb: Recognizer<SmbState> = {
  app: 'smb',
  transports: ['tcp'],
  detect: smbScore,
  start: (): SmbState => ({
    orig: newSide(),
    resp: newSide(),
    messages: 0,
    smb1: false,
    smb2: false,
    encrypted: false,
    compressed: false,
    signed: false,
    clientDialects: [],
    commands: {},
    trees: [],
    errors: [],
    netbios: [],
  }),
  feed,
  finish,
};
