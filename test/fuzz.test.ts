/**
 * Fuzz-style tests of `flows` with deterministic seeds:
 * - a small capture cut at every byte offset (pcap and pcapng), and its gzip cut at every offset;
 * - real captures (pcap and pcapng, plain and gzip) with random bits flipped.
 * Every case must end by itself, exit 0 or 2, print no stack trace, and name the input and the
 * byte offset of the first bad structure on one `error:` line (test/helpers/outcome.ts). The
 * flows read before the error must still be printed: a cut file prints exactly the flows of its
 * last complete record, and a damaged file prints exactly what its bytes up to the reported
 * offset print.
 *
 * Each case runs twice: through the command's code in this process (runFlows, fast, where the
 * flows are compared), and through the built CLI, many cases per process (as `flows a b c ...`
 * reads them), where exit status, error lines, offsets and packet counts must be the same.
 * Real captures come from ../shared; without it the same tests run on synthetic captures.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { layout, writePcap, writePcapng } from './helpers/capture-writer.js';
import { runCliAsync } from './helpers/cli.js';
import { checkOutcome, flowsInProcess, packetsPerInput, type Outcome } from './helpers/outcome.js';
import { prng } from './helpers/packets.js';
import { sharedAvailable, sharedCapture } from './helpers/shared.js';
import { TcpConn, Trace, mixedTrace } from './helpers/traffic.js';
import { controlCharacter, runCase } from '../scripts/fuzz/case.mjs';
import { buildGenerated, loadCorpus } from '../scripts/fuzz/corpus.mjs';
import { MUTATIONS, makeCase } from '../scripts/fuzz/mutate.mjs';

const dir = mkdtempSync(join(tmpdir(), 'lpa-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const shared = sharedAvailable();
if (!shared) console.warn('fuzz: ../shared is absent, fuzzing synthetic captures instead of real ones');

interface Case {
  label: string;
  path: string;
  outcome?: Outcome;
}

let fileNo = 0;
function newCase(label: string, bytes: Buffer): Case {
  const path = join(dir, `${fileNo++}.cap`);
  writeFileSync(path, bytes);
  return { label, path };
}

/** Runs one case in process and checks the invariants; problems are prefixed with the case's label. */
async function run(c: Case, problems: string[]): Promise<Outcome> {
  const { outcome, problems: found } = checkOutcome(await flowsInProcess(c.path), [c.path]);
  for (const p of found) problems.push(`${c.label}: ${p}`);
  c.outcome = outcome;
  return outcome;
}

/**
 * Runs the cases through the built CLI, 100 inputs per process: the invariants must hold, and
 * each input must get the error line (offset included) and the packet count it got in process.
 */
async function runThroughCli(cases: Case[], problems: string[]): Promise<void> {
  for (let i = 0; i < cases.length; i += 100) {
    const batch = cases.slice(i, i + 100);
    const names = batch.map((c) => c.path);
    const r = await runCliAsync(['flows', '--no-progress', ...names], { timeoutMs: 120_000 });
    const { outcome, problems: found } = checkOutcome(r, names);
    for (const p of found)
      problems.push(`CLI on ${batch[0].label} ... ${batch[batch.length - 1].label}: ${p}`);
    const packets = packetsPerInput(r.stderr, names);
    const anyError = batch.some((c) => c.outcome!.errors.length > 0);
    if (r.status !== (anyError ? 2 : 0))
      problems.push(`CLI exit status ${r.status}, in process ${anyError ? 2 : 0}`);
    for (const c of batch) {
      const mine = outcome.errors.filter((e) => e.name === c.path).map((e) => `${e.offset}: ${e.problem}`);
      const theirs = c.outcome!.errors.map((e) => `${e.offset}: ${e.problem}`);
      if (JSON.stringify(mine) !== JSON.stringify(theirs))
        problems.push(`${c.label}: CLI error ${JSON.stringify(mine)}, in process ${JSON.stringify(theirs)}`);
      if (packets.get(c.path) !== c.outcome!.packets)
        problems.push(
          `${c.label}: CLI read ${packets.get(c.path)} packets, in process ${c.outcome!.packets}`,
        );
    }
  }
}

