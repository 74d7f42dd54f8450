/**
 * The part of a merged report (`analyze --each`, `merge`) that a single capture's report has not:
 * one line per capture, and per failing port which captures failed there ("which clients fail
 * where"). The per-role tables follow it, rendered by table.ts from the merged analysis.
 */
import type { MergedAnalysis } from '../verdict/merge.js';
import { clip, escapeTerminal } from './escape.js';
import { plural, portLabel } from './format.js';

function count(n: number): string {
  return n.toLocaleString('en-US');
}

export function renderCaptures(merged: MergedAnalysis, width = 100): string {
  const caps = merged.captures;
  const failed = caps.filter((c) => c.error !== undefined).length;
  const withProblems = caps.filter((c) => c.problems > 0).length;
  const lines: string[] = [];
  lines.push(
    `${plural(caps.length, 'capture')} analysed one by one and merged per role: ` +
      `${count(withProblems)} with problems${failed > 0 ? `, ${count(failed)} unreadable or cut short` : ''}`,
  );
  const nameWidth = Math.min(40, Math.max(7, ...caps.map((c) => escapeTerminal(c.name).length)));
  const num = (s: string, w: number): string => s.padStart(w);
  lines.push(
    `  ${'capture'.padEnd(nameWidth)} ${num('packets', 10)} ${num('flows', 8)} ${num('problems', 8)}  failing`,
  );
  for (const c of caps) {
    const name = clip(escapeTerminal(c.name), nameWidth).padEnd(nameWidth);
    const failing = c.error !== undefined ? `error: ${escapeTerminal(c.error)}` : c.failing.join('; ') || '-';
    const head = `  ${name} ${num(count(c.packets), 10)} ${num(count(c.flows), 8)} ${num(count(c.problems), 8)}  `;
    lines.push(head + clip(failing, Math.max(20, width - head.length)));
  }
  const rows = merged.roles.flatMap((r) =>
    r.rows.filter((row) => row.status === 'problem').map((row) => ({ role: r.role, row })),
  );
  if (rows.length > 0) {
    lines.push('', 'WHERE IT FAILS: per failing port, the captures that failed there');
    for (const { role, row } of rows) {
      const names = row.failing_captures.map(escapeTerminal).join(', ');
      const more =
        row.failing_capture_count > row.failing_captures.length
          ? `, and ${count(row.failing_capture_count - row.failing_captures.length)} more`
          : '';
      lines.push(`  FAIL  ${role}  ${portLabel(row.transport, row.ports)}  ${escapeTerminal(row.service)}`);
      lines.push(
        `        in ${count(row.failing_capture_count)} of ${plural(caps.length, 'capture')}: ${names}${more}`,
      );
    }
  }
  return lines.join('\n') + '\n\n';
}
