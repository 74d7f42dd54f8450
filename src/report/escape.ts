/**
 * Text that came from packets (SNI, SIP headers, user agents, DHCP strings) is hostile until
 * escaped: a crafted hostname could carry terminal escape sequences or HTML. Every renderer
 * passes such text through one of these.
 */

/** For terminals and plain text: control characters (C0, DEL, C1) and lone surrogates become \xNN / \u{...}. */
export function escapeTerminal(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0)) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c >= 0xd800 && c <= 0xdfff) out += `\\u{${c.toString(16)}}`;
    else if (c === 0x5c) out += '\\\\';
    else out += ch;
  }
  return out;
}

/** For HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return escapeTerminal(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Shortens long text for table cells, keeping the start. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}
