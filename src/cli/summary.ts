/**
 * The run summary printed to stderr: one line for the totals, one per capture, one per problem.
 * The lines carry file names as given: they are escaped where they are written (run.ts).
 */
import type { CaptureSummary } from '../capture/reader.js';
import { LINK_NAMES } from '../decode/link.js';
import type { FlowTableStats } from '../flow/table.js';
import { wrap } from '../report/format.js';
import { terminalWidth } from '../report/table.js';
import { terminalLine } from '../report/escape.js';
import { faultLines, type RecognizerFaults } from '../recognize/faults.js';

/**
 * Counts with en-US thousands separators, as toLocaleString('en-US') prints them, without its
 * cost: the first toLocaleString call sets up ICU's number formatter, 10-20 ms of every run.
 */
function n(x: number): string {
  if (!Number.isInteger(x)) return x.toLocaleString('en-US');
  return String(x).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function describeCapture(c: CaptureSummary): string {
  const parts: string[] = [];
  if (c.format === 'unknown') parts.push('unreadable');
  else {
    parts.push(c.gzip ? `gzip ${c.format}` : c.format);
    if (c.format === 'pcap')
      parts.push(`${c.littleEndian ? 'little' : 'big'}-endian, ${c.timestampResolution} timestamps`);
    else if (c.sections !== undefined)
      // (Unknown when the read stopped inside the first section.)
      parts.push(
        `${c.sections} section${c.sections === 1 ? '' : 's'}, ${c.interfaces} interface${c.interfaces === 1 ? '' : 's'}`,
      );
    if (c.linkTypes.length > 0)
      parts.push(c.linkTypes.map((t) => LINK_NAMES[t] ?? `linktype ${t}`).join('+'));
  }
  parts.push(`${n(c.packets)} packets`);
  return `${c.name}: ${parts.join(', ')}`;
}

/**
 * `duplicates`: exact duplicate frames dropped before the flow table (they count as packets read);
 * `faults`: recogniser faults (a warning each; they cost flows' details, not packets or flows).
 * On a terminal (`width` given: COLUMNS or the terminal's), the totals and per-capture lines are
 * wrapped, continuations indented four more spaces, so the summary reads in an 80-column terminal
 * as the report does. Warning and error lines are never wrapped (one line each, for grep and for
 * scripts), nor is anything when stderr is a pipe or a file.
 */
export function summaryLines(
  captures: CaptureSummary[],
  stats: FlowTableStats,
  duplicates = 0,
  width: number | undefined = process.stderr.isTTY
    ? terminalWidth(process.env, process.stderr.columns)
    : undefined,
  faults?: RecognizerFaults,
): string[] {
  // Escaped first, so that the width counts what the terminal shows (an escaped control byte is
  // four characters), and a break never falls inside an escape.
  const lines = rawSummaryLines(captures, stats, duplicates, faults).map(terminalLine);
  if (width === undefined) return lines;
  return lines.flatMap((line) => {
    if (line.length <= width || /^(warning|error): /.test(line)) return [line];
    const lead = /^ */.exec(line)![0];
    return wrap(line.slice(lead.length), width, lead, lead + '    ');
  });
}

function rawSummaryLines(
  captures: CaptureSummary[],
  stats: FlowTableStats,
  duplicates: number,
  faults: RecognizerFaults | undefined,
): string[] {
  const lines: string[] = [];
  const warnings = captures.reduce((s, c) => s + c.warningCount, 0);
  const errors = captures.filter((c) => c.error !== undefined).length;
  const ended: string[] = [];
  if (stats.timedOut) ended.push(`${n(stats.timedOut)} timed out`);
  if (stats.closed) ended.push(`${n(stats.closed)} closed`);
  if (stats.reused) ended.push(`${n(stats.reused)} ended by port reuse`);
  ended.push(`${n(stats.evicted)} evicted by the ${n(stats.peakLiveFlows)}-flow peak`);
  lines.push(
    `lync-port-audit: ${n(stats.packets + duplicates)} packets, ${n(stats.flows)} flows (${ended.join(', ')}), ` +
      `${n(warnings)} warning${warnings === 1 ? '' : 's'}, ${n(errors)} error${errors === 1 ? '' : 's'}` +
      (faults !== undefined && faults.count > 0
        ? `, ${n(faults.count)} recogniser fault${faults.count === 1 ? '' : 's'}`
        : ''),
  );
  for (const c of captures) lines.push(`  ${describeCapture(c)}`);
  if (duplicates > 0)
    lines.push(
      `  ${n(duplicates)} exact duplicate frame${duplicates === 1 ? '' : 's'} dropped (a mirror of both directions; --keep-duplicates counts them)`,
    );
  const skipped: string[] = [];
  if (stats.notIp) skipped.push(`${n(stats.notIp)} not IP`);
  if (stats.truncated) skipped.push(`${n(stats.truncated)} cut before their headers`);
  if (stats.malformed) skipped.push(`${n(stats.malformed)} malformed`);
  if (stats.unknownLink)
    skipped.push(
      `${n(stats.unknownLink)} of unknown link type ` +
        [...stats.unknownLinkTypes.keys()].map((t) => String(t)).join(', '),
    );
  if (stats.fragmentsUnattributed)
    skipped.push(`${n(stats.fragmentsUnattributed)} IP fragments without their first fragment`);
  if (skipped.length > 0) lines.push(`  packets not in any flow: ${skipped.join(', ')}`);
  lines.push(...faultLines(faults));
  for (const c of captures) {
    if (c.stopped === true)
      lines.push(
        `partial: ${c.name}: the read stopped at byte ${n(c.bytesRead)}, after ${n(c.packets)} packets; the report covers those`,
      );
    for (const w of c.warnings) lines.push(`warning: ${c.name}: byte ${w.offset}: ${w.problem}`);
    if (c.warningCount > c.warnings.length)
      lines.push(`warning: ${c.name}: ${n(c.warningCount - c.warnings.length)} more warnings like these`);
    if (c.error)
      lines.push(
        `error: ${c.error.message}${c.packets > 0 ? ` (the ${n(c.packets)} packets before it were read)` : ''}`,
      );
  }
  return lines;
}
