/**
 * Address and CIDR parsing for topology entries, on the same four-word form the flow stage uses
 * (IPv4 in word 3). Node's net.isIP validates the text; the prefix test is a few integer compares.
 */
import { isIP } from 'node:net';

export interface Prefix {
  /** The text as the user wrote it. */
  text: string;
  version: 4 | 6;
  words: [number, number, number, number];
  /** Prefix length in bits (32 or 128 for a single address). */
  bits: number;
}

function ipv4Words(text: string): [number, number, number, number] {
  const parts = text.split('.').map(Number);
  return [0, 0, 0, ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0];
}

function ipv6Words(text: string): [number, number, number, number] {
  // Expand "::" and an embedded IPv4 tail, then read eight 16-bit groups.
  let head = text;
  let tail4: number[] = [];
  const lastColon = head.lastIndexOf(':');
  if (head.slice(lastColon + 1).includes('.')) {
    const v4 = ipv4Words(head.slice(lastColon + 1))[3];
    tail4 = [v4 >>> 16, v4 & 0xffff];
    head = head.slice(0, lastColon + 1) + '0:0';
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const l = left ? left.split(':') : [];
  const r = right !== undefined && right !== '' ? right.split(':') : [];
  const groups = [...l, ...new Array<string>(8 - l.length - r.length).fill('0'), ...r].map((g) =>
    parseInt(g, 16),
  );
  if (tail4.length === 2) {
    groups[6] = tail4[0];
    groups[7] = tail4[1];
  }
  return [
    ((groups[0] << 16) | groups[1]) >>> 0,
    ((groups[2] << 16) | groups[3]) >>> 0,
    ((groups[4] << 16) | groups[5]) >>> 0,
    ((groups[6] << 16) | groups[7]) >>> 0,
  ];
}

/** Parses "10.0.0.10", "10.1.0.0/16", "fd00::1", "fd00::/64". Throws an Error with a one-line message. */
export function parsePrefix(text: string): Prefix {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addr = slash >= 0 ? trimmed.slice(0, slash) : trimmed;
  const version = isIP(addr);
  if (version === 0) throw new Error(`"${text}" is not an IP address or CIDR block`);
  const max = version === 4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const b = trimmed.slice(slash + 1);
    bits = Number(b);
    if (!/^\d{1,3}$/.test(b) || bits > max) throw new Error(`"${text}": prefix length must be 0-${max}`);
  }
  const words = version === 4 ? ipv4Words(addr) : ipv6Words(addr);
  return { text: trimmed, version: version as 4 | 6, words, bits };
}

/**
 * The value of a dotted-quad IPv4 address ("10.0.0.10": four decimal parts of 0-255, no leading
 * zeros, as the flow stage writes them), or -1 for any other text. A character loop: the per-flow
 * lookups (RoleResolver) call it for every record's two addresses, where split/map/isIP made two
 * arrays and ran a regular expression (0.73 s of 13 s on the 1M-SYN scan).
 */
export function dottedQuadValue(text: string): number {
  const n = text.length;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && part === 0) return -1; // a leading zero ("010") is not how we write them
      part = part * 10 + (c - 0x30);
      if (++digits > 3 || part > 255) return -1;
    } else return -1;
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + part;
}

export function addressWords(
  address: string,
): { version: 4 | 6; words: [number, number, number, number] } | undefined {
  const v4 = dottedQuadValue(address);
  if (v4 >= 0) return { version: 4, words: [0, 0, 0, v4] };
  const version = isIP(address);
  if (version === 0) return undefined;
  return { version: version as 4 | 6, words: version === 4 ? ipv4Words(address) : ipv6Words(address) };
}

/** True when the address (given as words) lies in the prefix. */
export function prefixContains(p: Prefix, version: number, words: readonly number[]): boolean {
  if (p.version !== version) return false;
  const first = version === 4 ? 3 : 0;
  let bits = p.bits;
  for (let i = first; i < 4 && bits > 0; i++) {
    const take = Math.min(32, bits);
    const mask = take === 32 ? 0xffffffff : (0xffffffff << (32 - take)) >>> 0;
    if ((p.words[i] & mask) >>> 0 !== (words[i] & mask) >>> 0) return false;
    bits -= take;
  }
  return true;
}

/** RFC 1918, RFC 6598 (CGN), loopback, link-local, and IPv6 ULA/link-local: not reachable from the Internet. */
export function isPrivateAddress(address: string): boolean {
  const a = addressWords(address);
  if (!a) return false;
  if (a.version === 4) {
    const w = a.words[3];
    const b0 = w >>> 24;
    const b1 = (w >>> 16) & 0xff;
    return (
      b0 === 10 ||
      b0 === 127 ||
      (b0 === 172 && b1 >= 16 && b1 <= 31) ||
      (b0 === 192 && b1 === 168) ||
      (b0 === 169 && b1 === 254) ||
      (b0 === 100 && b1 >= 64 && b1 <= 127)
    );
  }
  const top = a.words[0] >>> 16;
  return (
    (top & 0xfe00) === 0xfc00 ||
    (top & 0xffc0) === 0xfe80 ||
    (a.words[0] === 0 && a.words[1] === 0 && a.words[2] === 0 && a.words[3] === 1)
  );
}
