/**
 * The default report: readable in a terminal, grouped by role, problems first. Every line fits the
 * width it is given (COLUMNS, the terminal's, or 80 when the output is a file or a pipe): long
 * text wraps with a hanging indent, tables narrow their widest columns and wrap inside cells, and
 * nothing is cut. report/draw-table.ts draws the tables (cli-table3's bytes); every text that came
 * from packets is escaped.
 */
import type { Analysis } from '../verdict/analysis.js';
import type { PeerCount, RowSummary } from '../verdict/roles.js';
import {
  APPLICATION_PROBLEMS,
  CONNECTIVITY_PROBLEMS,
  EXPECTATION_PROBLEMS,
  VERDICTS,
  isProblem,
  type JudgedFlow,
  type Verdict,
} from '../verdict/types.js';
import { drawTable, type TableDrawer } from './draw-table.js';
import { clip, escapeTerminal } from './escape.js';
import {
  endpoint,
  formatCount,
  formatDuration,
  formatTime,
  glue,
  plural,
  portLabel,
  wrap,
} from './format.js';

export interface TableOptions {
  /** How many problem flows (and calls) to list. */
  maxFlows?: number;
  /** Columns to fit (default 80; at least 40). */
  width?: number;
}

export const DEFAULT_WIDTH = 80;
const MIN_WIDTH = 40;

/**
 * The width to render for: COLUMNS when set (as `ls` and most tools honour it), else the
 * terminal's, else 80 (a file or a pipe: a width every reader can show).
 */
export function terminalWidth(env: NodeJS.ProcessEnv, ttyColumns: number | undefined): number {
  const fromEnv = Number(env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  if (ttyColumns !== undefined && ttyColumns > 0) return ttyColumns;
  return DEFAULT_WIDTH;
}

/** Roles whose outbound failures are shown only in their own section (the server side lists them). */
const CLIENT_SIDE = new Set(['client', 'phone']);

function verdictCounts(v: Partial<Record<Verdict, number>>): string {
  return VERDICTS.filter((k) => (v[k] ?? 0) > 0)
    .map((k) => `${k} ${formatCount(v[k]!)}`)
    .join(', ');
}

/**
 * The PROBLEMS tag of a row: FAIL when the network stopped traffic (a firewall rule or a route to
 * fix), APP when the application failed on a working network (a certificate, a service), CHECK
 * when the traffic was not what the catalog expects (port, peer or protocol).
 */
function problemTag(row: RowSummary): string {
  const has = (set: ReadonlySet<Verdict>): boolean =>
    Object.entries(row.verdicts).some(([v, n]) => (n ?? 0) > 0 && set.has(v as Verdict));
  return has(CONNECTIVITY_PROBLEMS) ? 'FAIL ' : has(APPLICATION_PROBLEMS) ? 'APP  ' : 'CHECK';
}

function mark(row: RowSummary): string {
  return row.status === 'problem' ? 'FAIL' : row.status === 'ok' ? 'ok' : '..';
}

/**
 * How urgent a problem verdict is, for ordering: traffic that did not get through first, then
 * other problems, then traffic nobody expected.
 */
export function problemRank(v: Verdict): number {
  if (CONNECTIVITY_PROBLEMS.has(v)) return 0;
  if (EXPECTATION_PROBLEMS.has(v)) return 2;
  return 1;
}

/** Problem flows in the order to read them: by severity, then in time order. */
export function orderProblemFlows(flows: readonly JudgedFlow[]): JudgedFlow[] {
  // Each flow's rank once, not at each of the n log n comparisons (10,000 listed flows of a scan).
  const ranked: { f: JudgedFlow; rank: number }[] = [];
  for (const f of flows) if (isProblem(f.verdict)) ranked.push({ f, rank: problemRank(f.verdict) });
  return ranked.sort((a, b) => a.rank - b.rank || a.f.ts - b.f.ts).map((r) => r.f);
}

/** Each peer once, with its verdicts: "10.0.0.5 (blocked x2, refused x1)". */
export function peerList(peers: readonly PeerCount[]): { peer: string; text: string }[] {
  const byPeer = new Map<string, PeerCount[]>();
  for (const p of peers) {
    const list = byPeer.get(p.peer);
    if (list) list.push(p);
    else byPeer.set(p.peer, [p]);
  }
  return [...byPeer].map(([peer, list]) => ({
    peer,
    text: `${peer} (${list.map((p) => `${p.verdict} x${formatCount(p.flows)}`).join(', ')})`,
  }));
}

/**
 * Column widths (with one space of padding each side) that fit `width`: the widest column gives
 * way first, down to its longest word; only then are words broken (down to 4 columns).
 */
function fitWidths(natural: number[], words: number[], width: number): number[] {
  const widths = natural.map((n) => Math.max(n, 3));
  const budget = width - (widths.length + 1); // the vertical borders
  let total = widths.reduce((a, b) => a + b, 0);
  for (const floorOf of [(i: number) => Math.max(words[i], 4), () => 4]) {
    while (total > budget) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++)
        if (widths[i] > floorOf(i) && (widest < 0 || widths[i] > widths[widest])) widest = i;
      if (widest < 0) break;
      widths[widest]--;
      total--;
    }
  }
  return widths;
}

