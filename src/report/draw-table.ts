/**
 * Draws the terminal tables (analyze's and the catalog command's): box borders, no line between
 * rows, cells wrapped into lines (by the caller, or here as cli-table3's `wordWrap` does) and
 * padded (or, a line too long for its column, cut with "…") to fixed column widths. The bytes are
 * cli-table3's for the same rows, widths and wrap option with the PLAIN chars below; cli-table3
 * stays the drawer of rows with text other than printable ASCII.
 *
 * Why not cli-table3 for every row: on a 3,000-row report (a scan's unexpected ports) it spent
 * ~0.9 s of CPU, on the 82-row catalog table ~1 s. Its layout looks for spanning cells over all the rows above every cell
 * (quadratic), and it measures each line several times with string-width, which builds the large
 * ANSI and emoji regular expressions anew at each call. A row's drawing depends only on its own
 * cells and the column widths (no spans, fixed widths, rows of one height each), so drawing the
 * plain rows here and any other row through cli-table3 alone gives the same text.
 * docs/decisions.md has the numbers.
 */
import { createRequire } from 'node:module';
import type CliTable3 from 'cli-table3';

/** cli-table3 is loaded when a table needs it, not imported: that costs ~30 ms at every startup. */
function cliTable3(): typeof CliTable3 {
  return createRequire(import.meta.url)('cli-table3') as typeof CliTable3;
}

/** Borders without a line between rows (nor under the head), and no colours. */
const PLAIN = {
  chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  style: { head: [], border: [] },
};

/**
 * Text whose terminal width is its length for string-width (what cli-table3 measures with): no
 * control character, no wide or zero-width one, no emoji, no ANSI sequence (those start at ESC).
 */
const PLAIN_ASCII = /^[\x20-\x7e\n]*$/;

/** A line in a column of `width` (one space of padding each side), as cli-table3 pads and cuts. */
function cellLine(line: string, width: number): string {
  const room = width - 2;
  const fitted =
    line.length > room ? line.slice(0, Math.max(0, room - 1)) + '…' : line + ' '.repeat(room - line.length);
  return ' ' + fitted + ' ';
}

/**
 * cli-table3's `wordWrap` (utils.js wordWrap, on word boundaries) for printable ASCII, where a
 * character is one column and the only white space is the space: words go on a line while they
 * fit `room`, a word longer than that stays whole on its own line (drawn cut), and an empty line
 * disappears, as there.
 */
function wordWrapLines(room: number, text: string): string[] {
  const out: string[] = [];
  for (const input of text.split('\n')) {
    const split = input.split(/( +)/);
    let line = '';
    let length = 0;
    let space = '';
    for (let i = 0; i < split.length; i += 2) {
      const word = split[i];
      const grown = length + word.length + (length > 0 ? space.length : 0);
      if (grown > room) {
        if (length !== 0) out.push(line);
        line = word;
        length = word.length;
      } else {
        // The space goes in even after an empty start, uncounted, as in cli-table3.
        line += space + word;
        length = grown;
      }
      space = split[i + 1] ?? '';
    }
    if (length > 0) out.push(line);
  }
  return out;
}

/** The lines of one row (cells of printable ASCII): as many as its tallest cell has. */
function plainRowLines(
  cells: readonly string[],
  widths: readonly number[],
  wordWrap: boolean,
  out: string[],
): void {
  const lines = cells.map((c, i) => (wordWrap ? wordWrapLines(widths[i] - 2, c) : c.split('\n')));
  let height = 1;
  for (const l of lines) if (l.length > height) height = l.length;
  for (let k = 0; k < height; k++) {
    let text = '│';
    for (let i = 0; i < widths.length; i++) {
      const line = lines[i]?.[k];
      text += (line === undefined ? ' '.repeat(widths[i]) : cellLine(line, widths[i])) + '│';
    }
    out.push(text);
  }
}

/** The lines of one row as cli-table3 draws it (a table of that row alone, without its borders). */
function cliTable3RowLines(
  cells: readonly string[],
  widths: readonly number[],
  wordWrap: boolean,
  out: string[],
): void {
  const t = new (cliTable3())({ colWidths: [...widths], wordWrap, ...PLAIN });
  t.push([...cells]);
  const lines = t.toString().split('\n');
  for (let k = 1; k < lines.length - 1; k++) out.push(lines[k]);
}

function border(widths: readonly number[], left: string, mid: string, right: string): string {
  return left + widths.map((w) => '─'.repeat(w)).join(mid) + right;
}

/** Draws a table: rows (the head first) of cells in columns of the given widths. */
export type TableDrawer = (
  rows: readonly (readonly string[])[],
  widths: readonly number[],
  wordWrap?: boolean,
) => string;

/**
 * A table of `rows` (the head first), each with one cell per column, in columns `widths` wide
 * (padding included, at least 1); a cell's lines are separated by "\n", and with `wordWrap`
 * each line is wrapped to its column as cli-table3's option of that name does.
 */
export function drawTable(
  rows: readonly (readonly string[])[],
  widths: readonly number[],
  wordWrap = false,
): string {
  const out = [border(widths, '┌', '┬', '┐')];
  for (const cells of rows) {
    if (cells.every((c) => PLAIN_ASCII.test(c))) plainRowLines(cells, widths, wordWrap, out);
    else cliTable3RowLines(cells, widths, wordWrap, out);
  }
  out.push(border(widths, '└', '┴', '┘'));
  return out.join('\n');
}
