/**
 * DHCP messages as bytes (RFC 2131 figure 1, options as RFC 2132 writes them), for the DHCP
 * recogniser's tests and the role inference that reads vendor classes.
 */
export function opt(code: number, value: Buffer | string | number[]): Buffer {
  const v =
    typeof value === 'string'
      ? Buffer.from(value, 'latin1')
      : Buffer.isBuffer(value)
        ? value
        : Buffer.from(value);
  return Buffer.concat([Buffer.of(code, v.length), v]);
}

/** RFC 1035 section 3.1 encoding of a name. */
export function dnsName(name: string): Buffer {
  return Buffer.concat([
    ...name.split('.').map((l) => Buffer.concat([Buffer.of(l.length), Buffer.from(l)])),
    Buffer.of(0),
  ]);
}

export interface Msg {
  op: 1 | 2;
  xid: number;
  mac?: string;
  ciaddr?: string;
  yiaddr?: string;
  options: Buffer[];
  /** Options to put in the file field (option 52 overload 1). */
  fileOptions?: Buffer[];
}

export function ip(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

/** RFC 2131 figure 1. */
export function dhcpMessage(m: Msg): Buffer {
  const b = Buffer.alloc(240);
  b[0] = m.op;
  b[1] = 1;
  b[2] = 6;
  b.writeUInt32BE(m.xid, 4);
  if (m.ciaddr) ip(m.ciaddr).copy(b, 12);
  if (m.yiaddr) ip(m.yiaddr).copy(b, 16);
  Buffer.from((m.mac ?? '00:15:5d:01:02:03').split(':').map((x) => parseInt(x, 16))).copy(b, 28);
  if (m.fileOptions) Buffer.concat([...m.fileOptions, Buffer.of(255)]).copy(b, 108);
  b.writeUInt32BE(0x63825363, 236);
  return Buffer.concat([b, ...m.options, Buffer.of(255)]);
}
