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

/**
 * toJson's text in pieces of about `size` characters (report/output.ts writes them as the output
 * drains): jsonPieces joined in batches, each escaped as toJson escapes the whole.
 */
export function toJsonPieces(value: unknown, indent?: number): Generator<string> {
  return batchedText(jsonPieces(value, indent), escapeJsonText);
}

/** A --format json report, `toJson(value, 2) + "\n"`, in pieces. */
export function* jsonReportPieces(value: unknown): Generator<string> {
  yield* toJsonPieces(value, 2);
  yield '\n';
}

/** Characters per batch of batchedText. */
export const BATCH_CHARS = 64 * 1024;

/**
 * Joins pieces of text into batches of at least `size` characters (the last one may be shorter),
 * each passed through `transform`, which must give the same text applied to any split of its input
 * (as escapeJsonText does): one call per batch instead of one per piece.
 */
export function* batchedText(
  pieces: Iterable<string>,
  transform: (text: string) => string = (text) => text,
  size = BATCH_CHARS,
): Generator<string> {
  let batch = '';
  for (const piece of pieces) {
    batch += piece;
    if (batch.length >= size) {
      yield transform(batch);
      batch = '';
    }
  }
  if (batch.length > 0) yield transform(batch);
}

/** True for what jsonPieces writes member by member: arrays and plain objects (no toJSON of their own). */
function isContainer(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  if (Array.isArray(value)) return true;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The text of `JSON.stringify(value, null, indent)` in pieces that join to exactly that text, so
 * that a report of a million flows is written out a piece at a time and never held as one string
 * (docs/decisions.md, "analyze memory"). The top-level value and every object's members are
 * written member by member; each element of an array (a flow, a role, a call, a note) is one
 * piece, JSON.stringify's own text of it re-indented to its depth: inside that text a newline is
 * only ever structure (a newline in a string is written \n), so an indent after every newline is
 * exact. JSON.stringify's rules hold (ECMA-262 section 25.5.2.2 SerializeJSONProperty): a member
 * whose value has no JSON text (undefined, a function, a symbol) is left out, an array element
 * without one is null, an empty object or array is {} or [], and a value with a toJSON method is
 * written whole (JSON.stringify calls it with "" as its key rather than the member's name).
 * The pieces are not escaped for terminals: escapeJsonText replaces single UTF-16 code units, so
 * applied to batches of pieces it gives the same text as applied to the whole.
 */
export function* jsonPieces(value: unknown, indent = 0): Generator<string> {
  const gap = ' '.repeat(Math.max(0, Math.min(10, Math.floor(indent))));
  if (isContainer(value)) yield* containerPieces(value, '', gap);
  else {
    const text = leafText(value, '', gap);
    if (text !== undefined) yield text;
  }
}

/** JSON.stringify's text of `value` written at the indent `at` (undefined when it has none). */
function leafText(value: unknown, at: string, gap: string): string | undefined {
  const text = JSON.stringify(value, null, gap) as string | undefined;
  return text === undefined || at === '' ? text : text.replace(/\n/g, '\n' + at);
}

function* containerPieces(value: object, outer: string, gap: string): Generator<string> {
  const inner = outer + gap;
  const open = gap === '' ? '' : '\n' + inner;
  const sep = gap === '' ? ',' : ',\n' + inner;
  const close = gap === '' ? '' : '\n' + outer;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++)
      yield (i === 0 ? '[' + open : sep) + (leafText(value[i], inner, gap) ?? 'null');
    yield value.length === 0 ? '[]' : close + ']';
    return;
  }
  const colon = gap === '' ? ':' : ': ';
  let first = true;
  for (const key of Object.keys(value)) {
    const member: unknown = (value as Record<string, unknown>)[key];
    const lead = (first ? '{' + open : sep) + JSON.stringify(key) + colon;
    if (isContainer(member)) {
      yield lead;
      yield* containerPieces(member, inner, gap);
    } else {
      const text = leafText(member, inner, gap);
      if (text === undefined) continue;
      yield lead + text;
    }
    first = false;
  }
  yield first ? '{}' : close + '}';
}
