/**
 * Text that came from packets (SNI, SIP headers, user agents, DHCP strings) is hostile until
 * escaped: a crafted hostname could carry terminal escape sequences or HTML. Every renderer
 * passes such text through one of these.
 */

/**
 * Bidirectional formatting controls (Unicode UAX #9 section 2: LRE, RLE, PDF, LRO, RLO, LRI, RLI,
 * FSI, PDI, LRM, RLM, ALM) and the line and paragraph separators: a terminal or an editor
 * reorders or breaks the text around them, so a name can show something else than it is
 * ("Trojan Source", CVE-2021-42574).
 */
const INVISIBLE_FORMATTING = /[\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** True for the code points escapeTerminal and terminalLine escape. */
function unsafeForTerminal(c: number): boolean {
  return (
    c < 0x20 ||
    c === 0x7f ||
    (c >= 0x80 && c < 0xa0) ||
    (c >= 0xd800 && c <= 0xdfff) ||
    ((c === 0x061c || c >= 0x200e) && c <= 0x2069 && INVISIBLE_FORMATTING.test(String.fromCharCode(c)))
  );
}

function escapeCodePoint(c: number): string {
  return c < 0x100 ? '\\x' + c.toString(16).padStart(2, '0') : `\\u{${c.toString(16)}}`;
}

/**
 * For terminals and plain text: control characters (C0, DEL, C1), lone surrogates and the bidi
 * and line-separator controls become \xNN / \u{...}; a backslash is doubled, so the result reads
 * back unambiguously.
 */
export function escapeTerminal(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (unsafeForTerminal(c)) out += escapeCodePoint(c);
    else if (c === 0x5c) out += '\\\\';
    else out += ch;
  }
  return out;
}

/**
 * For the lines the CLI writes to stderr (summaries, warnings, errors), which carry file names
 * and packet text inside our own words: the same controls as escapeTerminal become \xNN, except
 * the newline between lines; backslashes stay as they are (a Windows path reads as typed, and text
 * already escaped is not escaped twice). Fast when there is nothing to escape.
 */
export function terminalLine(text: string): string {
  if (!TERMINAL_UNSAFE.test(text)) return text;
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    out += c !== 0x0a && unsafeForTerminal(c) ? escapeCodePoint(c) : ch;
  }
  return out;
}

const TERMINAL_UNSAFE =
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\ud800-\udfff\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

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
