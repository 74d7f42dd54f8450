/**
 * The library entry (package.json "main"/"types"/"exports" → dist/index.js, dist/index.d.ts): the
 * README's example runs against the built package and type-checks against its declarations, and
 * the library's records are the CLI's records.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from '../bench/generate.mjs';
import { flowRecords, readFlowRecords, type FlowRecord } from '../src/index.js';
import { parseNdjson, runCli } from './helpers/cli.js';
import { REPO_ROOT } from './helpers/shared.js';

const EXAMPLE = join(REPO_ROOT, 'samples', 'library-example.mjs');
const SAMPLE = join(REPO_ROOT, 'samples', 'edge-udp-blocked', 'capture.pcapng');
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  main: string;
  types: string;
  exports: { '.': { types: string; default: string } };
};

const tmp = mkdtempSync(join(tmpdir(), 'lpa-library-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the library entry', () => {
  it('is built where package.json says', () => {
    for (const file of [pkg.main, pkg.types, pkg.exports['.'].default, pkg.exports['.'].types])
      expect(statSync(join(REPO_ROOT, file)).size).toBeGreaterThan(0);
  });

  it('runs the README example against the built package', () => {
    const r = spawnSync(process.execPath, [EXAMPLE], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('109 packets, 9 flows: { tls: 3, dhcp: 1, stun: 3, sip: 1, rtp: 1 }');
    expect(lines).toContain('edge-external UDP 3478 (A/V Edge service): { blocked: 1 }');
    // The call's plaintext SIP to TCP 5060 comes from a client, not a trusted application: unexpected.
    expect(lines).toContain('front-end TCP 5060 (Lync Server Front-End service): { unexpected: 1 }');
    expect(lines.at(-1)).toMatch(/^3 problem flows; first: STUN Binding request [0-9a-f]+ got no response/);
  });

  it('is the example the README shows', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const body = readFileSync(EXAMPLE, 'utf8');
    expect(readme).toContain('```js\n' + body + '```\n');
  });

  it('type-checks the example against dist/index.d.ts', () => {
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = [tsc, '--noEmit', '--allowJs', '--checkJs', '--strict', '--skipLibCheck'];
    args.push('--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022');
    args.push('--types', 'node', EXAMPLE);
    const r = spawnSync(process.execPath, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 120_000);
});

describe('flowRecords()', () => {
  it('yields the records `flows` prints, in the same order', async () => {
    const cli = parseNdjson(runCli(['flows', '--no-progress', SAMPLE]).stdout);
    const lib: FlowRecord[] = [];
    const stream = flowRecords(SAMPLE);
    for await (const rec of stream) lib.push(rec);
    expect(JSON.parse(JSON.stringify(lib))).toEqual(cli);
    const { captures, stats } = await stream.result;
    expect(captures[0].packets).toBe(109);
    expect(stats.flows).toBe(cli.length);
  });

  const big = join(tmp, 'big.pcap');
  const built = generate({ packets: 60_000, seed: 3, out: big });

  it('reads on as the consumer reads, and stops when the loop stops', async () => {
    let all = 0;
    await readFlowRecords([big], { onRecord: () => all++ });
    expect(all).toBeGreaterThan(100);
    const stream = flowRecords(big);
    let seen = 0;
    for await (const rec of stream) {
      expect(rec.community_id).toMatch(/^1:/);
      if (++seen === 3) break;
    }
    const { captures } = await stream.result;
    // The read stopped within a few read windows, not at the end of the 60,000 packets.
    expect(captures[0].packets).toBeGreaterThan(0);
    expect(captures[0].packets).toBeLessThan(built.packets);
  });

  it('holds the reader back while the consumer waits, and delivers everything after', async () => {
    const stream = flowRecords(big, { ahead: 16 });
    let done = false;
    void stream.result.then(() => (done = true));
    let seen = 0;
    for await (const rec of stream) {
      expect(rec.community_id).toMatch(/^1:/);
      if (++seen === 1) {
        await new Promise((resolve) => setTimeout(resolve, 400));
        // Without back-pressure the 19 MB would long be read; with it, the reader waits for us.
        expect(done).toBe(false);
      }
    }
    const { stats, captures } = await stream.result;
    expect(seen).toBe(stats.flows);
    expect(captures[0].packets).toBe(built.packets);
  });

  it('reports unreadable input in the result, not as a throw', async () => {
    const stream = flowRecords(join(tmp, 'missing.pcap'));
    const got: FlowRecord[] = [];
    for await (const rec of stream) got.push(rec);
    expect(got).toEqual([]);
    const { captures } = await stream.result;
    expect(captures[0].error?.message).toMatch(/missing\.pcap/);
  });
});
