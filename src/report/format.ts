/** Small formatting helpers shared by the renderers. */

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** "1 flow", "2 flows", "1,024 flows"; `many` for irregular plurals ("1 reply", "2 replies"). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** ISO-like UTC time with seconds, e.g. 2026-11-26 10:00:05Z. */
export function formatTime(ts: number): string {
  if (!Number.isFinite(ts)) return '-';
  const d = new Date(Math.round(ts * 1000));
  if (Number.isNaN(d.getTime())) return String(ts);
  return d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

export function portLabel(transport: string, ports: string): string {
  const t = transport === 'both' ? 'TCP/UDP' : transport.toUpperCase();
  return `${t} ${ports}`;
}

export { endpoint } from '../flow/endpoint.js';

/** An escape of report/escape.ts (`\\`, `\xNN`, `\u{...}`) or any other code point. */
const UNIT = /\\(?:x[0-9a-f]{2}|u\{[0-9a-f]+\}|\\)|[^]/guy;

/**
 * Where to break a word too long for `room` columns: at `room`, or before the escape that would
 * straddle it (so that `\x1b` is never printed as `\x` and `1b` on two lines), at least one unit in.
 */
function breakPoint(word: string, room: number): number {
  if (!word.includes('\\')) return room;
  UNIT.lastIndex = 0;
  let end = 0;
  for (let m = UNIT.exec(word); m !== null; m = UNIT.exec(word)) {
    const next = end + m[0].length;
    if (next > room) return end > 0 ? end : next;
    end = next;
  }
  return end;
}

/**
 * Wraps text to `width` columns at spaces; a word longer than a line (a hex transaction id, a long
 * host name) is broken, never cut, so nothing is lost. The first line starts with `first`, later
 * lines with `indent`.
 */
export function wrap(text: string, width: number, first = '', indent = first): string[] {
  const lines: string[] = [];
  let line = '';
  const room = (): number => Math.max(1, width - (lines.length === 0 ? first : indent).length);
  const push = (): void => {
    lines.push((lines.length === 0 ? first : indent) + line);
    line = '';
  };
  for (const word of text.split(' ')) {
    let w = word;
    for (;;) {
      const sep = line.length > 0 ? 1 : 0;
      if (line.length + sep + w.length <= room()) {
        line += (sep ? ' ' : '') + w;
        break;
      }
      if (line.length > 0) {
        push();
        continue;
      }
      // Alone on its line and still too long: break the word, never inside an escape.
      line = w.slice(0, breakPoint(w, room()));
      w = w.slice(line.length);
      push();
      if (w.length === 0) break;
    }
  }
  if (line.length > 0 || lines.length === 0) push();
  return lines.map((l) => l.replaceAll(GLUE, ' '));
}

const GLUE = '\u00a0';

/** Keeps a phrase on one line when wrapped ("TCP 5067", an endpoint with its role). */
export function glue(text: string): string {
  return text.replaceAll(' ', GLUE);
}