/** A tiny TCP exchange: the synthetic stand-in for a small real capture. */
function tinyTrace(): Trace {
  const t = new Trace();
  new TcpConn(t, { client: '192.0.2.1', server: '192.0.2.2', cport: 40000, sport: 5061 })
    .handshake()
    .send(true, 0x18, 20);
  return t;
}

const small: [string, () => Buffer][] = shared
  ? [
      ['tcp-handshake-nano.pcap', () => readFileSync(sharedCapture('tcp-handshake-nano.pcap'))],
      ['tcp_refuseconnection.pcapng', () => readFileSync(sharedCapture('tcp_refuseconnection.pcapng'))],
    ]
  : [
      ['tiny.pcap', () => writePcap(tinyTrace().packets, { nanosecond: true })],
      ['tiny.pcapng', () => writePcapng(tinyTrace().packets)],
    ];

describe('a small capture cut at every offset', () => {
  it.each(small)(
    '%s',
    async (name, load) => {
      const bytes = load();
      const { headerEnd, records } = layout(bytes);
      // A cut at a record boundary leaves a valid file; its flows are what every cut inside the next record must print.
      const boundaries = [headerEnd, ...records.map((r) => r.end)];
      const problems: string[] = [];
      const reference = new Map<number, Outcome>();
      for (const b of boundaries)
        reference.set(b, await run(newCase(`${name}[0:${b}]`, bytes.subarray(0, b)), problems));
      const cases: Case[] = [];
      for (let n = 0; n < bytes.length; n++) {
        const c = newCase(`${name} cut at ${n}`, bytes.subarray(0, n));
        cases.push(c);
        const o = await run(c, problems);
        const last = [...boundaries].reverse().find((b) => b <= n);
        if (last === n) {
          if (o.status !== 0)
            problems.push(`${c.label}: a cut at a record boundary is a valid file, got status ${o.status}`);
          continue;
        }
        // Inside the file header nothing is read and the error is at byte 0; inside a record it names the record's start.
        const expectedOffset = last ?? 0;
        if (o.errors.length !== 1 || o.errors[0].offset !== expectedOffset)
          problems.push(
            `${c.label}: expected one error at byte ${expectedOffset}, got ${JSON.stringify(o.errors)}`,
          );
        const ref = last === undefined ? undefined : reference.get(last);
        if (o.packets !== (ref?.packets ?? 0))
          problems.push(`${c.label}: ${o.packets} packets read, expected ${ref?.packets ?? 0}`);
        if (o.stdout !== (ref?.stdout ?? '')) problems.push(`${c.label}: the flows before the cut differ`);
      }
      expect(reference.get(boundaries[boundaries.length - 1])!.packets).toBe(
        records.filter((r) => r.packet).length,
      );
      await runThroughCli(cases, problems);
      expect(problems).toEqual([]);
    },
    300_000,
  );

  it.each(small)(
    '%s gzip-compressed, cut at every offset',
    async (name, load) => {
      const plain = load();
      const { headerEnd, records } = layout(plain);
      const zipped = gzipSync(plain);
      const problems: string[] = [];
      // The flows of the first k packets, to compare with what a cut gzip stream delivered.
      const prefixes: string[] = [];
      for (const end of [headerEnd, ...records.filter((r) => r.packet).map((r) => r.end)])
        prefixes.push((await run(newCase(`${name}[0:${end}]`, plain.subarray(0, end)), problems)).stdout);
      const cases: Case[] = [];
      for (let n = 0; n < zipped.length; n++) {
        const c = newCase(`${name}.gz cut at ${n}`, zipped.subarray(0, n));
        cases.push(c);
        const o = await run(c, problems);
        if (o.status !== 2 || o.errors.length !== 1)
          problems.push(`${c.label}: expected one error, got status ${o.status}`);
        else if (o.errors[0].offset > plain.length)
          problems.push(`${c.label}: error offset ${o.errors[0].offset} past the data`);
        if (o.stdout !== prefixes[o.packets])
          problems.push(`${c.label}: the flows of the ${o.packets} packets read differ`);
      }
      await runThroughCli(cases, problems);
      expect(problems).toEqual([]);
    },
    300_000,
  );
});

