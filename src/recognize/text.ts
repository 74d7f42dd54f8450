/**
 * Short strings from packet bytes for app_detail (STUN usernames and realms, SIP header values).
 * Packet text is hostile: it is cut to a bounded length and every byte outside printable ASCII
 * becomes \xNN here, before any renderer sees it (renderers escape again for their medium).
 */

/** At most `max` bytes of buf[offset, offset + length) as printable ASCII, other bytes as \xNN, "…" when cut. */
export function shortText(buf: Buffer, offset: number, length: number, max = 64): string {
  const n = Math.min(length, max);
  // Mostly binary (an MS-TURN username is a token): hex reads better than a wall of \xNN.
  let binary = 0;
  for (let i = 0; i < n; i++) {
    const c = buf[offset + i];
    if (c < 0x20 || c >= 0x7f) binary++;
  }
  if (binary * 4 > n) return 'hex:' + hex(buf, offset, Math.min(n, 16)) + (length > 16 ? '…' : '');
  let out = '';
  for (let i = 0; i < n; i++) {
    const c = buf[offset + i];
    if (c >= 0x20 && c < 0x7f && c !== 0x5c) out += String.fromCharCode(c);
    else out += '\\x' + (c < 16 ? '0' : '') + c.toString(16);
  }
  return length > max ? out + '…' : out;
}

/** The same for a JS string (already decoded as latin1): cut to `max` characters, controls escaped. */
export function shortString(text: string, max = 128): string {
  const n = Math.min(text.length, max);
  let out = '';
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x5c) out += text[i];
    else out += '\\x' + (c < 16 ? '0' : '') + (c & 0xff).toString(16);
  }
  return text.length > max ? out + '…' : out;
}

/** Lower-case hex of buf[offset, offset + length). */
export function hex(buf: Buffer, offset: number, length: number): string {
  return buf.toString('hex', offset, offset + length);
}
