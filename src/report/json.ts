/**
 * JSON and NDJSON text for terminals and pipes. JSON.stringify escapes C0 controls, quotes,
 * backslashes and lone surrogates (ECMA-262 section 25.5.2.3 QuoteJSONString) but leaves DEL,
 * the C1 controls (U+0080-U+009F: U+009B is a one-byte CSI to many terminals), U+2028/U+2029 and
 * the bidi controls (U+202E reverses the text after it) as they are, so `cat report.json` or
 * `jq . report.json` would hand packet text raw to the terminal. These become \uXXXX: still
 * valid JSON (RFC 8259 section 7 allows any character escaped), parsing to the same data.
 */

/** The code points escaped, as in escape.ts plus DEL (all can only occur inside JSON strings). */
const UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function unicodeEscape(c: string): string {
  return '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
}

/**
 * Escapes those code points in JSON text (one document or many NDJSON lines). Outside strings
 * JSON has only ASCII structure, so every match is inside a string, where \uXXXX means the same.
 */
export function escapeJsonText(json: string): string {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(json) ? json.replace(UNSAFE, unicodeEscape) : json;
}

/** JSON.stringify for output: the same document, with the terminal-unsafe characters escaped. */
export function toJson(value: unknown, indent?: number): string {
  return escapeJsonText(JSON.stringify(value, null, indent));
}
