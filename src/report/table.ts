/**
 * The default report: readable in a terminal, grouped by role, problems first.
 * cli-table3 draws the tables; every text that came from packets is escaped.
 */
import { createRequire } from 'node:module';
import type CliTable3 from 'cli-table3';
import type { Analysis } from '../verdict/analysis.js';
import type { RowSummary } from '../verdict/roles.js';
import {
  APPLICATION_PROBLEMS,
  CONNECTIVITY_PROBLEMS,
  VERDICTS,
  isProblem,
  type Verdict,
} from '../verdict/types.js';
import { clip, escapeTerminal } from './escape.js';
import { formatCount, formatDuration, formatTime, portLabel } from './format.js';

/** cli-table3 is loaded when a table is drawn, not imported: that costs ~30 ms at every startup. */
function tableClass(): typeof CliTable3 {
  return createRequire(import.meta.url)('cli-table3') as typeof CliTable3;
}

export interface TableOptions {
  /** How many problem flows to list at the end. */
  maxFlows?: number;
  /** Terminal width for wrapping long cells. */
  width?: number;
}

/** Roles whose outbound failures are shown only in their own section (the server side lists them). */
const CLIENT_SIDE = new Set(['client', 'phone']);

const PLAIN = {
  chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  style: { head: [], border: [] },
};

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

