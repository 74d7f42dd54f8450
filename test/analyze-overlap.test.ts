/**
 * `analyze` given two captures of the same traffic (the lab's client side and server side of its
 * router, recorded at the same time) counts every flow seen at both points twice: it must say so
 * and point at `compare`. A capture cut in pieces (a ring buffer: editcap -c) is one capture and
 * must not get the warning.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli } from './helpers/cli.js';
import { LAB_DIR, storedCapture } from './helpers/lab.js';
import { editcapAvailable } from './helpers/tshark.js';
import type { Analysis } from '../src/verdict/analysis.js';

const topology = join(LAB_DIR, 'topology.json');
const client = storedCapture('reset-by-router', 'client');
const server = storedCapture('reset-by-router', 'server');

function analyze(...captures: string[]): { analysis: Analysis; stderr: string } {
  const run = runCli(['analyze', '--no-progress', '--format', 'json', '--topology', topology, ...captures]);
  expect(run.status, run.stderr).toBe(0);
  return { analysis: JSON.parse(run.stdout) as Analysis, stderr: run.stderr };
}

describe('analyze warns when its inputs are two captures of the same traffic', () => {
  it('client and server side of the lab router: a note and a warning that name compare', () => {
    const { analysis, stderr } = analyze(client, server);
    const notes = analysis.summary.notes.filter((n) => n.includes('lync-port-audit compare'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(`compare ${client} ${server}`);
    expect(notes[0]).toMatch(/share 2 hosts/);
    expect(stderr).toContain(`warning: ${notes[0]}`);
    // The doubling it warns about: the SIP/TLS session seen at both points is one flow with
    // the packets of both captures.
    const alone = analyze(client).analysis.flows.find((f) => f.resp_p === 5061)!;
    const both = analysis.flows.find((f) => f.resp_p === 5061)!;
    expect(both.orig_pkts + both.resp_pkts).toBe(2 * (alone.orig_pkts + alone.resp_pkts));
  });

  it('one capture, and one capture cut in pieces, get no such note', (ctx) => {
    expect(analyze(client).analysis.summary.notes.join('\n')).not.toContain('compare');
    if (!editcapAvailable()) {
      console.warn('analyze-overlap: editcap is not installed; the ring-buffer case is skipped');
      ctx.skip();
    }
    const dir = mkdtempSync(join(tmpdir(), 'lpa-ring-'));
    try {
      const r = spawnSync('editcap', ['-c', '8', client, join(dir, 'ring.pcapng')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const pieces = readdirSync(dir)
        .sort()
        .map((f) => join(dir, f));
      expect(pieces.length).toBeGreaterThan(1);
      const { analysis, stderr } = analyze(...pieces);
      expect(analysis.summary.notes.join('\n')).not.toContain('compare');
      expect(stderr).not.toContain('warning:');
      expect(analysis.summary.flows).toBe(analyze(client).analysis.summary.flows);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
