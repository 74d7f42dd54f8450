/**
 * TLS messages built byte by byte for tests, from the structures of RFC 8446 (section 4.1.2
 * ClientHello, 4.1.3 ServerHello, 5.1 records, 6 alerts), RFC 6066 section 3 (server_name) and
 * RFC 7301 section 3.1 (ALPN). Independent of src/recognize/tls.ts.
 */

function u8(v: number): Buffer {
  return Buffer.of(v & 0xff);
}
function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v & 0xffff);
  return b;
}
function u24(v: number): Buffer {
  return Buffer.of((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
}
/** A vector with a length prefix of `bytes` bytes (RFC 8446 section 3.4). */
function vec(bytes: 1 | 2 | 3, body: Buffer): Buffer {
  const len = bytes === 1 ? u8(body.length) : bytes === 2 ? u16(body.length) : u24(body.length);
  return Buffer.concat([len, body]);
}

export function extension(type: number, body: Buffer): Buffer {
  return Buffer.concat([u16(type), vec(2, body)]);
}

export function sniExtension(host: string): Buffer {
  return extension(0, vec(2, Buffer.concat([u8(0), vec(2, Buffer.from(host, 'latin1'))])));
}

export function alpnExtension(protocols: string[]): Buffer {
  return extension(16, vec(2, Buffer.concat(protocols.map((p) => vec(1, Buffer.from(p, 'latin1'))))));
}

export function supportedVersionsClient(versions: number[]): Buffer {
  return extension(43, vec(1, Buffer.concat(versions.map(u16))));
}

export function handshakeMessage(type: number, body: Buffer): Buffer {
  return Buffer.concat([u8(type), u24(body.length), body]);
}

export interface ClientHelloOptions {
  version?: number;
  sni?: string;
  alpn?: string[];
  versions?: number[];
  suites?: number[];
  sessionId?: Buffer;
  /** Extra extensions (already encoded). */
  extra?: Buffer[];
  /** Leave out the extensions block entirely (allowed in TLS 1.0-1.2). */
  noExtensions?: boolean;
}

/** A ClientHello handshake message (type 1, u24 length, body). */
export function clientHello(o: ClientHelloOptions = {}): Buffer {
  const exts: Buffer[] = [];
  if (o.sni !== undefined) exts.push(sniExtension(o.sni));
  if (o.alpn !== undefined) exts.push(alpnExtension(o.alpn));
  if (o.versions !== undefined) exts.push(supportedVersionsClient(o.versions));
  exts.push(...(o.extra ?? []));
  const random = Buffer.alloc(32, 0x5a);
  const body = Buffer.concat([
    u16(o.version ?? 0x0303),
    random,
    vec(1, o.sessionId ?? Buffer.alloc(32, 0x11)),
    vec(2, Buffer.concat((o.suites ?? [0x1301, 0xc02f, 0xc030]).map(u16))),
    vec(1, Buffer.of(0)),
    o.noExtensions ? Buffer.alloc(0) : vec(2, Buffer.concat(exts)),
  ]);
  return handshakeMessage(1, body);
}

export interface ServerHelloOptions {
  version?: number;
  suite?: number;
  /** supported_versions selected_version (TLS 1.3). */
  selected?: number;
  alpn?: string;
  random?: Buffer;
}

/** RFC 8446 section 4.1.3: the random that marks a HelloRetryRequest. */
export const HRR_RANDOM = Buffer.from(
  'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c',
  'hex',
);

export function serverHello(o: ServerHelloOptions = {}): Buffer {
  const exts: Buffer[] = [];
  if (o.selected !== undefined) exts.push(extension(43, u16(o.selected)));
  if (o.alpn !== undefined) exts.push(alpnExtension([o.alpn]));
  const body = Buffer.concat([
    u16(o.version ?? 0x0303),
    o.random ?? Buffer.alloc(32, 0x77),
    vec(1, Buffer.alloc(32, 0x11)),
    u16(o.suite ?? 0xc02f),
    u8(0),
    vec(2, Buffer.concat(exts)),
  ]);
  return handshakeMessage(2, body);
}

/** A Certificate message with one fake certificate of `size` bytes (or an empty list). */
export function certificate(size: number): Buffer {
  const list = size > 0 ? vec(3, Buffer.alloc(size, 0x30)) : Buffer.alloc(0);
  return handshakeMessage(11, vec(3, list));
}

export const SERVER_HELLO_DONE = handshakeMessage(14, Buffer.alloc(0));

/** A CertificateRequest (TLS 1.2 layout: types, signature algorithms, CAs). */
export function certificateRequest(): Buffer {
  return handshakeMessage(
    13,
    Buffer.concat([vec(1, Buffer.of(1, 64)), vec(2, u16(0x0401)), vec(2, Buffer.alloc(0))]),
  );
}

export function clientKeyExchange(): Buffer {
  return handshakeMessage(16, vec(1, Buffer.alloc(65, 0x04)));
}

/** One TLS record (RFC 8446 section 5.1). */
export function record(type: number, body: Buffer, version = 0x0303): Buffer {
  return Buffer.concat([u8(type), u16(version), u16(body.length), body]);
}

export const CCS = record(20, Buffer.of(1));

export function alert(level: number, description: number, version = 0x0303): Buffer {
  return record(21, Buffer.of(level, description), version);
}

/** An application-data record of `size` opaque bytes (what encrypted records look like). */
export function appData(size: number, fill = 0xa5): Buffer {
  return record(23, Buffer.alloc(size, fill));
}

/** An encrypted handshake record (the Finished after ChangeCipherSpec). */
export function encryptedHandshake(size = 40): Buffer {
  return record(22, Buffer.alloc(size, 0xe3));
}