export function renderTable(analysis: Analysis, options: TableOptions = {}): string {
  const { summary, roles, flows } = analysis;
  const out: string[] = [];
  const width = Math.max(80, Math.min(options.width ?? 120, 200));

  // Header: what was read, with which catalog and topology.
  const span =
    summary.first_ts !== null && summary.last_ts !== null
      ? `${formatTime(summary.first_ts)} → ${formatTime(summary.last_ts)} (${formatDuration(summary.last_ts - summary.first_ts)})`
      : 'no flows';
  out.push(
    `${summary.tool.name} ${summary.tool.version}: ${summary.captures.map((c) => escapeTerminal(c.name)).join(', ')}`,
    `  ${formatCount(summary.packets)} packets, ${formatCount(summary.flows)} flows, ${span}`,
    `  catalog: ${summary.catalog.title} (${summary.catalog.product})`,
  );
  const topo = Object.entries(summary.topology.roles)
    .map(
      ([role, addrs]) =>
        `${role} ${addrs.slice(0, 4).join(', ')}${addrs.length > 4 ? ` (+${addrs.length - 4})` : ''}`,
    )
    .join('; ');
  out.push(`  topology (${summary.topology.source}): ${topo || 'no roles known'}`);
  for (const e of summary.topology.inferred.slice(0, 20))
    out.push(`    inferred ${e.role} ${e.address}: ${escapeTerminal(e.evidence)}`);
  if (summary.topology.inferred.length > 20)
    out.push(`    ... ${summary.topology.inferred.length - 20} more inferred hosts`);
  for (const n of summary.notes) out.push(`  note: ${escapeTerminal(n)}`);
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
    out.push(
      `PROBLEMS: ${problemRows.length} required port${problemRows.length === 1 ? '' : 's'} with failing traffic`,
    );
    for (const { role, row } of problemRows) {
      const tag = problemTag(row);
      out.push(
        `  ${tag} ${role.padEnd(14)} ${portLabel(row.transport, row.ports).padEnd(16)} ${clip(row.service, 48)}  [${verdictCounts(row.verdicts)}]`,
      );
      const peers = row.problem_peers.map((p) => `${p.peer} (${p.verdict} x${p.flows})`).slice(0, 5);
      if (row.problem_peer_count > 5) peers.push(`+${row.problem_peer_count - 5} more`);
      const arrow = row.direction === 'inbound' ? 'from' : 'to';
      out.push(`        ${arrow}: ${peers.join(', ')}`);
      const ff = row.first_failure;
      if (ff) out.push(`        first failure ${formatTime(ff.ts)}: ${escapeTerminal(ff.reason)}`);
    }
    out.push('');
  } else if (summary.judged === 0) {
    // Never an all-clear over nothing judged.
    out.push(
      `NOTHING JUDGED: none of the ${formatCount(summary.flows)} flows has a server role of the catalog at either end, so no port was checked.`,
      '  Say which address plays which role: --topology FILE (e.g. {"roles": {"front-end": ["10.0.0.10"]}}),',
      '  --role front-end=10.0.0.10 (repeatable), or --infer to add inferred roles to a partial topology.',
      '',
    );
  } else {
    out.push(
      `No failing required ports: the ${formatCount(summary.judged)} judged flow${summary.judged === 1 ? '' : 's'} got through.`,
      '',
    );
  }

  const unexpected = roles.flatMap((r) => r.unexpected.map((u) => ({ role: r.role, u })));
  if (unexpected.length > 0) {
    out.push(
      `UNEXPECTED: ${unexpected.length} port${unexpected.length === 1 ? '' : 's'} no catalog row explains`,
    );
    const t = new (tableClass())({
      head: ['Role', 'Port', 'Direction', 'Flows', 'Answered', 'Peers'],
      wordWrap: true,
      ...PLAIN,
    });
    for (const { role, u } of unexpected)
      t.push([
        role,
        `${u.proto.toUpperCase()} ${u.port}`,
        u.direction === 'inbound' ? `to ${role}` : `from ${role}`,
        formatCount(u.flows),
        formatCount(u.answered),
        u.peers.slice(0, 3).join(', ') + (u.peer_count > 3 ? ` +${u.peer_count - 3}` : ''),
      ]);
    out.push(t.toString(), '');
  }

  if (analysis.calls.length > 0) {
    out.push(
      `CALLS: ${analysis.calls.length} SIP dialog${analysis.calls.length === 1 ? '' : 's'} seen in plaintext`,
    );
    for (const call of analysis.calls.slice(0, options.maxFlows ?? 25)) {
      const status = call.invite_status !== undefined ? `INVITE ${call.invite_status}` : 'no INVITE';
      out.push(
        `  ${formatTime(call.start_ts)}  ${escapeTerminal(clip(call.from ?? '?', 40))} → ${escapeTerminal(clip(call.to ?? '?', 40))}  [${status}${call.bye ? ', BYE' : ''}]`,
      );
      for (const m of call.media) {
        const ice = m.ice ? `, ICE pairs ${m.ice.pairs_answered}/${m.ice.pairs_tried} answered` : '';
        out.push(
          `      ${m.type.padEnd(12)} ${escapeTerminal(m.offer ?? '-')} ↔ ${escapeTerminal(m.answer ?? '-')}  ${m.status}` +
            (m.status === 'both-ways' || m.status === 'one-way'
              ? ` (${m.to_answerer}/${m.to_offerer} packets)`
              : '') +
            ice,
        );
      }
      for (const f of call.findings)
        out.push(`      ${f.severity === 'info' ? 'note' : 'problem'}: ${escapeTerminal(f.message)}`);
    }
    if (analysis.calls.length > (options.maxFlows ?? 25))
      out.push(`  ... ${analysis.calls.length - (options.maxFlows ?? 25)} more in --format json`);
    out.push('');
  }

  // Per role: every row that saw traffic, then the rows never observed.
  for (const r of roles) {
    const hosts = r.hosts.slice(0, 6).join(', ') + (r.host_count > 6 ? ` (+${r.host_count - 6})` : '');
    out.push(`${r.role}${hosts ? ` (${hosts})` : ''}`);
    if (r.rows.length > 0) {
      const t = new (tableClass())({
        head: ['', 'Port', 'Service', 'Protocol', 'Dir', 'Flows', 'Verdicts'],
        wordWrap: true,
        ...PLAIN,
      });
      for (const row of r.rows)
        t.push([
          mark(row),
          portLabel(row.transport, row.ports),
          clip(row.service, 40),
          row.protocol,
          row.direction === 'inbound' ? 'in' : 'out',
          formatCount(row.flows),
          verdictCounts(row.verdicts),
        ]);
      out.push(t.toString());
    } else {
      out.push('  no flows matched a catalog row of this role');
    }
    if (r.not_seen.length > 0) {
      // Several rows can share a port (different services): name each port once here; JSON has every row.
      const list = [
        ...new Set(
          r.not_seen.map((n) => `${portLabel(n.transport, n.ports)}${n.optional ? ' (optional)' : ''}`),
        ),
      ];
      out.push(`  never observed (informational): ${list.join(', ')}`);
    }
    out.push('');
  }

  const problemFlows = flows.filter((f) => isProblem(f.verdict));
  if (problemFlows.length > 0) {
    const max = options.maxFlows ?? 25;
    out.push(`PROBLEM FLOWS (${problemFlows.length}${problemFlows.length > max ? `, first ${max}` : ''})`);
    const t = new (tableClass())({
      head: ['Time', 'Flow', 'App', 'Verdict', 'Reason'],
      wordWrap: true,
      colWidths: [22, 46, 10, 12, Math.max(30, width - 96)],
      ...PLAIN,
    });
    for (const f of problemFlows.slice(0, max))
      t.push([
        formatTime(f.ts),
        `${f.proto.toUpperCase()} ${f.orig_h}:${f.orig_p}${f.orig_role ? ` (${f.orig_role})` : ''}\n→ ${f.resp_h}:${f.resp_p}${f.resp_role ? ` (${f.resp_role})` : ''}`,
        f.app ?? '',
        f.verdict,
        escapeTerminal(f.reason),
      ]);
    out.push(t.toString(), '');
  }

  out.push(`Verdicts: ${verdictCounts(summary.verdicts) || 'none'}`);
  out.push(
    'Read it: FAIL rows are required ports whose traffic did not get through; "never observed" rows are',
  );
  out.push('informational. Use --format json for every flow with its verdict and reason.');
  return out.join('\n') + '\n';
}
