/**
 * The HTML report as a person sees it: `analyze --format html` pages opened in headless Debian
 * chromium (playwright-core). The first screen names the failing ports of each lab scenario; a
 * matrix cell and a card open their flows; the filter and sort narrow and order the table; text
 * from packets stays text; nothing leaves the page (every request is recorded, CSP violations
 * too); the table stays usable with 100,000 flows. A screenshot of each sample's report is written
 * to test-results/html/ for a person to look at.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mapLimit, runCliAsync } from './helpers/cli.js';
import { REPO_ROOT } from './helpers/shared.js';
import { LAB_DIR, STORED_DIR, loadScenario } from './helpers/lab.js';
import {
  browserSkipReason,
  launchBrowser,
  openReport,
  type Browser,
  type OpenedPage,
} from './helpers/browser.js';
import { HOSTILE, writeReportCapture, type ReportCapture } from './helpers/report-capture.js';
import { renderHtml } from '../src/report/html.js';
import type { Analysis } from '../src/verdict/analysis.js';

const OUT = join(REPO_ROOT, 'test-results', 'html');
const PROBLEM_VERDICTS = new Set([
  'blocked',
  'refused',
  'filtered',
  'one-way',
  'mismatch',
  'unexpected',
  'failed',
]);
const skip = browserSkipReason('HTML report in a browser');

async function html(name: string, args: string[]): Promise<string> {
  const file = join(OUT, `${name}.html`);
  const r = await runCliAsync(['analyze', '--no-progress', '--format', 'html', '-o', file, ...args], {
    timeoutMs: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return file;
}

const samples = readdirSync(join(REPO_ROOT, 'samples')).filter((d) =>
  statSync(join(REPO_ROOT, 'samples', d)).isDirectory(),
);
const scenarios = readdirSync(STORED_DIR);

let browser: Browser;
let rc: ReportCapture;
const pages = new Map<string, string>();

function clean(o: OpenedPage): void {
  expect(o.requests, 'requests that left the page').toEqual([]);
  expect(o.violations, 'Content-Security-Policy violations').toEqual([]);
  expect(o.errors, 'page errors').toEqual([]);
  expect(o.dialogs, 'dialogs').toEqual([]);
}

describe.skipIf(skip !== undefined)('the HTML report in chromium', () => {
  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    rc = writeReportCapture();
    const jobs: [string, string[]][] = [
      ['report', [rc.capture, '--topology', rc.topology]],
      ...samples.map((s): [string, string[]] => {
        const dir = join(REPO_ROOT, 'samples', s);
        const capture = readdirSync(dir).find((f) => f.startsWith('capture.'))!;
        return [`sample-${s}`, [join(dir, capture), '--topology', join(dir, 'topology.json')]];
      }),
      ...scenarios.map((s): [string, string[]] => [
        `lab-${s}`,
        [join(STORED_DIR, s, 'client.pcapng'), '--topology', join(LAB_DIR, 'topology.json')],
      ]),
    ];
    const [files] = await Promise.all([
      mapLimit(jobs, 2, ([name, args]) => html(name, args)),
      launchBrowser().then((b) => (browser = b)),
    ]);
    jobs.forEach(([name], i) => pages.set(name, files[i]));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('names the failing ports of each lab scenario on the first screen', async () => {
    for (const s of scenarios) {
      const scenario = loadScenario(s);
      const failing = scenario.flows
        .filter((f) => PROBLEM_VERDICTS.has(f.capture.client.verdict ?? ''))
        .map((f) => `${f.proto.toUpperCase()} ${f.server_port}`);
      const o = await openReport(browser, pages.get(`lab-${s}`)!);
      const sentence = (await o.page.textContent('#verdict')) ?? '';
      for (const port of failing) expect(sentence, `${s}: ${sentence}`).toContain(port);
      if (failing.length === 0) expect(sentence, s).toContain('No failing required ports');
      // The sentence and the first card are on the first screen, without scrolling.
      const box = await o.page.locator('#verdict').boundingBox();
      expect(box!.y + box!.height).toBeLessThan(900);
      if (failing.length > 0) {
        const card = await o.page.locator('.card').first().boundingBox();
        expect(card!.y, s).toBeLessThan(900);
        const titles = await o.page.locator('.card h3').allTextContents();
        for (const port of failing)
          expect(
            titles.some((t) => t.includes(port)),
            `${s}: no card for ${port}`,
          ).toBe(true);
      }
      clean(o);
    }
  });

  it('writes a screenshot of the first screen of each sample report, loading nothing from outside', async () => {
    for (const s of samples) {
      const o = await openReport(browser, pages.get(`sample-${s}`)!);
      await o.page.screenshot({ path: join(OUT, `sample-${s}.png`) });
      clean(o);
      expect(statSync(join(OUT, `sample-${s}.png`)).size).toBeGreaterThan(10_000);
    }
    console.log(`HTML report screenshots: ${OUT}`);
  });

  it('opens the flows behind a matrix cell and a card; the filter and sort narrow and order the table', async () => {
    const o = await openReport(browser, pages.get('report')!);
    const { page } = o;
    await expect.poll(() => page.textContent('#flow-count')).toBe('9 flows');
    await page.click('.matrix button.cell[data-label="TCP 444 to front-end"]');
    await expect.poll(() => page.textContent('#flow-count')).toBe('3 of 9 flows match');
    const to = await page.locator('#flow-body tr:not(.spacer) td:nth-child(5)').allTextContents();
    expect(to).toEqual([
      '10.0.0.10:444 (front-end)',
      '10.0.0.10:444 (front-end)',
      '[fd00::10]:444 (front-end)',
    ]);
    expect(await page.textContent('#flow-key-label')).toBe('TCP 444 to front-end');
    await page.click('#flow-key-clear');
    await expect.poll(() => page.textContent('#flow-count')).toBe('9 flows');
    // A card's button lists that card's flows.
    await page
      .locator('.card', { hasText: 'UDP 3478 to edge-internal' })
      .getByRole('button', { name: 'Show the flows' })
      .click();
    await expect.poll(() => page.textContent('#flow-count')).toBe('1 of 9 flows match');
    await page.click('#flow-key-clear');
    // The text filter, then the verdict filter.
    await page.fill('#f-text', 'stun');
    await expect.poll(() => page.textContent('#flow-count')).toBe('1 of 9 flows match');
    await page.fill('#f-text', '');
    await page.selectOption('#f-verdict', 'blocked');
    await expect.poll(() => page.textContent('#flow-count')).toBe('3 of 9 flows match');
    await page.selectOption('#f-verdict', '');
    await page.check('#f-problems');
    await expect.poll(() => page.textContent('#flow-count')).toBe('6 of 9 flows match');
    // Sorted by verdict: the most severe first, the unexpected flow last.
    await page.click('th[data-sort="verdict"]');
    const verdicts = await page.locator('#flow-body tr:not(.spacer) td.verdict').allTextContents();
    expect(verdicts.map((v) => v.replace(/^\S+\s+/, ''))).toEqual([
      'one-way',
      'blocked',
      'refused',
      'blocked',
      'blocked',
      'unexpected',
    ]);
    // A row opens its details with a Wireshark filter that can be copied.
    await page.locator('#flow-body tr', { hasText: '[fd00:1::5]:41004' }).click();
    const filter = await page.textContent('#flow-detail-filter');
    expect(filter).toBe('ipv6.addr==fd00:1::5 && ipv6.addr==fd00::10 && tcp.port==41004 && tcp.port==444');
    await page.click('#flow-detail button[data-copy]');
    await expect
      .poll(() => page.textContent('#flow-detail button[data-copy]'))
      .toMatch(/Copied|Select and copy/);
    clean(o);
  });

  it('keeps text from packets as text: no script runs, the title stays, no dialog opens', async () => {
    const source = readFileSync(pages.get('report')!, 'utf8');
    expect(source).not.toContain(HOSTILE);
    const o = await openReport(browser, pages.get('report')!);
    const { page } = o;
    expect(await page.title()).toBe(`lync-port-audit: ${rc.capture}`);
    expect(await page.locator('script').count()).toBe(2);
    // The SNI and the SIP User-Agent are shown, as the characters they are.
    await page.fill('#f-text', 'script');
    const app = await page.locator('#flow-body tr:not(.spacer) td:nth-child(6)').allTextContents();
    expect(app.some((t) => t.includes(`SNI fe.contoso.com${HOSTILE}`))).toBe(true);
    expect(app.some((t) => t.includes(`User-Agent ${HOSTILE}`))).toBe(true);
    expect(await page.title()).toBe(`lync-port-audit: ${rc.capture}`);
    clean(o);
    // The policy allows the page's own script and style by hash, nothing else: an injected
    // inline script does not run, and a fetch never leaves.
    const csp = (await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content')) ?? '';
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[^']+'; script-src 'sha256-[^']+';/);
    await page.addScriptTag({ content: "document.title='injected'" }).catch(() => undefined);
    expect(await page.title()).toBe(`lync-port-audit: ${rc.capture}`);
    expect(o.violations.length).toBeGreaterThan(0);
    const fetched = await page.evaluate<string>(
      "fetch('https://example.com/x').then(() => 'sent', (e) => 'blocked: ' + e.message)",
    );
    expect(fetched).toMatch(/^blocked/);
    expect(o.requests).toEqual([]);
  });

  it('switches between light and dark schemes, and every status has its own icon', async () => {
    const o = await openReport(browser, pages.get('report')!);
    const { page } = o;
    const background = (): Promise<string> =>
      page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    const light = await background();
    await page.click('#scheme');
    expect(await page.getAttribute('html', 'data-scheme')).toBe('dark');
    expect(await background()).not.toBe(light);
    await page.screenshot({ path: join(OUT, 'report-dark.png') });
    const icons = await page.locator('#legend .badge .icon').allTextContents();
    expect(new Set(icons).size).toBe(icons.length);
    clean(o);
  });

  it('lists 100,000 flows in a table that filters and scrolls quickly', async () => {
    // The report capture's real analysis, its IPv4 flows repeated to 100,000 with clients in
    // seven /16 blocks (analysing a 100,000-flow capture here would cost more than the page does).
    const r = await runCliAsync([
      'analyze',
      '--no-progress',
      '--format',
      'json',
      rc.capture,
      '--topology',
      rc.topology,
    ]);
    const base = JSON.parse(r.stdout) as Analysis;
    const v4 = base.flows.filter((f) => !f.orig_h.includes(':'));
    const flows = Array.from({ length: 100_000 }, (_, i) => {
      const f = v4[i % v4.length];
      return {
        ...f,
        orig_h: `10.${20 + (i >> 14)}.${(i >> 7) & 127}.${(i & 127) + 1}`,
        orig_p: 1024 + (i % 60_000),
        ts: f.ts + i / 1000,
        first_frame: 2 * i + 1,
        last_frame: 2 * i + 2,
        community_id: `1:${i.toString(36)}`,
      };
    });
    const file = join(OUT, 'many-flows.html');
    writeFileSync(file, renderHtml({ ...base, flows }));
    const size = statSync(file).size;
    const o = await openReport(browser, file);
    const { page } = o;
    await expect.poll(() => page.textContent('#flow-count')).toBe('100,000 flows');
    // Virtualised: only the rows in view are in the document.
    expect(await page.locator('#flow-body tr').count()).toBeLessThan(120);
    const started = Date.now();
    await page.fill('#f-text', '10.21.5.');
    await expect.poll(() => page.textContent('#flow-count')).toBe('128 of 100,000 flows match');
    const filterMs = Date.now() - started;
    await page.fill('#f-text', '');
    await page.locator('#flow-scroll').evaluate((e) => (e.scrollTop = e.scrollHeight));
    await expect
      .poll(() => page.locator('#flow-body tr:not(.spacer) td.frames').last().textContent())
      .toBe('199999-200000');
    // The client hosts are grouped by address block, not listed one by one.
    const hosts = (await page.locator('#matrix th', { hasText: 'client' }).textContent()) ?? '';
    expect(hosts).toMatch(/10\.2[0-6]\.0\.0\/16 \([\d,]+ hosts\)/);
    clean(o);
    console.log(`100,000 flows: page ${(size / 1e6).toFixed(1)} MB, filter ${filterMs} ms`);
    expect(filterMs).toBeLessThan(5_000);
  }, 240_000);
});