/**
 * A table that fits `width`: cells are wrapped here (words broken, never cut) and only padded by
 * `draw`. One pass over the cells for the natural widths and the longest words: a scan's table
 * has thousands of rows (and a spread of that many arguments would overflow the stack).
 */
function fittedTable(head: string[], rows: string[][], width: number, draw: TableDrawer): string {
  const natural = head.map(() => 0);
  const words = head.map(() => 0);
  for (const r of [head, ...rows])
    for (let i = 0; i < head.length; i++)
      for (const line of (r[i] ?? '').split('\n')) {
        if (line.length > natural[i]) natural[i] = line.length;
        if (line.length > words[i])
          for (const word of line.split(' ')) if (word.length > words[i]) words[i] = word.length;
      }
  const widths = fitWidths(
    natural.map((n) => n + 2),
    words.map((n) => n + 2),
    width,
  );
  const cell = (text: string, i: number): string =>
    text
      .split('\n')
      .flatMap((l) => wrap(l, widths[i] - 2))
      .join('\n');
  return draw(
    [head, ...rows].map((r) => r.map(cell)),
    widths,
  );
}

/**
 * The report; `draw` is for the tests, which hold the drawing to cli-table3's (report/draw-table.ts).
 */
export function renderTable(
  analysis: Analysis,
  options: TableOptions = {},
  draw: TableDrawer = drawTable,
): string {
  const { summary, roles, flows } = analysis;
  const out: string[] = [];
  const width = Math.max(MIN_WIDTH, options.width ?? DEFAULT_WIDTH);
  const max = options.maxFlows ?? 25;
  /** Adds text wrapped to the width: `first` before the first line, `indent` before the others. */
  const say = (text: string, first = '', indent = first + '  '): void => {
    out.push(...wrap(text, width, first, indent));
  };
  // One day in the capture: times without the date (it is in the header).
  const oneDay =
    summary.first_ts !== null &&
    summary.last_ts !== null &&
    formatTime(summary.first_ts).slice(0, 10) === formatTime(summary.last_ts).slice(0, 10);
  const when = (ts: number): string => (oneDay ? formatTime(ts).slice(11) : formatTime(ts));

  // Header: what was read, with which catalog and topology.
  const span =
    summary.first_ts !== null && summary.last_ts !== null
      ? `${formatTime(summary.first_ts)} → ${formatTime(summary.last_ts)} (${formatDuration(summary.last_ts - summary.first_ts)})`
      : 'no flows';
  say(
    `${summary.tool.name} ${summary.tool.version}: ${summary.captures.map((c) => escapeTerminal(c.name)).join(', ')}`,
    '',
    '  ',
  );
  say(`${plural(summary.packets, 'packet')}, ${plural(summary.flows, 'flow')}, ${span}`, '  ');
  say(`catalog: ${escapeTerminal(summary.catalog.title)} (${summary.catalog.product})`, '  ');
  const topo = Object.entries(summary.topology.roles);
  if (topo.length === 0) say(`topology (${summary.topology.source}): no roles known`, '  ');
  else {
    say(`topology (${summary.topology.source}):`, '  ');
    for (const [role, addrs] of topo)
      say(
        `${role} ${addrs.slice(0, 4).join(', ')}${addrs.length > 4 ? ` (+${formatCount(addrs.length - 4)})` : ''}`,
        '    ',
      );
  }
  for (const e of summary.topology.inferred.slice(0, 20))
    say(`inferred ${e.role} ${e.address}: ${escapeTerminal(e.evidence)}`, '    ');
  if (summary.topology.inferred.length > 20)
    say(`... ${plural(summary.topology.inferred.length - 20, 'more inferred host')}`, '    ');
  for (const n of summary.notes) say(`note: ${escapeTerminal(n)}`, '  ');
  out.push('');

  // Problems across all roles first: what an administrator has to fix. Seen from the side that
  // must accept the traffic (inbound rows), plus what server roles fail to reach; a client's view
  // of the same failing flows stays in the client's own section below.
  const problemRows = roles.flatMap((r) =>
    r.rows
      .filter((row) => row.status === 'problem' && (row.direction === 'inbound' || !CLIENT_SIDE.has(r.role)))
      .map((row) => ({ role: r.role, row })),
  );
  if (problemRows.length > 0) {
    say(`PROBLEMS: ${plural(problemRows.length, 'required port')} with failing traffic`);
    for (const { role, row } of problemRows) {
      const tag = problemTag(row);
      say(
        `${tag} ${role}  ${glue(portLabel(row.transport, row.ports))}  ${escapeTerminal(row.service)}  [${verdictCounts(row.verdicts)}]`,
        '  ',
        '        ',
      );
      const peers = peerList(row.problem_peers).map((p) => p.text);
      const shown = peers.slice(0, 5);
      if (row.problem_peer_count > shown.length)
        shown.push(`+${formatCount(row.problem_peer_count - shown.length)} more`);
      const arrow = row.direction === 'inbound' ? 'from' : 'to';
      say(`${arrow}: ${shown.join(', ')}`, '        ', '          ');
      const ff = row.first_failure;
      if (ff) {
        say(`first failure ${formatTime(ff.ts)}: ${escapeTerminal(ff.reason)}`, '        ', '          ');
        const frames =
          ff.first_frame === ff.last_frame
            ? `frame ${ff.first_frame}`
            : `frames ${ff.first_frame}-${ff.last_frame}`;
        if (ff.display_filter !== undefined)
          say(`wireshark: ${ff.display_filter} (${frames})`, '        ', '          ');
      }
    }
    out.push('');
  } else if (summary.judged === 0) {
    // Never an all-clear over nothing judged.
    say(
      `NOTHING JUDGED: none of the ${plural(summary.flows, 'flow')} has a server role of the catalog at either end, so no port was checked. Say which address plays which role: --topology FILE (e.g. {"roles": {"front-end": ["10.0.0.10"]}}), --role front-end=10.0.0.10 (repeatable), or --infer to add inferred roles to a partial topology.`,
      '',
      '  ',
    );
    out.push('');
  } else {
    say(`No failing required ports: the ${plural(summary.judged, 'judged flow')} got through.`);
    out.push('');
  }

  const unexpected = roles.flatMap((r) => r.unexpected.map((u) => ({ role: r.role, u })));
  if (unexpected.length > 0) {
    say(`UNEXPECTED: ${plural(unexpected.length, 'port')} no catalog row explains`);
    out.push(
      fittedTable(
        ['Role', 'Port', 'Direction', 'Flows', 'Answered', 'Peers'],
        unexpected.map(({ role, u }) => [
          role,
          `${u.proto.toUpperCase()} ${u.port}`,
          u.direction === 'inbound' ? `to ${role}` : `from ${role}`,
          formatCount(u.flows),
          formatCount(u.answered),
          u.peers.slice(0, 3).join(', ') + (u.peer_count > 3 ? ` +${formatCount(u.peer_count - 3)}` : ''),
        ]),
        width,
        draw,
      ),
      '',
    );
  }

  if (analysis.calls.length > 0) {
    say(`CALLS: ${plural(analysis.calls.length, 'SIP dialog')} seen in plaintext`);
    for (const call of analysis.calls.slice(0, max)) {
      const status = call.invite_status !== undefined ? `INVITE ${call.invite_status}` : 'no INVITE';
      say(
        `${when(call.start_ts)}  ${escapeTerminal(clip(call.from ?? '?', 60))} → ${escapeTerminal(clip(call.to ?? '?', 60))}  [${status}${call.bye ? ', BYE' : ''}]`,
        '  ',
        '      ',
      );
      for (const m of call.media) {
        const ice = m.ice ? `, ICE pairs ${m.ice.pairs_answered}/${m.ice.pairs_tried} answered` : '';
        say(
          `${m.type}  ${escapeTerminal(m.offer ?? '-')} ↔ ${escapeTerminal(m.answer ?? '-')}  ${m.status}` +
            (m.status === 'both-ways' || m.status === 'one-way'
              ? ` (${m.to_answerer}/${m.to_offerer} packets)`
              : '') +
            ice,
          '      ',
          '        ',
        );
      }
      for (const f of call.findings)
        say(
          `${f.severity === 'info' ? 'note' : 'problem'}: ${escapeTerminal(f.message)}`,
          '      ',
          '        ',
        );
    }
    if (analysis.calls.length > max)
      say(`... ${formatCount(analysis.calls.length - max)} more in --format json`, '  ');
    out.push('');
  }

  // Per role: every row that saw traffic, then the rows never observed.
  for (const r of roles) {
    const hosts =
      r.hosts.slice(0, 6).join(', ') + (r.host_count > 6 ? ` (+${formatCount(r.host_count - 6)})` : '');
    say(`${r.role}${hosts ? ` (${hosts})` : ''}`, '', '  ');
    if (r.rows.length > 0) {
      out.push(
        fittedTable(
          ['', 'Port', 'Service', 'Protocol', 'Dir', 'Flows', 'Verdicts'],
          r.rows.map((row) => [
            mark(row),
            portLabel(row.transport, row.ports),
            escapeTerminal(row.service),
            row.protocol,
            row.direction === 'inbound' ? 'in' : 'out',
            formatCount(row.flows),
            verdictCounts(row.verdicts),
          ]),
          width,
          draw,
        ),
      );
    } else {
      say('no flows matched a catalog row of this role', '  ');
    }
    if (r.not_seen.length > 0) {
      // Several rows can share a port (different services): name each port once here; JSON has every row.
      const list = [
        ...new Set(
          r.not_seen.map((n) => glue(`${portLabel(n.transport, n.ports)}${n.optional ? ' (optional)' : ''}`)),
        ),
      ];
      say(`never observed (informational): ${list.join(', ')}`, '  ', '    ');
    }
    out.push('');
  }

  const problemFlows = orderProblemFlows(flows);
  if (problemFlows.length > 0) {
    say(
      `PROBLEM FLOWS (${formatCount(problemFlows.length)}${problemFlows.length > max ? `, first ${max}` : ''}; by severity, then time)`,
    );
    for (const f of problemFlows.slice(0, max)) {
      const from = glue(`${endpoint(f.orig_h, f.orig_p)}${f.orig_role ? ` (${f.orig_role})` : ''}`);
      const to = glue(`${endpoint(f.resp_h, f.resp_p)}${f.resp_role ? ` (${f.resp_role})` : ''}`);
      const frames = glue(
        f.first_frame === f.last_frame ? `frame ${f.first_frame}` : `frames ${f.first_frame}-${f.last_frame}`,
      );
      say(
        `${when(f.ts)}  ${f.verdict}  ${f.proto.toUpperCase()} ${from} → ${to}${f.app ? `, ${escapeTerminal(f.app)}` : ''}, ${frames}`,
        '  ',
        '      ',
      );
      say(escapeTerminal(f.reason), '      ');
      if (f.display_filter !== undefined) say(`wireshark: ${f.display_filter}`, '      ', '        ');
    }
    out.push('');
  }

  say(`Verdicts: ${verdictCounts(summary.verdicts) || 'none'}`);
  say(
    'Read it: FAIL rows are required ports whose traffic did not get through; "never observed" rows are informational. Use --format json for every flow with its verdict and reason.',
  );
  return out.join('\n') + '\n';
}
