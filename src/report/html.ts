/**
 * The HTML report: one self-contained file that opens from a mail attachment or a ticket. No
 * network access at all: the Content-Security-Policy allows only the page's own inline style and
 * script, by SHA-256 hash, and nothing else (no fetch, no images from elsewhere, no forms). The
 * first screen says the verdict in one sentence and shows the problems as cards; then the role x
 * port matrix, the timeline, the call ladders and the flow table (filled by the page script from
 * an embedded JSON block). Every text from packets goes through escapeHtml here, and through
 * textContent in the script.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { CallMedia } from '../recognize/calls.js';
import type { Analysis } from '../verdict/analysis.js';
import { VERDICTS, isProblem, type JudgedFlow } from '../verdict/types.js';
import type { PageData, Row } from './browser/data.js';
import { escapeHtml as h } from './escape.js';
import { batchedText, jsonPieces } from './json.js';
import { formatCount, formatDuration, formatTime, plural } from './format.js';
import {
  STATUSES,
  buildPageModel,
  flowKeys,
  verdictStatus,
  type Card,
  type Ladder,
  type MatrixRole,
  type ModelOptions,
  type PageModel,
  type Status,
  type Timeline,
} from './html-model.js';
import { PAGE_STYLE } from './html-style.js';
import type { HostGroup } from './cidr.js';
import { problemRank } from './table.js';

export type HtmlOptions = ModelOptions;

const PAGE_SCRIPT_BUILT = new URL('../report/html-page.js', import.meta.url);
const PAGE_SCRIPT_SOURCE = new URL('./browser/page.ts', import.meta.url);
let pageScriptText: string | undefined;

/**
 * The page script: built by `npm run build` (scripts/build-html-page.mjs) next to the compiled
 * report; when running from the sources (tests), esbuild compiles it once on first use.
 */
