/**
 * The verdict model of issue 9 as a user meets it, through the built CLI on the stored lab
 * captures: --fail-on tells the network (blocked) from the application (failed) from the
 * expectation (unexpected); the table tags an application failure APP and says what to fix; a
 * refused port from a peer the row does not name stays on its row, never in "never observed";
 * NDJSON streams the three axes and who answered.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parseNdjson, runCli } from './helpers/cli.js';
import { LAB_DIR, storedCapture } from './helpers/lab.js';
import type { Analysis } from '../src/verdict/analysis.js';
import type { JudgedFlow } from '../src/verdict/types.js';

const TOPOLOGY = join(LAB_DIR, 'topology.json');

/** `analyze` with the lab topology on a scenario's stored client-side capture. */
function analyzeLab(scenario: string, ...options: string[]): ReturnType<typeof runCli> {
  return runCli([
    'analyze',
    '--no-progress',
    '--topology',
    TOPOLOGY,
    ...options,
    storedCapture(scenario, 'client'),
  ]);
}

function status(scenario: string, failOn: string): number | null {
  return analyzeLab(scenario, '--format', 'json', '--fail-on', failOn).status;
}

describe('--fail-on: network, application and expectation apart', () => {
  it('a certificate the client rejects fails --fail-on failed, not --fail-on blocked', () => {
    expect(status('tls-certificate-rejected', 'failed')).toBe(1);
    expect(status('tls-certificate-rejected', 'blocked')).toBe(0);
    expect(status('tls-certificate-rejected', 'unexpected')).toBe(0);
    expect(status('tls-certificate-rejected', 'any')).toBe(1);
  });

  it('a reset from the router fails --fail-on blocked, not --fail-on failed', () => {
    expect(status('reset-by-router', 'blocked')).toBe(1);
    expect(status('reset-by-router', 'failed')).toBe(0);
  });

  it('rejects an unknown --fail-on value naming the choices', () => {
    const r = runCli(['analyze', '--fail-on', 'tls', storedCapture('all-open', 'client')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/blocked, failed, unexpected, any, none/);
  });
});

describe('the table', () => {
  it('tags an application failure APP, with what to fix, and counts it as judged', () => {
    const r = analyzeLab('tls-certificate-rejected');
    expect(r.status).toBe(0);
    const text = r.stdout.replace(/\s+/g, ' ');
    expect(text).toMatch(/APP front-end TCP 5061 .*\[ok 1, failed 1\]/);
    expect(text).toMatch(/unknown_ca \(48\): the client does not accept the server's certificate/);
    expect(text).toMatch(/a certificate problem, not a firewall rule/);
    expect(text).not.toMatch(/FAIL front-end/);
  });

  it('keeps a refused port from an unlisted peer on its row, and out of "never observed"', () => {
    const r = analyzeLab('unlisted-peer', '--format', 'json');
    const a = JSON.parse(r.stdout) as Analysis;
    const med = a.roles.find((x) => x.role === 'mediation')!;
    const row = med.rows.find((x) => x.ports === '5068')!;
    expect(row.verdicts).toEqual({ refused: 1, filtered: 1, unexpected: 1 });
    expect(row.expectation).toEqual({ 'unexpected-peer': 3 });
    expect(row.network).toEqual({ answered: 1, refused: 1, filtered: 1 });
    expect(med.not_seen.map((n) => n.ports)).not.toContain('5068');
    expect(med.unexpected).toEqual([]);
    expect(a.summary.judged).toBe(4);
  });
});

describe('NDJSON', () => {
  it('streams every judged flow with the three axes, and who answered the resets', () => {
    const r = analyzeLab('reset-by-router', '--format', 'ndjson');
    expect(r.status).toBe(0);
    const flows = parseNdjson<JudgedFlow>(r.stdout).filter((f) => f.proto === 'tcp');
    expect(
      flows.map((f) => [f.resp_p, f.network, f.expectation, f.app_outcome, f.answered_by ?? null]),
    ).toEqual([
      [5061, 'answered', 'expected', 'worked', null],
      [8057, 'refused', 'expected', 'not-seen', 'path'],
      [8058, 'refused', 'expected', 'not-seen', 'responder'],
    ]);
    expect(flows[1].answered_by_evidence).toMatchObject({
      kind: 'tcp-reset',
      field: 'ttl',
      answer_ttl: 64,
      responder_ttl: 63,
    });
  });
});