/** Flips 1-4 random bits, half of them in the first 256 bytes where the headers are. */
function flip(bytes: Buffer, rand: () => number): Buffer {
  const out = Buffer.from(bytes);
  const n = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    const span = rand() < 0.5 ? Math.min(256, out.length) : out.length;
    out[Math.floor(rand() * span)] ^= 1 << Math.floor(rand() * 8);
  }
  return out;
}

const real: [string, () => Buffer][] = shared
  ? [
      'sip.pcap',
      'nanosecs_big_endian.pcap',
      'linux_dlt_sll2.pcap',
      'stun.pcap', // pcapng, five interfaces
      'pcapng-testgen_be_test202.pcapng', // three sections of mixed byte order, every block type
      'many_interfaces-1.pcapng',
    ].map((n) => [n, () => readFileSync(sharedCapture(n))])
  : [
      ['mixed.pcap', () => writePcap(mixedTrace().packets)],
      ['mixed-be.pcapng', () => writePcapng(mixedTrace().packets, { linkType: 1, tsresol: 9 }, false)],
    ];

describe('random bit flips', () => {
  it.each(real)(
    '%s: 60 cases, plain and gzip',
    async (name, load) => {
      const original = load();
      const zippedOriginal = gzipSync(original);
      const problems: string[] = [];
      const cases: Case[] = [];
      for (let i = 0; i < 60; i++) {
        const rand = prng(0x5eed0000 + i * 7919 + name.length);
        if (i % 4 === 3) {
          // Damage inside the compressed stream: a gzip error, or rarely a changed packet.
          const c = newCase(`${name} gzip stream flip #${i}`, flip(zippedOriginal, rand));
          cases.push(c);
          await run(c, problems);
          continue;
        }
        const damaged = flip(original, rand);
        const gz = i % 4 === 2;
        const c = newCase(`${name} flip #${i}${gz ? ' (gzip)' : ''}`, gz ? gzipSync(damaged) : damaged);
        cases.push(c);
        const o = await run(c, problems);
        if (o.errors.length === 0) continue;
        // The flows before the error: the same bytes up to the reported offset give the same output.
        const before = await run(
          newCase(`${c.label} before the error`, damaged.subarray(0, o.errors[0].offset)),
          problems,
        );
        if (before.packets !== o.packets)
          problems.push(`${c.label}: ${o.packets} packets, but ${before.packets} before the error offset`);
        if (before.stdout !== o.stdout)
          problems.push(`${c.label}: the flows differ from those of the bytes before the error`);
      }
      await runThroughCli(cases, problems);
      expect(problems).toEqual([]);
    },
    300_000,
  );
});

describe('random bit flips inside packet headers, the file structure intact', () => {
  it('300 mutated traces: every packet is read, nothing escapes a decoder', async () => {
    const packets = mixedTrace().packets;
    const problems: string[] = [];
    const cases: Case[] = [];
    for (let i = 0; i < 300; i++) {
      const rand = prng(0xdec0de00 + i);
      // Flip bits in the first 90 bytes of a few packets: link, IP (options, fragments, extension
      // headers), transport and quoted ICMP headers.
      const mutated = packets.map((p) => ({ ...p, data: Buffer.from(p.data) }));
      for (let k = 0; k < 1 + Math.floor(rand() * 6); k++) {
        const p = mutated[Math.floor(rand() * mutated.length)];
        p.data[Math.floor(rand() * Math.min(90, p.data.length))] ^= 1 << Math.floor(rand() * 8);
      }
      const bytes = i % 2 ? writePcapng(mutated) : writePcap(mutated);
      const c = newCase(`header mutation #${i}`, bytes);
      cases.push(c);
      const o = await run(c, problems);
      if (o.status !== 0 || o.packets !== packets.length)
        problems.push(`${c.label}: status ${o.status}, ${o.packets} of ${packets.length} packets`);
    }
    await runThroughCli(cases, problems);
    expect(problems).toEqual([]);
  }, 300_000);
});

