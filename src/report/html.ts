/**
 * A self-contained HTML page (no scripts, no external resources): the same content as the
 * terminal table, for attaching to a ticket. Every text from packets goes through escapeHtml.
 */
import type { Analysis } from '../verdict/analysis.js';
import { VERDICTS, isProblem, type Verdict } from '../verdict/types.js';
import { escapeHtml as h } from './escape.js';
import { formatCount, formatDuration, formatTime, portLabel } from './format.js';

const STYLE = `
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em;color:#1b1b1b}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}.problem{background:#fde8e8}.ok{background:#eaf7ea}.muted{color:#666}
.v-ok{color:#176117}.v-blocked,.v-refused,.v-filtered,.v-one-way{color:#a31515;font-weight:600}.v-unexpected,.v-mismatch{color:#8a5300;font-weight:600}
code{font-size:.95em}`;

function counts(v: Partial<Record<Verdict, number>>): string {
  return VERDICTS.filter((k) => (v[k] ?? 0) > 0)
    .map((k) => `<span class="v-${k}">${k} ${formatCount(v[k]!)}</span>`)
    .join(', ');
}

export function renderHtml(analysis: Analysis): string {
  const { summary, roles, flows } = analysis;
  const parts: string[] = [];
  parts.push(
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<title>lync-port-audit: ${h(summary.captures.map((c) => c.name).join(', '))}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>Lync port audit</h1>`,
    '<table>',
    `<tr><th>Captures</th><td>${summary.captures.map((c) => `<code>${h(c.name)}</code> (${h(c.format)}, ${formatCount(c.packets)} packets${c.error ? `, <span class="v-blocked">${h(c.error)}</span>` : ''})`).join('<br>')}</td></tr>`,
    `<tr><th>Traffic</th><td>${formatCount(summary.packets)} packets, ${formatCount(summary.flows)} flows${summary.first_ts !== null && summary.last_ts !== null ? `, ${h(formatTime(summary.first_ts))} to ${h(formatTime(summary.last_ts))} (${h(formatDuration(summary.last_ts - summary.first_ts))})` : ''}</td></tr>`,
    `<tr><th>Catalog</th><td>${h(summary.catalog.title)} (<code>${h(summary.catalog.product)}</code>)</td></tr>`,
    `<tr><th>Topology</th><td>${h(summary.topology.source)}: ${Object.entries(summary.topology.roles)
      .map(([r, a]) => `<b>${h(r)}</b> ${h(a.join(', '))}`)
      .join('; ')}</td></tr>`,
    `<tr><th>Verdicts</th><td>${counts(summary.verdicts)}</td></tr>`,
    '</table>',
  );
  if (summary.topology.inferred.length > 0) {
    parts.push('<h2>Inferred roles</h2><table><tr><th>Role</th><th>Address</th><th>Evidence</th></tr>');
    for (const e of summary.topology.inferred)
      parts.push(`<tr><td>${h(e.role)}</td><td>${h(e.address)}</td><td>${h(e.evidence)}</td></tr>`);
    parts.push('</table>');
  }
  for (const n of summary.notes) parts.push(`<p class="muted">Note: ${h(n)}</p>`);

  for (const r of roles) {
    parts.push(
      `<h2>${h(r.role)} <span class="muted">${h(r.hosts.join(', '))}${r.host_count > r.hosts.length ? ` (+${r.host_count - r.hosts.length})` : ''}</span></h2>`,
    );
    if (r.rows.length > 0) {
      parts.push(
        '<table><tr><th>Port</th><th>Service</th><th>Protocol</th><th>Direction</th><th>Flows</th><th>Verdicts</th><th>Peers affected</th><th>First failure</th></tr>',
      );
      for (const row of r.rows) {
        const cls = row.status === 'problem' ? 'problem' : row.status === 'ok' ? 'ok' : '';
        parts.push(
          `<tr class="${cls}"><td>${h(portLabel(row.transport, row.ports))}</td><td>${h(row.service)}</td><td>${h(row.protocol)}</td><td>${row.direction}</td><td>${formatCount(row.flows)}</td><td>${counts(row.verdicts)}</td>` +
            `<td>${row.problem_peers.map((p) => `${h(p.peer)} (${h(p.verdict)} ×${p.flows})`).join('<br>')}${row.problem_peer_count > row.problem_peers.length ? `<br>+${row.problem_peer_count - row.problem_peers.length} more` : ''}</td>` +
            `<td>${row.first_failure ? `${h(formatTime(row.first_failure.ts))}: ${h(row.first_failure.reason)}` : ''}</td></tr>`,
        );
      }
      parts.push('</table>');
    }
    if (r.unexpected.length > 0) {
      parts.push(
        '<p>Unexpected ports:</p><table><tr><th>Port</th><th>Direction</th><th>Flows</th><th>Answered</th><th>Peers</th></tr>',
      );
      for (const u of r.unexpected)
        parts.push(
          `<tr class="problem"><td>${h(u.proto.toUpperCase())} ${u.port}</td><td>${u.direction}</td><td>${formatCount(u.flows)}</td><td>${formatCount(u.answered)}</td><td>${h(u.peers.join(', '))}</td></tr>`,
        );
      parts.push('</table>');
    }
    if (r.not_seen.length > 0)
      parts.push(
        `<p class="muted">Never observed (informational): ${r.not_seen.map((n) => h(portLabel(n.transport, n.ports) + (n.optional ? ' (optional)' : ''))).join(', ')}</p>`,
      );
  }

  if (analysis.calls.length > 0) {
    parts.push(
      `<h2>Calls (${formatCount(analysis.calls.length)})</h2><table><tr><th>Time</th><th>From → To</th><th>INVITE</th><th>Media</th><th>Problems</th></tr>`,
    );
    for (const c of analysis.calls)
      parts.push(
        `<tr${c.findings.some((f) => f.severity !== 'info') ? ' class="problem"' : ''}><td>${h(formatTime(c.start_ts))}</td><td>${h(c.from ?? '?')} → ${h(c.to ?? '?')}</td><td>${c.invite_status ?? ''}${c.bye ? ', BYE' : ''}</td>` +
          `<td>${c.media.map((m) => `${h(m.type)} ${h(m.offer ?? '-')} ↔ ${h(m.answer ?? '-')}: ${h(m.status)}${m.ice ? ` (ICE ${m.ice.pairs_answered}/${m.ice.pairs_tried})` : ''}`).join('<br>')}</td>` +
          `<td>${c.findings.map((f) => h(f.message)).join('<br>')}</td></tr>`,
      );
    parts.push('</table>');
  }

  const problemFlows = flows.filter((f) => isProblem(f.verdict));
  if (problemFlows.length > 0) {
    parts.push(
      `<h2>Problem flows (${formatCount(problemFlows.length)})</h2><table><tr><th>Time</th><th>Flow</th><th>App</th><th>Verdict</th><th>Reason</th><th>Community ID</th></tr>`,
    );
    for (const f of problemFlows.slice(0, 500))
      parts.push(
        `<tr><td>${h(formatTime(f.ts))}</td><td>${h(f.proto.toUpperCase())} ${h(f.orig_h)}:${f.orig_p}${f.orig_role ? ` (${h(f.orig_role)})` : ''} → ${h(f.resp_h)}:${f.resp_p}${f.resp_role ? ` (${h(f.resp_role)})` : ''}</td>` +
          `<td>${h(f.app ?? '')}</td><td class="v-${f.verdict}">${f.verdict}</td><td>${h(f.reason)}</td><td><code>${h(f.community_id)}</code></td></tr>`,
      );
    parts.push('</table>');
    if (problemFlows.length > 500)
      parts.push(`<p class="muted">${formatCount(problemFlows.length - 500)} more in --format json.</p>`);
  }
  parts.push(
    `<p class="muted">Generated by ${h(summary.tool.name)} ${h(summary.tool.version)}.</p></body></html>`,
  );
  return parts.join('\n') + '\n';
}
