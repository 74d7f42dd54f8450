/**
 * Short strings from packet bytes for app_detail (STUN usernames and realms, SIP header values).
 * Packet text is hostile: it is cut to a bounded length and every byte outside printable ASCII
 * becomes \xNN here, before any renderer sees it (renderers escape again for their medium).
 *
 * The result is always a fresh flat string, built in a scratch byte buffer and decoded once.
 * These strings live as long as their flow, and how V8 would otherwise hold them cost more than
 * their text (issue 16 section 3, docs/decisions.md "Per-flow recogniser state"): appended one
 * character at a time, a string of n > 12 characters is a chain of about n cons-string nodes
 * (20-32 bytes each: 34 MB of the 54 MB a 3,000-flow SIP capture kept live), and a `slice` of a
 * longer string (a SIP header value cut from its header section) keeps the whole section alive.
 */

/** Grown when a longer result is asked for: every byte escaped (4 characters) and "…" (3 bytes). */
let SCRATCH = Buffer.alloc(4 * 256 + 3);
const HEX = '0123456789abcdef';
/** "…" (U+2026) in UTF-8. */
const ELLIPSIS = [0xe2, 0x80, 0xa6];

function reserve(n: number): void {
  if (SCRATCH.length < 4 * n + 3) SCRATCH = Buffer.alloc(4 * n + 3);
}

/**
 * Writes character code `c` at `p` of the scratch as itself or as \xNN; returns the next
 * position. A code above 0xff (only a JS string's) is written as its low byte, one hex digit when
 * that is below 16, as this function always has.
 */
function put(c: number, p: number): number {
  if (c >= 0x20 && c < 0x7f && c !== 0x5c) {
    SCRATCH[p] = c;
    return p + 1;
  }
  SCRATCH[p++] = 0x5c;
  SCRATCH[p++] = 0x78;
  const b = c & 0xff;
  if (b >= 16 || c < 16) SCRATCH[p++] = HEX.charCodeAt(b >> 4);
  SCRATCH[p++] = HEX.charCodeAt(b & 15);
  return p;
}

/** The scratch's first `p` bytes as a string, "…" appended when `cut`. */
function done(p: number, cut: boolean): string {
  if (!cut) return SCRATCH.toString('latin1', 0, p);
  for (const b of ELLIPSIS) SCRATCH[p++] = b;
  return SCRATCH.toString('utf8', 0, p);
}

/** At most `max` bytes of buf[offset, offset + length) as printable ASCII, other bytes as \xNN, "…" when cut. */
export function shortText(buf: Buffer, offset: number, length: number, max = 64): string {
  const n = Math.min(length, max);
  reserve(n);
  // Mostly binary (an MS-TURN username is a token): hex reads better than a wall of \xNN.
  let binary = 0;
  for (let i = 0; i < n; i++) {
    const c = buf[offset + i];
    if (c < 0x20 || c >= 0x7f) binary++;
  }
  if (binary * 4 > n) {
    let p = 0;
    for (const c of [0x68, 0x65, 0x78, 0x3a]) SCRATCH[p++] = c; // "hex:"
    for (let i = 0; i < Math.min(n, 16); i++) {
      const c = buf[offset + i];
      SCRATCH[p++] = HEX.charCodeAt(c >> 4);
      SCRATCH[p++] = HEX.charCodeAt(c & 15);
    }
    return done(p, length > 16);
  }
  let p = 0;
  for (let i = 0; i < n; i++) p = put(buf[offset + i], p);
  return done(p, length > n);
}

/** The same for a JS string (already decoded as latin1): cut to `max` characters, controls escaped. */
export function shortString(text: string, max = 128): string {
  const n = Math.min(text.length, max);
  reserve(n);
  let p = 0;
  for (let i = 0; i < n; i++) p = put(text.charCodeAt(i), p);
  return done(p, text.length > n);
}

/** Lower-case hex of buf[offset, offset + length). */
export function hex(buf: Buffer, offset: number, length: number): string {
  return buf.toString('hex', offset, offset + length);
}

/** Most strings `common` holds; past that it hands strings back as they are. */
const COMMON_MAX = 1024;
const COMMON_LONGEST = 48;
const common = new Map<string, string>();

/**
 * The one copy of a short string that many flows report alike (an SDP media type, protocol or
 * direction, a Content-Type, a SIP reason phrase): the first copy seen is kept and handed to
 * every later flow that has the same text, so 30,000 flows' "RTP/AVP" are one string, not
 * 30,000. Bounded (COMMON_MAX strings of at most COMMON_LONGEST characters, first come), so a
 * capture full of distinct values costs the table a few tens of KB and then nothing more.
 */
export function commonString(text: string): string {
  if (text.length > COMMON_LONGEST) return text;
  const held = common.get(text);
  if (held !== undefined) return held;
  if (common.size < COMMON_MAX) common.set(text, text);
  return text;
}