describe('the fuzz campaign, a short fixed-seed slice (npm run fuzz runs the whole)', () => {
  it('300 cases of seed 14: mutated real and generated captures through flows and analyze, no fault', async () => {
    const lib = await import('../src/index.js');
    const generated = join(dir, 'generated');
    buildGenerated(generated);
    const corpus = loadCorpus(shared ? sharedCapture('') : '', generated);
    const catalog = lib.loadCatalogForAnalysis(lib.DEFAULT_PRODUCT, []);
    const problems: string[] = [];
    for (let i = 0; i < 300; i++) {
      const c = makeCase(corpus, 14, i);
      const path = join(dir, `slice-${i}${c.gzip ? '.pcap.gz' : '.pcap'}`);
      writeFileSync(path, c.bytes);
      const r = await runCase(lib, catalog, path, c.bytes.length, c.gzip, { html: i % 16 === 0 });
      for (const f of r.faults)
        problems.push(
          `case 14:${i} (${c.base}, ${c.mutations.join(' + ')}): ${f.stage} fault in ${f.where}: ${f.message}`,
        );
      rmSync(path);
    }
    expect(problems).toEqual([]);
  }, 300_000);
});

describe("the fuzz campaign's inputs cover issue 14's list", () => {
  it('3,000 cases of the default seed: every mutation kind, and payload edits of every protocol the issue names', () => {
    const generated = join(dir, 'generated-coverage');
    buildGenerated(generated);
    const corpus = loadCorpus(shared ? sharedCapture('') : '', generated);
    const kinds = new Map<string, number>();
    const protocols = new Map<string, number>();
    for (let i = 0; i < 3000; i++)
      for (const m of makeCase(corpus, 1, i).mutations) {
        const kind = m.replace(/\(.*\)$/, '');
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        // payload(sip,tls): the protocols of the payloads that case damaged (scripts/fuzz/mutate.mjs payloadProtocol).
        for (const p of /^payload\((.*)\)$/.exec(m)?.[1].split(',') ?? [])
          protocols.set(p, (protocols.get(p) ?? 0) + 1);
      }
    for (const kind of new Set(MUTATIONS)) expect(kinds.get(kind) ?? 0, kind).toBeGreaterThan(50);
    expect(kinds.get('gzip-damage') ?? 0).toBeGreaterThan(0);
    // DHCP, DCE/RPC and SMB (and most STUN and SDP) come from the real captures; the generated ones carry SIP, TLS and RTP.
    const expected = shared
      ? ['sip', 'sip+sdp', 'tls', 'stun', 'rtp', 'rtcp', 'dhcp', 'dcerpc', 'smb']
      : ['sip', 'tls', 'rtp'];
    for (const p of expected) expect(protocols.get(p) ?? 0, p).toBeGreaterThan(0);
  }, 120_000);
});

describe("the campaign's terminal-injection check", () => {
  it('finds what escapeTerminal keeps out of the table (controls, bidi, lone surrogates), not line ends or pairs', () => {
    expect(controlCharacter('role  port\n  ok \u{1f600} \\x1b')).toBeUndefined();
    expect(controlCharacter('From: a\x1b[2Jb')).toMatch(/^U\+001B at 7: /);
    expect(controlCharacter('x\u009by')).toMatch(/^U\+009B /);
    expect(controlCharacter('evil\u202etxt.exe')).toMatch(/^U\+202E /);
    expect(controlCharacter('half \ud83d pair')).toMatch(/^U\+D83D /);
    expect(controlCharacter('tab\tstop')).toMatch(/^U\+0009 /);
  });
});
