/**
 * The HTML page's content without a browser: the verdict sentence, the cards with their fix and
 * Wireshark filter, the matrix keys that tie cells to flows, CIDR grouping of many hosts, and the
 * bound on the page's size (flows past the limit are aggregated, problems first, and the page says
 * so). On the report capture's real analysis (the CLI's JSON).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { writeReportCapture } from './helpers/report-capture.js';
import { groupHosts } from '../src/report/cidr.js';
import { buildPageModel, flowKeys, verdictSentence } from '../src/report/html-model.js';
import { renderHtml } from '../src/report/html.js';
import type { Analysis } from '../src/verdict/analysis.js';

let analysis: Analysis;
beforeAll(() => {
  const rc = writeReportCapture();
  const r = runCli(['analyze', '--no-progress', '--format', 'json', rc.capture, '--topology', rc.topology]);
  expect(r.status, r.stderr).toBe(0);
  analysis = JSON.parse(r.stdout) as Analysis;
});

describe('the HTML page model', () => {
  it('says the verdict in one sentence, naming each failing port and its roles', () => {
    const m = buildPageModel(analysis);
    expect(m.sentence).toMatch(/^3 required ports are failing: /);
    expect(m.sentence).toContain('TCP 444 to front-end gets no answer or is refused');
    expect(m.sentence).toContain('UDP 3478 to edge-internal gets no answer');
    expect(m.sentence).toContain('UDP 50020 to front-end flows one way only');
    expect(m.sentence).toContain('1 port carries traffic no catalog row expects: TCP 23 to edge-internal');
    expect(verdictSentence([], { judged: 0, ok: 0, incomplete: 0 })).toMatch(/^Nothing was judged/);
    expect(verdictSentence([], { judged: 3, ok: 1, incomplete: 2 })).toBe(
      'No failing required ports: 1 judged flow got through; 2 more were cut by the capture before showing an answer.',
    );
  });

  it('gives each card who, since when, what to change and a display filter; its key finds its flows', () => {
    const m = buildPageModel(analysis);
    const card = m.cards.find((c) => c.title === 'TCP 444 to front-end')!;
    expect(card.status).toBe('fail');
    expect(card.affected.map((g) => g.label).sort()).toEqual(['10.1.0.5', 'fd00:1::5']);
    expect(card.change).toBe('Allow TCP 444 from 10.1.0.5, fd00:1::5 to 10.0.0.10, fd00::10 (front-end).');
    expect(card.filter).toBe(
      '(ip.addr==10.0.0.10 && tcp.port==444) || (ipv6.addr==fd00::10 && tcp.port==444)',
    );
    expect(card.fix).toMatchObject({
      role: 'front-end',
      direction: 'inbound',
      transport: 'tcp',
      ports: '444',
    });
    const flows = analysis.flows.filter((f) => flowKeys(f).includes(card.key));
    expect(flows.map((f) => f.verdict).sort()).toEqual(['blocked', 'blocked', 'refused']);
    // Every matrix cell with flows is found by as many flows as it counts.
    for (const role of m.matrix)
      for (const cell of role.cells.filter((c) => c.flows > 0))
        expect(analysis.flows.filter((f) => flowKeys(f).includes(cell.key)).length, cell.key).toBe(
          cell.flows,
        );
  });

  it('asks the firewall rule generator for each card and shows its rules', () => {
    const asked: string[] = [];
    const html = renderHtml(analysis, {
      firewallRules: (q) => {
        asked.push(`${q.role} ${q.transport} ${q.ports}`);
        return [
          { format: 'nftables', text: `add rule inet lync forward ${q.transport} dport ${q.ports} accept` },
        ];
      },
    });
    expect(asked).toContain('front-end tcp 444');
    expect(html).toContain('add rule inet lync forward tcp dport 444 accept');
  });

  it('bounds the page: past the limit flows are aggregated, problems listed first, and the page says so', () => {
    const m = buildPageModel(analysis, { maxFlows: 4 });
    expect(m.listed).toHaveLength(4);
    expect(m.listed.every((f) => f.verdict !== 'ok')).toBe(true);
    expect(m.aggregated.reduce((n, g) => n + g.flows, 0)).toBe(analysis.flows.length - 4);
    const html = renderHtml(analysis, { maxFlows: 4 });
    expect(html).toContain(`This page lists 4 of ${analysis.flows.length} flows one by one`);
  });

  it('groups many hosts of a role into address blocks', () => {
    const hosts = [
      ...Array.from({ length: 300 }, (_, i) => `10.1.${i >> 8}.${i & 255}`),
      ...Array.from({ length: 40 }, (_, i) => `10.2.3.${i}`),
      '192.0.2.7',
      ...Array.from({ length: 20 }, (_, i) => `2001:db8:0:1::${(i + 1).toString(16)}`),
    ];
    expect(groupHosts(hosts)).toEqual([
      { label: '10.1.0.0/24', hosts: 256 },
      { label: '10.1.1.0/24', hosts: 44 },
      { label: '10.2.3.0/24', hosts: 40 },
      { label: '2001:db8:0:1::/64', hosts: 20 },
      { label: '192.0.2.7', hosts: 1 },
    ]);
    const many = Array.from({ length: 3000 }, (_, i) => `10.${i % 3}.${(i >> 6) & 255}.${(i >> 2) & 15}`);
    expect(groupHosts(many)).toEqual([
      { label: '10.0.0.0/16', hosts: 750 },
      { label: '10.1.0.0/16', hosts: 750 },
      { label: '10.2.0.0/16', hosts: 750 },
    ]);
    expect(groupHosts(['10.0.0.1', '10.0.0.2'])).toEqual([
      { label: '10.0.0.1', hosts: 1 },
      { label: '10.0.0.2', hosts: 1 },
    ]);
  });
});
