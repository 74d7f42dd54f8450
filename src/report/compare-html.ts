/**
 * The HTML report of `compare`: the page of `analyze` (report/html.ts) over the flows counted
 * once, with a section after the headline sentence that says what each capture held, the clock
 * offset, and where each failing flow's packets died. Self-contained as that page is; every text
 * is escaped.
 */
import type { Comparison } from '../compare/types.js';
import { escapeHtml as h } from './escape.js';
import { endpoint, formatTime, plural } from './format.js';
import { htmlPieces, type HtmlOptions } from './html.js';
import { pathProblems } from './compare-table.js';

function compareSection(c: Comparison): string {
  const info = c.compare;
  const captures = (['a', 'b'] as const)
    .map((p) => {
      const s = info[p];
      const span =
        s.first_ts !== null && s.last_ts !== null
          ? `${formatTime(s.first_ts)} → ${formatTime(s.last_ts)}`
          : 'no packets';
      return `<tr><th>${p}</th><td>${h(s.name)}</td><td>${s.side} side</td><td>${h(plural(s.packets, 'packet'))}, ${h(plural(s.flows, 'flow'))}</td><td>${h(span)}</td></tr>`;
    })
    .join('');
  const offset = c.compare.clock_text;
  const rows = pathProblems(c.flows)
    .map((f) => {
      const where = (['a', 'b'] as const)
        .map((p) => {
          const s = f[p];
          if (!s) return `${p}: not seen`;
          const fr =
            s.first_frame === s.last_frame
              ? `frame ${s.first_frame}`
              : `frames ${s.first_frame}-${s.last_frame}`;
          return `${p}: ${fr}${s.display_filter !== undefined ? ` <code>${h(s.display_filter)}</code>` : ''}`;
        })
        .join('<br>');
      return `<tr><td>${h(f.verdict)}</td><td>${h(`${f.proto.toUpperCase()} ${endpoint(f.orig_h, f.orig_p)} → ${endpoint(f.resp_h, f.resp_p)}`)}</td><td>${h(f.path.finding)}</td><td>${f.lost_a_to_b}</td><td>${f.lost_b_to_a}</td><td>${f.injected ? 'yes' : 'no'}</td><td>${h(f.path.text)}</td><td>${where.replace(/<br>/g, '<br>')}</td></tr>`;
    })
    .join('\n');
  const table =
    rows.length > 0
      ? `<table class="plain"><tr><th>Verdict</th><th>Flow</th><th>Finding</th><th>Lost a→b</th><th>Lost b→a</th><th>Injected</th><th>Where</th><th>Frames</th></tr>\n${rows}</table>`
      : '<p>Every flow seen at both points passed between them: nothing was lost on the way.</p>';
  return `<section id="compare"><h2>Two captures compared</h2>
<table class="plain">${captures}</table>
<p class="muted">${h(offset)}</p>
<h3>Where the packets died</h3>
${table}</section>
`;
}

/** The page as one string (the library's API; the CLI writes compareHtmlPieces as its output drains). */
export function renderCompareHtml(c: Comparison, options: HtmlOptions = {}): string {
  return [...compareHtmlPieces(c, options)].join('');
}

/** The page in pieces (html.ts htmlPieces), the comparison right after the headline sentence: it is what this page is about. */
export function compareHtmlPieces(c: Comparison, options: HtmlOptions = {}): Generator<string> {
  return htmlPieces(c, options, `\n${compareSection(c)}`);
}