export function pageScript(): string {
  if (pageScriptText !== undefined) return pageScriptText;
  try {
    pageScriptText = readFileSync(PAGE_SCRIPT_BUILT, 'utf8');
  } catch {
    const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
    const out = esbuild.buildSync({
      entryPoints: [fileURLToPath(PAGE_SCRIPT_SOURCE)],
      bundle: true,
      minify: true,
      format: 'iife',
      target: 'es2020',
      write: false,
    });
    pageScriptText = out.outputFiles[0].text;
  }
  return pageScriptText;
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * JSON text made safe inside a <script type="application/json"> element: no "</script>", no
 * comment openers, no line separators. Each replaced character is one UTF-16 code unit written
 * \uXXXX (the same JSON), so this gives the same text applied to any split of the JSON.
 */
function scriptSafe(json: string): string {
  return json
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The page data as the <script type="application/json"> element holds it, in pieces (jsonPieces), each made scriptSafe. */
export function jsonForScriptPieces(value: unknown): Generator<string> {
  return batchedText(jsonPieces(value), scriptSafe);
}

function icon(status: Status): string {
  return `<span class="icon" aria-hidden="true">${STATUSES[status].icon}</span>`;
}

function badge(status: Status, text = STATUSES[status].label): string {
  return `<span class="badge st-${status}">${icon(status)}${h(text)}</span>`;
}

function verdictCounts(v: Partial<Record<string, number>>): string {
  return [...VERDICTS, 'failed']
    .filter((k) => (v[k] ?? 0) > 0)
    .map((k) => `${h(k)} ${formatCount(v[k]!)}`)
    .join(', ');
}

function groups(list: readonly HostGroup[], total: number, max = 6): string {
  const shown = list
    .slice(0, max)
    .map((g) => (g.hosts > 1 ? `${h(g.label)} (${plural(g.hosts, 'host')})` : h(g.label)));
  const rest = list.slice(max).reduce((n, g) => n + g.hosts, 0);
  if (rest > 0) shown.push(`${plural(rest, 'more host')}`);
  const text = shown.join(', ');
  return total > 1 ? `${text} <span class="muted">(${plural(total, 'host')})</span>` : text;
}

/** Generated text for a <pre>: lines and tabs kept, every line escaped like any other text. */
function preText(text: string): string {
  return text
    .replace(/\t/g, '    ')
    .split('\n')
    .map((line) => h(line))
    .join('\n');
}

function copyButton(target: string): string {
  return `<button type="button" class="copy" data-copy="${h(target)}">Copy</button>`;
}

function cardHtml(c: Card): string {
  const since =
    c.since !== undefined
      ? `${h(formatTime(c.since))}${c.until !== undefined && c.until - c.since >= 1 ? ` to ${h(formatTime(c.until))}` : ''}`
      : 'unknown';
  const frames =
    c.firstFrame !== undefined
      ? ` <span class="muted">(frames ${c.firstFrame} to ${c.lastFrame})</span>`
      : '';
  const rules =
    c.rules.length > 0
      ? `<details class="rules"><summary>Firewall rules (${c.rules.map((r) => h(r.format)).join(', ')})</summary>${c.rules
          .map(
            (r, i) =>
              `<p>${h(r.format)} ${copyButton(`${c.id}-rule-${i}`)}</p><pre><code id="${c.id}-rule-${i}">${preText(r.text)}</code></pre>`,
          )
          .join('')}</details>`
      : '';
  return `<article class="card st-${c.status}" id="${c.id}">
<h3>${icon(c.status)} ${h(c.title)} <span class="muted">${h(c.service)}</span></h3>
<dl>
<dt>What</dt><dd>${badge(c.status)} ${verdictCounts(c.verdicts)} <span class="muted">(${plural(c.flows, 'flow')})</span></dd>
<dt>Who</dt><dd>${groups(c.affected, c.affectedCount)}</dd>
<dt>Since</dt><dd>${since}${frames}</dd>
<dt>Why</dt><dd>${h(c.reason)}<br><span class="muted">${h(c.advice)}</span></dd>
<dt>Change</dt><dd>${h(c.change)}${rules}</dd>
<dt>Wireshark</dt><dd><code id="${c.id}-filter">${h(c.filter)}</code> ${copyButton(`${c.id}-filter`)}</dd>
</dl>
<div class="actions"><button type="button" data-key="${h(c.key)}" data-label="${h(c.title)}">Show the flows</button></div>
</article>`;
}

function sentenceStatus(m: PageModel): Status {
  if (m.judged === 0) return 'seen';
  if (m.cards.some((c) => c.status === 'fail' || c.status === 'app')) return 'fail';
  if (m.cards.some((c) => c.status === 'unexpected')) return 'unexpected';
  return 'ok';
}

function legendHtml(): string {
  const items = (Object.keys(STATUSES) as Status[]).map(
    (s) =>
      `<div><span class="swatch st-${s}"></span>${badge(s)} <span class="muted">${h(STATUSES[s].meaning)}</span></div>`,
  );
  return `<section id="legend"><h2>How to read this page</h2>
<div class="legend">${items.join('')}</div>
<p class="muted">Each status has its own icon and fill pattern as well as its colour. The <b>cards</b> are the problems to fix, most severe first.
The <b>matrix</b> has a row per role and a cell per catalog port of that role (in: the role listens; out: the role connects), with the number of flows; click a cell to list its flows.
The <b>timeline</b> shows flows per pair of roles over the capture, problems in the failure colour and marked ✕.
The <b>calls</b> show each plaintext SIP dialog as a ladder and whether its media flowed each way.
The <b>flow table</b> filters and sorts every listed flow; click a row for its details and a Wireshark filter (frame numbers are the capture's).</p>
</section>`;
}

function matrixHtml(matrix: readonly MatrixRole[]): string {
  const rows = matrix.map((r) => {
    const cells = r.cells.map((c) => {
      const n =
        c.flows > 0
          ? `${plural(c.flows, 'flow')}${c.status !== 'ok' ? `: ${verdictCounts(c.verdicts)}` : ''}`
          : 'never seen';
      const title = `${c.label} ${c.direction === 'inbound' ? 'in' : 'out'}: ${c.service}${c.optional ? ' (optional)' : ''} — ${STATUSES[c.status].label}`;
      const attrs =
        c.flows > 0
          ? `data-key="${h(c.key)}" data-label="${h(`${c.label} ${c.direction === 'inbound' ? 'to' : 'from'} ${r.role}`)}"`
          : 'disabled';
      return `<button type="button" class="cell st-${c.status}" ${attrs} title="${h(title)}"><span class="port">${icon(c.status)} ${h(c.label)} <span class="muted">${c.direction === 'inbound' ? 'in' : 'out'}</span></span><span class="n">${n}</span></button>`;
    });
    const counts = (Object.keys(STATUSES) as Status[])
      .filter((s) => (r.counts[s] ?? 0) > 0)
      .map((s) => `${icon(s)}${r.counts[s]}`)
      .join(' ');
    return `<tr><th scope="row">${h(r.role)}<br><span class="muted">${groups(r.hosts, r.hostCount, 3)}</span><br><span class="st-counts">${counts}</span></th><td><div class="cells">${cells.join('')}</div></td></tr>`;
  });
  return `<section id="matrix"><h2>Roles × required ports</h2><table class="matrix">${rows.join('')}</table></section>`;
}

function timelineHtml(t: Timeline | null): string {
  if (t === null) return '';
  const left = 230;
  const width = 960;
  const plot = width - left - 10;
  const laneH = 30;
  const top = 8;
  const height = top + t.lanes.length * laneH + 30;
  const binW = plot / t.bins;
  const max = Math.max(1, ...t.lanes.flatMap((l) => l.total));
  const x = (ts: number): number => left + ((ts - t.start) / Math.max(t.end - t.start, 1e-6)) * plot;
  const parts: string[] = [];
  t.lanes.forEach((lane, i) => {
    const y = top + i * laneH;
    parts.push(
      `<rect class="lane" x="${left}" y="${y}" width="${plot}" height="${laneH - 4}"/>`,
      `<text x="${left - 8}" y="${y + 17}" text-anchor="end">${h(lane.label)} (${formatCount(lane.flows)})</text>`,
    );
    lane.total.forEach((n, b) => {
      if (n === 0) return;
      const bh = Math.max(3, Math.round((Math.sqrt(n) / Math.sqrt(max)) * (laneH - 6)));
      const p = lane.problems[b];
      const bx = (left + b * binW).toFixed(1);
      const w = Math.max(1.5, binW - 1).toFixed(1);
      parts.push(
        `<rect class="bar-ok" x="${bx}" y="${y + laneH - 4 - bh}" width="${w}" height="${bh}"><title>${formatCount(n)} flows, ${formatCount(p)} problems</title></rect>`,
      );
      if (p > 0) {
        const ph = Math.max(3, Math.round((p / n) * bh));
        parts.push(
          `<rect class="bar-fail" x="${bx}" y="${y + laneH - 4 - ph}" width="${w}" height="${ph}"><title>${formatCount(p)} problem flows</title></rect>`,
          `<text class="mark" x="${(left + b * binW + binW / 2).toFixed(1)}" y="${y + 10}" text-anchor="middle">✕</text>`,
        );
      }
    });
    if (lane.firstFailure !== undefined) {
      const fx = x(lane.firstFailure);
      parts.push(
        `<text class="mark" x="${Math.min(fx + 6, width - 150).toFixed(1)}" y="${y + 21}">first failure ${h(formatTime(lane.firstFailure).slice(11))}</text>`,
      );
    }
  });
  const axisY = top + t.lanes.length * laneH + 4;
  parts.push(`<line class="axis" x1="${left}" y1="${axisY}" x2="${left + plot}" y2="${axisY}"/>`);
  for (let k = 0; k <= 4; k++) {
    const ts = t.start + ((t.end - t.start) * k) / 4;
    const tx = left + (plot * k) / 4;
    parts.push(
      `<text class="tmuted" x="${tx.toFixed(1)}" y="${axisY + 16}" text-anchor="${k === 0 ? 'start' : k === 4 ? 'end' : 'middle'}">${h(formatTime(ts).slice(11))}</text>`,
    );
  }
  return `<section id="timeline"><h2>Timeline</h2>
<p class="muted">Flows by the time they started, per pair of roles (originator → responder), in ${t.bins} slices of ${h(formatDuration((t.end - t.start) / t.bins))}; bar height grows with the number of flows, the failure-coloured part and ✕ are problems.</p>
<div class="scroll-x"><svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Flows over time per role pair">${parts.join('')}</svg></div></section>`;
}

/** 10:02:00.125: the ladder's messages are often milliseconds apart. */
function clockMs(ts: number): string {
  const d = new Date(Math.round(ts * 1000));
  return Number.isNaN(d.getTime()) ? '-' : d.toISOString().slice(11, 23);
}

function ladderHtml(l: Ladder, index: number): string {
  const c = l.call;
  const colW = 250;
  const left = 90;
  const width = left + Math.max(2, l.parties.length) * colW;
  const rowH = 26;
  const top = 44;
  const height = top + l.messages.length * rowH + 16;
  const px = (i: number): number => left + colW / 2 + i * colW;
  const parts: string[] = [
    `<defs><marker id="arrow-${index}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path class="arrow" d="M0,0L10,5L0,10z"/></marker></defs>`,
  ];
  l.parties.forEach((p, i) => {
    parts.push(
      `<text x="${px(i)}" y="16" text-anchor="middle">${h(p.endpoint)}</text>`,
      `<text class="tmuted" x="${px(i)}" y="32" text-anchor="middle">${h(p.role ?? 'no role')}</text>`,
      `<line class="life" x1="${px(i)}" y1="38" x2="${px(i)}" y2="${height - 4}"/>`,
    );
  });
  l.messages.forEach((m, k) => {
    const y = top + k * rowH + 14;
    const status = /^(\d{3}) /.exec(m.line);
    const fail = status !== null && Number(status[1]) >= 400;
    const x1 = px(m.from);
    const x2 = px(m.to);
    parts.push(
      `<text class="tmuted" x="4" y="${y - 3}">${h(clockMs(m.ts))}</text>`,
      `<line class="${fail ? 'msg msg-fail' : 'msg'}" x1="${x1}" y1="${y}" x2="${x2}" y2="${y}" marker-end="url(#arrow-${index})"/>`,
      `<text x="${(x1 + x2) / 2}" y="${y - 4}" text-anchor="middle">${h(m.line.length > 48 ? m.line.slice(0, 47) + '…' : m.line)}${m.cseq ? ` (${h(m.cseq)})` : ''}</text>`,
    );
  });
  const media = c.media.map((m) => {
    const st: Status = m.status === 'both-ways' ? 'ok' : m.status === 'not-negotiated' ? 'never' : 'fail';
    const flowed =
      m.status === 'both-ways' || m.status === 'one-way'
        ? `: ${formatCount(m.to_answerer)} packets offerer → answerer, ${formatCount(m.to_offerer)} answerer → offerer`
        : '';
    const ice = m.ice
      ? `; ICE: ${m.ice.offer_candidates} + ${m.ice.answer_candidates} candidates, ${plural(m.ice.pairs_tried, 'pair')} tried, ${m.ice.pairs_answered} answered`
      : '';
    return `<li class="st-${st}">${icon(st)} ${h(m.type)} ${h(m.protocol ?? '')}: offer ${h(m.offer ?? '-')}, answer ${h(m.answer ?? '-')} — ${h(m.status)}${flowed}${h(ice)}${m.ice ? icePairsHtml(m.ice) : ''}</li>`;
  });
  const findings = c.findings.map((f) => `<li>${h(f.severity)}: ${h(f.message)}</li>`);
  const status = c.invite_status !== undefined ? `INVITE ${c.invite_status}` : 'no INVITE';
  return `<div class="ladder"><h3>${h(formatTime(c.start_ts))}: ${h(c.from ?? '?')} → ${h(c.to ?? '?')} <span class="muted">[${h(status)}${c.bye ? ', BYE' : ''}] Call-ID ${h(c.call_id)}</span></h3>
${l.messages.length > 0 ? `<div class="scroll-x"><svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="SIP call ladder">${parts.join('')}</svg></div>` : '<p class="muted">No SIP messages of this dialog were logged.</p>'}
${l.capped ? '<p class="muted">The ladder shows the first messages of each signalling flow (the recognizer logs 16 per flow).</p>' : ''}
<p>Media negotiated:</p><ul class="media">${media.join('') || '<li class="muted">none</li>'}</ul>
${findings.length > 0 ? `<ul>${findings.join('')}</ul>` : ''}</div>`;
}

/** The ICE candidate pairs a stream tried (RFC 8445 section 6.1.2), answered first, each with its flow's Community ID (the flow table's filter finds it). */
function icePairsHtml(ice: NonNullable<CallMedia['ice']>): string {
  if (ice.pairs.length === 0) return '';
  const rows = ice.pairs.map((p) => {
    const st: Status = p.answered ? 'ok' : 'fail';
    return `<tr class="st-${st}"><td>${icon(st)} ${p.answered ? 'answered' : 'no answer'}</td><td>${h(p.transport.toUpperCase())}</td><td>${h(p.offer)}</td><td>${h(p.answer)}</td><td><code>${h(p.community_id)}</code></td></tr>`;
  });
  const more =
    ice.pairs_tried > ice.pairs.length
      ? `<p class="muted">${formatCount(ice.pairs_tried - ice.pairs.length)} more pairs tried are counted above, not listed.</p>`
      : '';
  return `<table class="ice-pairs"><caption>ICE candidate pairs tried</caption><thead><tr><th>Result</th><th>Transport</th><th>Offerer's candidate</th><th>Answerer's candidate</th><th>Community ID</th></tr></thead><tbody>${rows.join('')}</tbody></table>${more}`;
}

function laddersHtml(ladders: readonly Ladder[], max = 50): string {
  if (ladders.length === 0) return '';
  return `<section id="calls"><h2>Calls (${plural(ladders.length, 'SIP dialog')} seen in plaintext)</h2>
${ladders.slice(0, max).map(ladderHtml).join('\n')}
${ladders.length > max ? `<p class="muted">${formatCount(ladders.length - max)} more calls are in --format json.</p>` : ''}</section>`;
}

/** The few words of app_detail that identify a flow to a person (text from packets: escaped where shown). */
export function appInfo(f: JudgedFlow): string | undefined {
  const d = f.app_detail;
  if (d === undefined) return undefined;
  const parts: string[] = [];
  for (const [key, label] of [
    ['sni', 'SNI'],
    ['host', 'Host'],
    ['user_agent', 'User-Agent'],
    ['server', 'Server'],
  ] as const) {
    const v = d[key];
    if (typeof v === 'string' && v !== '')
      parts.push(`${label} ${v.length > 120 ? v.slice(0, 119) + '…' : v}`);
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** The flow rows as the page script reads them (see browser/data.ts). */
export function pageData(analysis: Analysis, flows: readonly JudgedFlow[]): PageData {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const s = (text: string | null | undefined): number => {
    if (text === null || text === undefined || text === '') return -1;
    let i = index.get(text);
    if (i === undefined) {
      i = strings.push(text) - 1;
      index.set(text, i);
    }
    return i;
  };
  const t0 = analysis.summary.first_ts ?? flows[0]?.ts ?? 0;
  const rows = flows.map((f): Row => {
    const row: Row = [
      Math.round((f.ts - t0) * 1000),
      Math.round(f.duration * 1000),
      s(f.proto),
      s(f.orig_h),
      f.orig_p,
      s(f.resp_h),
      f.resp_p,
      s(f.orig_role),
      s(f.resp_role),
      s(f.verdict),
      s(verdictStatus(f.verdict, f.orig_pkts > 0 && f.resp_pkts > 0)),
      s(f.app),
      // A reason is one sentence; a longer one is cut here (the JSON has it whole).
      s(f.reason.length > 300 ? f.reason.slice(0, 299) + '…' : f.reason),
      f.first_frame,
      f.last_frame,
      s(f.community_id),
      isProblem(f.verdict) ? 1 : 0,
      flowKeys(f).map(s),
      s(appInfo(f)),
    ];
    return row;
  });
  const rank: Record<string, number> = {};
  for (const v of VERDICTS) rank[v] = isProblem(v) ? problemRank(v) : v === 'ok' ? 8 : 5;
  const icons: Record<string, string> = {};
  for (const [k, v] of Object.entries(STATUSES)) icons[k] = v.icon;
  return { t0, strings, rows, rank, icons };
}

function flowTableHtml(analysis: Analysis, m: PageModel): string {
  const listed = m.listed.length;
  const verdicts = [...new Set(m.listed.map((f) => f.verdict))].sort();
  const roles = [
    ...new Set(m.listed.flatMap((f) => [f.orig_role, f.resp_role]).filter((r) => r !== null)),
  ].sort();
  const bound: string[] = [];
  if (m.aggregated.length > 0)
    bound.push(
      `This page lists ${formatCount(listed)} of ${formatCount(analysis.flows.length)} flows one by one (every problem flow first); the other ${formatCount(analysis.flows.length - listed)} are counted below by role pair, port and verdict. --format json has every flow.`,
    );
  if (m.unlisted > 0)
    bound.push(
      `${formatCount(m.unlisted)} further flows were judged as they ended (beyond --max-records) and count in the cards and the matrix, but are not listed.`,
    );
  const aggregated =
    m.aggregated.length > 0
      ? `<details open><summary>Flows not listed one by one (${plural(m.aggregated.length, 'group')})</summary><table class="plain"><tr><th>Role pair and port</th><th>Verdict</th><th>Flows</th></tr>${m.aggregated
          .slice(0, 500)
          .map(
            (g) => `<tr><td>${h(g.label)}</td><td>${h(g.verdict)}</td><td>${formatCount(g.flows)}</td></tr>`,
          )
          .join(
            '',
          )}</table>${m.aggregated.length > 500 ? `<p class="muted">${formatCount(m.aggregated.length - 500)} smaller groups are in --format json.</p>` : ''}</details>`
      : '';
  const options = (list: string[]): string =>
    list.map((v) => `<option value="${h(v)}">${h(v)}</option>`).join('');
  return `<section id="flows"><h2>Flows</h2>
${bound.map((b) => `<p class="note">${h(b)}</p>`).join('')}
<div class="controls">
<input type="search" id="f-text" placeholder="Filter: address, port, app, reason…" aria-label="Filter the flows">
<label>Verdict <select id="f-verdict"><option value="">any</option>${options(verdicts)}</select></label>
<label>Role <select id="f-role"><option value="">any</option>${options(roles as string[])}</select></label>
<label>Port <input type="number" id="f-port" min="0" max="65535" inputmode="numeric" size="6" aria-label="Port"></label>
<label><input type="checkbox" id="f-problems"> problems only</label>
<span class="chip" id="flow-key" hidden>Flows of <b id="flow-key-label"></b> <button type="button" id="flow-key-clear" aria-label="Show all flows">×</button></span>
<span id="flow-count" class="muted" aria-live="polite"></span>
</div>
<noscript><p class="note">The flow table needs JavaScript; --format json lists every flow.</p></noscript>
<div id="flow-scroll"><table class="flows"><colgroup><col class="c-time"><col class="c-verdict"><col class="c-proto"><col class="c-end"><col class="c-end"><col class="c-app"><col><col class="c-frames"></colgroup>
<thead><tr><th data-sort="time" aria-sort="ascending">Time</th><th data-sort="verdict" aria-sort="none">Verdict</th><th>Proto</th><th data-sort="role" aria-sort="none">From</th><th data-sort="port" aria-sort="none">To</th><th>App</th><th>Reason</th><th data-sort="frame" aria-sort="none">Frames</th></tr></thead>
<tbody id="flow-body"></tbody></table></div>
<div id="flow-detail" hidden><h3>Flow</h3><div id="flow-detail-body"></div></div>
${aggregated}
</section>`;
}

function factsHtml(analysis: Analysis, m: PageModel): string {
  const { summary } = analysis;
  const spanText =
    summary.first_ts !== null && summary.last_ts !== null
      ? `, ${h(formatTime(summary.first_ts))} to ${h(formatTime(summary.last_ts))} (${h(formatDuration(summary.last_ts - summary.first_ts))})`
      : '';
  const captures = summary.captures
    .map(
      (c) =>
        `<code>${h(c.name)}</code> (${h(c.format)}, ${plural(c.packets, 'packet')}${c.error ? `, <b>${h(c.error)}</b>` : ''})`,
    )
    .join(', ');
  return `<p class="facts muted">${plural(m.judged, 'flow')} judged of ${plural(summary.flows, 'flow')} in ${plural(summary.packets, 'packet')}${spanText}; ${captures}; catalog ${h(summary.catalog.title)} (<code>${h(summary.catalog.product)}</code>); topology ${h(summary.topology.source)}.</p>
${summary.notes.map((n) => `<p class="note">${h(n)}</p>`).join('\n')}`;
}

function topologyHtml(analysis: Analysis, m: PageModel): string {
  const rows = m.topology.map(
    (t) =>
      `<tr><th>${h(t.role)}</th><td>${[...t.given.map(h), t.count > 0 ? groups(t.groups, t.count, 12) : ''].filter((x) => x).join(', ')}</td></tr>`,
  );
  const inferred = analysis.summary.topology.inferred;
  const maxEvidence = 200;
  const evidence =
    inferred.length > 0
      ? `<details><summary>Why each role was inferred (${plural(inferred.length, 'host')})</summary><table class="plain"><tr><th>Role</th><th>Address</th><th>Evidence</th></tr>${inferred
          .slice(0, maxEvidence)
          .map((e) => `<tr><td>${h(e.role)}</td><td>${h(e.address)}</td><td>${h(e.evidence)}</td></tr>`)
          .join(
            '',
          )}</table>${inferred.length > maxEvidence ? `<p class="muted">The first ${maxEvidence} are listed; --format json has all ${formatCount(inferred.length)}.</p>` : ''}</details>`
      : '';
  return `<section id="topology"><h2>Topology (${h(analysis.summary.topology.source)})</h2>
<p class="muted">Hosts of one role are grouped by address block.</p>
<table class="plain">${rows.join('') || '<tr><td>no roles known</td></tr>'}</table>${evidence}</section>`;
}

/** The page as one string (the library's API; the CLI writes htmlPieces as its output drains). */
export function renderHtml(analysis: Analysis, options: HtmlOptions = {}): string {
  return [...htmlPieces(analysis, options)].join('');
}

/**
 * The page in pieces: the markup before the embedded data, the data (every listed flow's row, up
 * to 100,000) a batch at a time, then the page script. `afterVerdict` is markup put right after
 * the headline sentence (compare's section, compare-html.ts).
 */
export function* htmlPieces(
  analysis: Analysis,
  options: HtmlOptions = {},
  afterVerdict = '',
): Generator<string> {
  const m = buildPageModel(analysis, options);
  const script = pageScript();
  const data = pageData(analysis, m.listed);
  const csp = [
    "default-src 'none'",
    `style-src ${sha256(PAGE_STYLE)}`,
    `script-src ${sha256(script)}`,
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const { summary } = analysis;
  const cards =
    m.cards.length > 0
      ? `<section id="problems"><h2>Problems (${m.cards.length})</h2><div class="cards">${m.cards.map(cardHtml).join('\n')}</div></section>`
      : '';
  yield `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>lync-port-audit: ${h(summary.captures.map((c) => c.name).join(', '))}</title>
<style>${PAGE_STYLE}</style></head>
<body><main>
<header class="top"><h1>Lync port audit <span class="muted">${h(summary.captures.map((c) => c.name).join(', '))}</span></h1><button type="button" id="scheme">Dark scheme</button></header>
<p class="sentence st-${sentenceStatus(m)}" id="verdict">${icon(sentenceStatus(m))} ${h(m.sentence)}</p>${afterVerdict}
${factsHtml(analysis, m)}
${cards}
${legendHtml()}
${matrixHtml(m.matrix)}
${timelineHtml(m.timeline)}
${laddersHtml(m.ladders)}
${flowTableHtml(analysis, m)}
${topologyHtml(analysis, m)}
<footer class="muted">Generated by ${h(summary.tool.name)} ${h(summary.tool.version)}. This page works offline: it loads nothing and sends nothing.</footer>
</main>
<script type="application/json" id="lpa-data">`;
  yield* jsonForScriptPieces(data);
  yield `</script>
<script>${script}</script>
</body></html>
`;
}
