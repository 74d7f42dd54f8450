/**
 * The terminal report of `compare`: what each capture held, the clock offset between them, then
 * every flow whose packets did not simply pass (where they died, with the frames in each capture
 * and a Wireshark filter), then the per-role report of `analyze` (report/table.ts) over the flows
 * counted once, whose reasons say the segment.
 */
import type { ComparedFlow, Comparison, Point } from '../compare/types.js';
import { CONNECTIVITY_PROBLEMS, isProblem } from '../verdict/types.js';
import { escapeTerminal } from './escape.js';
import { endpoint, formatTime, glue, plural, wrap } from './format.js';
import { problemRank, renderTable, DEFAULT_WIDTH, type TableOptions } from './table.js';

/** Flows whose path finding is worth reading, most urgent first. */
export function pathProblems(flows: readonly ComparedFlow[]): ComparedFlow[] {
  const quiet = new Set(['passed', 'local', 'outside-other-capture']);
  return flows
    .filter((f) => !quiet.has(f.path.finding) || CONNECTIVITY_PROBLEMS.has(f.verdict))
    .filter((f) => !(f.proto === 'icmp' && f.icmp_quote !== undefined))
    .sort(
      (x, y) =>
        (isProblem(x.verdict) ? problemRank(x.verdict) : 3) -
          (isProblem(y.verdict) ? problemRank(y.verdict) : 3) || x.ts - y.ts,
    );
}

function frames(f: ComparedFlow, p: Point): string {
  const s = f[p];
  if (!s) return `${p}: not seen`;
  return s.first_frame === s.last_frame
    ? `${p}: frame ${s.first_frame}`
    : `${p}: frames ${s.first_frame}-${s.last_frame}`;
}

export function renderCompareTable(c: Comparison, options: TableOptions = {}): string {
  const width = Math.max(40, options.width ?? DEFAULT_WIDTH);
  const out: string[] = [];
  const say = (text: string, first = '', indent = first + '  '): void => {
    out.push(...wrap(text, width, first, indent));
  };
  const info = c.compare;
  say(`${c.summary.tool.name} ${c.summary.tool.version} compare`, '', '  ');
  for (const p of ['a', 'b'] as const) {
    const s = info[p];
    const span =
      s.first_ts !== null && s.last_ts !== null
        ? `, ${formatTime(s.first_ts)} → ${formatTime(s.last_ts)}`
        : '';
    say(
      `${p}: ${escapeTerminal(s.name)} (${s.side} side): ${plural(s.packets, 'packet')}, ${plural(s.flows, 'flow')}${span}`,
      '  ',
    );
  }
  say(info.clock_text, '  ');
  const m = info.matched;
  const byHow = [
    m['5-tuple'] ? `${m['5-tuple']} by 5-tuple` : '',
    m['nat-mapping'] ? `${m['nat-mapping']} by --nat` : '',
    m['nat-fingerprint'] ? `${m['nat-fingerprint']} across a NAT by what it keeps` : '',
  ].filter((x) => x);
  say(
    `flows: ${plural(m['5-tuple'] + m['nat-mapping'] + m['nat-fingerprint'], 'flow')} seen at both points${byHow.length ? ` (${byHow.join(', ')})` : ''}, ${info.only_a} only at a, ${info.only_b} only at b; each is counted once below`,
    '  ',
  );
  if (info.nat.length > 0) say(`--nat: ${info.nat.map(escapeTerminal).join(', ')}`, '  ');
  out.push('');
  const listed = pathProblems(c.flows);
  if (listed.length > 0) {
    say(`WHERE THE PACKETS DIED (${plural(listed.length, 'flow')})`);
    for (const f of listed) {
      const from = glue(`${endpoint(f.orig_h, f.orig_p)}${f.orig_role ? ` (${f.orig_role})` : ''}`);
      const to = glue(`${endpoint(f.resp_h, f.resp_p)}${f.resp_role ? ` (${f.resp_role})` : ''}`);
      say(`${f.verdict}  ${f.proto.toUpperCase()} ${from} → ${to} [${f.path.finding}]`, '  ', '      ');
      say(escapeTerminal(f.path.text), '      ', '        ');
      const lost: string[] = [];
      if (f.lost_a_to_b > 0)
        lost.push(`lost a→b ${f.lost_a_to_b} (first: frame ${f.lost_a_to_b_first_frame} of a)`);
      if (f.lost_b_to_a > 0)
        lost.push(`lost b→a ${f.lost_b_to_a} (first: frame ${f.lost_b_to_a_first_frame} of b)`);
      say(
        `${frames(f, 'a')}, ${frames(f, 'b')}${lost.length ? `; ${lost.join(', ')}` : ''}`,
        '      ',
        '        ',
      );
      for (const p of ['a', 'b'] as const) {
        const filter = f[p]?.display_filter;
        if (filter !== undefined) say(`wireshark (${p}): ${filter}`, '      ', '        ');
      }
    }
    out.push('');
  } else {
    say('Every flow seen at both points passed between them: nothing was lost on the way.');
    out.push('');
  }
  out.push(renderTable(c, options));
  return out.join('\n');
}
