/**
 * `compare` on the lab's two captures of each scenario (the router's client-facing interface as
 * A, its server bridge as B; test/lab/run.sh records both at once): per flow, the segment and the
 * direction in which packets died, the losses counted each way, and the answers the router
 * injected, as each scenario's expected.json says next to its rules.nft. The live lab's fresh
 * captures are checked the same way in lab.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { checkCompare, compareLab, compareScenarios } from './helpers/compare-lab.js';
import { loadScenario, scenarioNames, storedCapture } from './helpers/lab.js';

const scenarios = compareScenarios(scenarioNames().map(loadScenario));

describe('compare on the stored lab captures', () => {
  it('covers every finding the issue names', () => {
    const findings = new Set(scenarios.flatMap((s) => s.flows.map((f) => f.compare?.finding)));
    for (const f of [
      'passed',
      'forward-path-dropped',
      'return-path-dropped',
      'injected-reset',
      'injected-icmp',
      'refused-beyond',
    ])
      expect([...findings]).toContain(f);
  });

  it.for(scenarios.map((s) => [s.scenario, s] as const))('%s', ([, s], ctx) => {
    const client = storedCapture(s.scenario, 'client');
    const server = storedCapture(s.scenario, 'server');
    if (!existsSync(client) || !existsSync(server)) {
      console.warn(
        `compare-lab: ${client} is missing; make it with sudo test/lab/run.sh --store ${s.scenario}`,
      );
      ctx.skip();
    }
    const c = compareLab(client, server);
    expect(checkCompare(s, c)).toEqual([]);
    // Flows counted once: no two compared flows hold the same flow of a capture.
    for (const p of ['a', 'b'] as const) {
      const frames = c.flows
        .filter((f) => f[p])
        .map((f) => `${f[p]!.first_frame}/${f.proto}/${f[p]!.orig_p}`);
      expect(new Set(frames).size).toBe(frames.length);
    }
    expect(c.summary.flows).toBe(c.flows.length);
  });
});
