/**
 * Every way the output can fail ends in one line and exit 2, in every command and format
 * (issue 15), and how a run ends when interrupted; text that reaches a terminal is escaped
 * (issue 16, section 4). Each case runs the built CLI as a user would: through a real pipe that
 * `head` closes, to /dev/full, to a directory, a missing directory, a directory the user may not
 * write (as an unprivileged user), a file-size limit (EFBIG), and under Ctrl-C with a capture
 * arriving slowly on standard input.
 *
 * The captures are generated: one small (a mixed trace), one of 2,000 refused connections (its
 * reports are far larger than a pipe's 64 KiB, so a reader that goes away is noticed while
 * writing), and an endless stream of them for "stops reading the capture".
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeJsonText, toJson } from '../src/report/json.js';
import { escapeTerminal, terminalLine } from '../src/report/escape.js';
import { BIN, parseNdjson, runCli } from './helpers/cli.js';
import { pcapHeader, pcapRecord, writePcap } from './helpers/capture-writer.js';
import { dhcpMessage, opt } from './helpers/dhcp-bytes.js';
import { ACK, PROTO_UDP, RST, SYN, udp } from './helpers/packets.js';
import { sharedCapture, skipReason } from './helpers/shared.js';
import { TcpConn, Trace, ipFrame, mixedTrace, udpFrame } from './helpers/traffic.js';

/** A capture that does not exist: a run that read it before opening --out would say so. */
const MISSING = '/nonexistent-capture.pcap';

let dir: string;
let small: string;
let big: string;
let summary: string;
/** A topology for the small trace, so that analyze --format ndjson streams. */
let topology: string;

/** `n` refused connections (SYN, RST-ACK), each its own flow that ends at once. */
function refusedTrace(n: number, first = 0): Trace {
  const t = new Trace(1_700_000_000 + first);
  for (let i = first; i < first + n; i++) {
    const c = new TcpConn(t, {
      client: `10.1.${(i >> 8) & 0xff}.${i & 0xff}`,
      server: '10.0.0.10',
      cport: 40000 + (i % 20000),
      sport: 5061,
    });
    c.send(true, SYN).send(false, RST | ACK);
  }
  return t;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lpa-output-'));
  // Readable by the unprivileged user of the permission test.
  chmodSync(dir, 0o755);
  small = join(dir, 'small.pcap');
  writeFileSync(small, writePcap(mixedTrace().packets));
  big = join(dir, 'big.pcap');
  writeFileSync(big, writePcap(refusedTrace(2000).packets));
  topology = join(dir, 'topology.json');
  writeFileSync(topology, JSON.stringify({ roles: { 'front-end': ['10.0.0.10'], client: ['10.1.0.0/16'] } }));
  summary = join(dir, 'small.summary.json');
  const r = runCli(['analyze', '--format', 'summary', '-o', summary, small]);
  expect(r.status, r.stderr).toBe(0);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every command and format that writes a report, with its arguments (`capture` is the input). */
const FORMATS: { name: string; args: (capture: string) => string[]; out: boolean }[] = [
  { name: 'flows', args: (c) => ['flows', c], out: true },
  { name: 'analyze table', args: (c) => ['analyze', c], out: true },
  { name: 'analyze json', args: (c) => ['analyze', '--format', 'json', c], out: true },
  { name: 'analyze ndjson', args: (c) => ['analyze', '--format', 'ndjson', c], out: true },
  { name: 'analyze html', args: (c) => ['analyze', '--format', 'html', c], out: true },
  { name: 'merge', args: (c) => ['merge', c === MISSING ? MISSING : summary], out: true },
  { name: 'compare json', args: (c) => ['compare', '--format', 'json', c, c], out: true },
  { name: 'catalog', args: () => ['catalog', '--product', 'sfb2019', '--brief'], out: false },
];

interface Ran {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end, without blocking (the cases run side by side): its standard output
 * piped ("pipe"), to a reader that is gone before anything is written ("gone"), or to a file
 * descriptor (/dev/full).
 */
function exec(
  command: string,
  argv: string[],
  stdout: 'pipe' | 'gone' | number = 'pipe',
  input?: Buffer,
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['pipe', stdout === 'gone' ? 'pipe' : stdout, 'pipe'] });
    if (stdout === 'gone') child.stdout!.destroy();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    if (stdout === 'pipe') child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({
        status,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** The CLI, as a user runs it. */
function cli(args: string[], stdout: 'pipe' | 'gone' | number = 'pipe'): Promise<Ran> {
  return exec(process.execPath, [BIN, ...args], stdout);
}

/** The CLI inside a bash script ("$@" is the command line), e.g. in a pipeline or under ulimit. */
function inBash(script: string, args: string[]): Promise<Ran> {
  return exec('bash', ['-c', script, 'bash', process.execPath, BIN, ...args]);
}

/** `lync-port-audit ARGS | head -1`, with the CLI's own exit status (pipefail) and stderr. */
function pipedToHead(args: string[]): Promise<Ran> {
  return inBash('set -o pipefail; "$@" | head -1 > /dev/null', args);
}

/** Runs `fn` with a file descriptor open on /dev/full. */
async function withDevFull<T>(fn: (fd: number) => Promise<T>): Promise<T> {
  const fd = openSync('/dev/full', 'w');
  try {
    return await fn(fd);
  } finally {
    closeSync(fd);
  }
}

describe.concurrent('a reader that goes away (EPIPE): exit 0, nothing on stderr', () => {
  for (const f of FORMATS) {
    it(`${f.name}: the reader is gone before the first write`, async () => {
      const r = await cli(f.args(small), 'gone');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }

  // The reports of the big capture are megabytes: head's exit is noticed in the middle of writing.
  for (const f of FORMATS.filter((f) => !['analyze table', 'merge', 'catalog'].includes(f.name))) {
    it(`${f.name} | head -1`, async () => {
      const r = await pipedToHead(f.args(big));
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }

  it('analyze --format json ../shared/captures/synscan.pcap | head -1 (the report of issue 15)', async (ctx) => {
    const reason = skipReason('synscan.pcap');
    if (reason) return ctx.skip(reason);
    const r = await pipedToHead(['analyze', '--format', 'json', sharedCapture('synscan.pcap')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('flows --each: the reader is gone', async () => {
    const r = await cli(['flows', '--each', '-j', '1', small, big], 'gone');
    expect(r.stderr.replace(/^lync-port-audit: \[\d\/2\] .*\n/gm, '')).toBe('');
    expect(r.status).toBe(0);
  });
});

/**
 * Feeds an endless capture of refused connections on stdin until the CLI exits, and returns how
 * much it was given: a run that stops reading when its output fails exits long before the cap.
 */
async function endlessStdin(
  args: string[],
  stdout: 'gone' | number,
): Promise<{ status: number | null; stderr: string; written: number }> {
  const CAP = 128 * 1024 * 1024;
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['pipe', stdout === 'gone' ? 'pipe' : stdout, 'pipe'],
  });
  if (stdout === 'gone') child.stdout!.destroy();
  const err: Buffer[] = [];
  child.stderr!.on('data', (c: Buffer) => err.push(c));
  child.stdin!.on('error', () => undefined);
  let exited = false;
  const closed = new Promise<number | null>((resolve) =>
    child.on('close', (status) => {
      exited = true;
      resolve(status);
    }),
  );
  let written = 0;
  const write = async (b: Buffer): Promise<void> => {
    written += b.length;
    if (!child.stdin!.write(b))
      await Promise.race([once(child.stdin!, 'drain').catch(() => undefined), closed]);
  };
  await write(pcapHeader());
  // Refused connections, 2,000 a round, the clock going on: each ends 5 s after its RST (the
  // linger for stray packets), so records keep coming out.
  for (let round = 0; !exited && written < CAP; round++)
    await write(Buffer.concat(refusedTrace(2000, round * 2000).packets.map((p) => pcapRecord(p))));
  child.stdin!.destroy();
  const status = await closed;
  return { status, stderr: Buffer.concat(err).toString('utf8'), written };
}

describe('a failed output stops the read of the capture', () => {
  it('flows - (an endless capture on stdin) whose reader goes away: exit 0 after a few MB', async () => {
    const r = await endlessStdin(['flows', '-'], 'gone');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.written).toBeLessThan(32 * 1024 * 1024);
  });

  it('analyze --format ndjson - (streaming) to /dev/full: one line, exit 2, after a few MB', async () => {
    const r = await withDevFull((fd) =>
      endlessStdin(['analyze', '--format', 'ndjson', '--topology', topology, '-'], fd),
    );
    expect(r.stderr).toBe('lync-port-audit: cannot write standard output: no space left on device\n');
    expect(r.status).toBe(2);
    expect(r.written).toBeLessThan(32 * 1024 * 1024);
  });
});

describe.concurrent('a full disk (ENOSPC): one line, exit 2', () => {
  for (const f of FORMATS) {
    it(`${f.name} > /dev/full`, async () => {
      const r = await withDevFull((fd) => cli(f.args(small), fd));
      expect(r.stderr).toBe('lync-port-audit: cannot write standard output: no space left on device\n');
      expect(r.status).toBe(2);
    });
  }
  for (const f of FORMATS.filter((f) => f.out)) {
    it(`${f.name} --out /dev/full`, async () => {
      const r = await cli([...f.args(small), '--out', '/dev/full']);
      expect(r.stderr).toBe('lync-port-audit: cannot write /dev/full: no space left on device\n');
      expect(r.stdout).toBe('');
      expect(r.status).toBe(2);
    });
  }
});

/** The --out cases that fail when the file is opened: before any capture is read. */
describe.concurrent('--out that cannot be opened: one line, exit 2, before the capture is read', () => {
  const cases: { out: () => string; reason: string }[] = [
    { out: () => tmpdir(), reason: 'is a directory' },
    { out: () => '/nonexistent/dir/x', reason: 'no such file or directory' },
  ];
  for (const f of FORMATS.filter((f) => f.out))
    for (const c of cases)
      it(`${f.name} --out ${c.out()}: ${c.reason}`, async () => {
        const out = c.out();
        const r = await cli([...f.args(MISSING), '--out', out]);
        expect(r.stderr).toBe(`lync-port-audit: cannot write ${out}: ${c.reason}\n`);
        expect(r.stdout).toBe('');
        expect(r.status).toBe(2);
        expect(existsSync(`${out}.partial`)).toBe(false);
      });

  it('flows --out FILE/x where FILE is a file: not a directory', async () => {
    const r = await cli(['flows', '--out', join(small, 'x'), MISSING]);
    expect(r.stderr).toBe(`lync-port-audit: cannot write ${join(small, 'x')}: not a directory\n`);
    expect(r.status).toBe(2);
  });

  it('analyze --write-pcap to a directory or a missing one: the same line, before reading', async () => {
    for (const c of cases) {
      const out = c.out();
      const r = await cli(['analyze', '--write-pcap', out, MISSING]);
      expect(r.stderr).toBe(`lync-port-audit: cannot write ${out}: ${c.reason}\n`);
      expect(r.status).toBe(2);
    }
  });
});

describe.concurrent('a directory the user may not write (EACCES), as an unprivileged user', () => {
  /** How to run the CLI as a user without write permission on `locked`, or why it cannot be. */
  function asUnprivileged(): { prefix: string[]; locked: string } | string {
    const locked = join(dir, 'locked');
    mkdirSync(locked, { recursive: true });
    if (process.getuid?.() !== 0) {
      chmodSync(locked, 0o555);
      return { prefix: [], locked };
    }
    chmodSync(locked, 0o755); // root's; nobody may not write it
    const probe = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']);
    if (probe.error !== undefined || probe.status !== 0)
      return `setpriv cannot run a command as nobody here (${probe.error?.message ?? probe.stderr.toString().trim()})`;
    return { prefix: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'], locked };
  }

  for (const f of FORMATS.filter((f) => f.out)) {
    it(`${f.name} --out LOCKED/report`, async (ctx) => {
      const how = asUnprivileged();
      if (typeof how === 'string') {
        console.warn(`permission test skipped: ${how}`);
        return ctx.skip(how);
      }
      const out = join(how.locked, 'report');
      const [cmd, ...pre] = [...how.prefix, process.execPath];
      const r = await exec(cmd, [...pre, BIN, ...f.args(small), '--out', out]);
      expect(r.stderr).toBe(`lync-port-audit: cannot write ${out}: permission denied\n`);
      expect(r.status).toBe(2);
      expect(readdirSync(how.locked)).toEqual([]);
    });
  }
});

describe.concurrent('--out FILE is FILE.partial until the report is complete', () => {
  it('a complete report is renamed to FILE; no FILE.partial is left', async () => {
    const out = join(dir, 'complete.ndjson');
    const r = await cli(['flows', '--out', out, small]);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(`${out}.partial`)).toBe(false);
    expect(parseNdjson(readFileSync(out, 'utf8')).length).toBeGreaterThan(0);
  });

  // A file-size limit of 1 KiB makes a write fail with EFBIG halfway through the report.
  for (const f of FORMATS.filter((f) => f.out && f.name !== 'merge'))
    it(`${f.name}: a write that fails (EFBIG) removes FILE.partial and leaves FILE as it was`, async () => {
      const out = join(dir, `limited-${f.name.replace(' ', '-')}.out`);
      writeFileSync(out, 'the previous report\n');
      const r = await inBash('ulimit -f 1; exec "$@"', [...f.args(small), '--out', out]);
      expect(r.stderr).toBe(`lync-port-audit: cannot write ${out}: file too large\n`);
      expect(r.status).toBe(2);
      expect(existsSync(`${out}.partial`)).toBe(false);
      expect(readFileSync(out, 'utf8')).toBe('the previous report\n');
    });
});

/** A third capture for --each (a copy of the big one under another name). */
function thirdCapture(): string {
  const path = join(dir, 'third.pcap');
  if (!existsSync(path)) writeFileSync(path, readFileSync(big));
  return path;
}

/** A child reading a capture from a pipe that the test writes slowly, to be interrupted. */
class SlowCapture {
  readonly child: ChildProcess;
  private readonly out: Buffer[] = [];
  private readonly err: Buffer[] = [];
  readonly closed: Promise<{ status: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], readStdout = true) {
    this.child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    if (readStdout) this.child.stdout!.on('data', (c: Buffer) => this.out.push(c));
    this.child.stderr!.on('data', (c: Buffer) => this.err.push(c));
    this.child.stdin!.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      this.child.on('close', (status, signal) => resolve({ status, signal })),
    );
  }

  get stdout(): string {
    return Buffer.concat(this.out).toString('utf8');
  }

  get stderr(): string {
    return Buffer.concat(this.err).toString('utf8');
  }

  /** Resolves once the bytes are in the pipe: all but the last pipe-full have been read by the child. */
  write(b: Buffer): Promise<void> {
    return new Promise((resolve) => this.child.stdin!.write(b, () => resolve()));
  }

  /** Resolves when `test` holds for what the child printed (checked as output arrives). */
  async until(stream: 'stdout' | 'stderr', test: (text: string) => boolean): Promise<void> {
    const s = stream === 'stdout' ? this.child.stdout! : this.child.stderr!;
    while (!test(this[stream])) await new Promise((r) => s.once('data', r));
  }
}

/**
 * The capture that arrives slowly: a TCP session to the front end on 5061 that ends (FIN), 6 s
 * later a UDP flow still open, then 2 MB of other flows, far more than a pipe and a read window hold, so
 * that once written the first flows have certainly been read.
 */
function slowCaptureStart(): Buffer {
  const t = new Trace();
  new TcpConn(t, { client: '10.1.0.5', server: '10.0.0.10', cport: 50123, sport: 5061 })
    .handshake()
    .exchange(200, 300)
    .close();
  // Past the 5 s a closed connection lingers for stray packets: its record is then out.
  t.wait(6);
  t.add(udpFrame('10.1.0.5', '10.0.0.10', 50000, 3478, 100));
  for (let i = 0; i < 1400; i++) t.add(udpFrame('10.1.1.7', '10.0.0.10', 20000 + i, 50000, 1400));
  return Buffer.concat([pcapHeader(), ...t.packets.map((p) => pcapRecord(p))]);
}

describe('Ctrl-C and SIGTERM: the report of what was read, marked partial, exit 130 / 143', () => {
  it('analyze (table) from a slow stdin, Ctrl-C: the partial report, exit 130', async () => {
    const run = new SlowCapture(['analyze', '--topology', topology, '-']);
    await run.write(slowCaptureStart());
    run.child.kill('SIGINT');
    const end = await run.closed;
    expect(end.status, run.stderr).toBe(130);
    expect(run.stdout).toMatch(
      /note: partial report: interrupted by Ctrl-C \(SIGINT\) after \d+ packets of -/,
    );
    expect(run.stdout).toContain('5061');
    expect(run.stderr).toContain('interrupted by Ctrl-C (SIGINT): reporting what was read so far');
    expect(run.stderr).toMatch(/partial: -: the read stopped at byte [\d,]+, after [\d,]+ packets/);
  });

  it('flows - with SIGTERM: the records read so far (open flows too), exit 143', async () => {
    const run = new SlowCapture(['flows', '-']);
    await run.write(slowCaptureStart());
    // The TCP session ended with its FIN: its record is out as soon as the packets after it are read.
    await run.until('stdout', (s) => s.includes('"resp_p":5061'));
    run.child.kill('SIGTERM');
    const end = await run.closed;
    expect(end.status, run.stderr).toBe(143);
    const records = parseNdjson(run.stdout);
    // The UDP flow to 3478 was still open: it is written when the read stops.
    expect(records.some((r) => r.resp_p === 3478)).toBe(true);
    expect(run.stderr).toMatch(/partial: -: the read stopped/);
  });

  it('analyze --format json --out FILE, Ctrl-C: FILE.partial holds the partial report, FILE is not made', async () => {
    const out = join(dir, 'interrupted.json');
    const run = new SlowCapture(['analyze', '--format', 'json', '--topology', topology, '--out', out, '-']);
    await run.write(slowCaptureStart());
    run.child.kill('SIGINT');
    const end = await run.closed;
    expect(end.status, run.stderr).toBe(130);
    expect(existsSync(out)).toBe(false);
    const report = JSON.parse(readFileSync(`${out}.partial`, 'utf8')) as {
      summary: { partial?: boolean; captures: { stopped?: boolean }[]; notes: string[] };
      flows: { resp_p: number }[];
    };
    expect(report.summary.partial).toBe(true);
    expect(report.summary.captures[0].stopped).toBe(true);
    expect(report.summary.notes[0]).toMatch(/^partial report: interrupted by Ctrl-C/);
    expect(report.flows.some((f) => f.resp_p === 5061)).toBe(true);
    expect(run.stderr).toContain(`the partial report is in ${out}.partial`);
  });

  it('analyze --each, Ctrl-C after the first capture: the merged report of those read, exit 130', async () => {
    const run = new SlowCapture([
      'analyze',
      '--each',
      '-j',
      '1',
      '--topology',
      topology,
      small,
      big,
      thirdCapture(),
    ]);
    run.child.stdin!.end();
    await run.until('stderr', (s) => s.includes('[1/3]'));
    run.child.kill('SIGINT');
    const end = await run.closed;
    expect(end.status, run.stderr).toBe(130);
    expect(run.stdout).toMatch(/note: partial report: interrupted before [12] of 3 captures were read/);
    expect(run.stderr).toMatch(/3 captures, 0 failed, [12] interrupted/);
  });

  it('a second Ctrl-C quits at once, even while the report waits for a reader that does not read', async () => {
    // Nobody reads its standard output: the report (megabytes) waits for the pipe forever.
    const run = new SlowCapture(['analyze', '--format', 'json', '--topology', topology, '-'], false);
    await run.write(slowCaptureStart());
    run.child.kill('SIGINT');
    await run.until('stderr', (s) => s.includes('Ctrl-C again quits at once'));
    expect(run.child.exitCode).toBe(null);
    run.child.kill('SIGINT');
    const end = await run.closed;
    expect(end.signal ?? end.status).toBe(end.signal !== null ? 'SIGINT' : 130);
  });
});

describe('text that reaches a terminal (issue 16, section 4)', () => {
  const UNSAFE_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
  const nasty = 'a\u009b31mb\u0085c\u2028d\u2029e\u202ef\u2066g\u007fh';

  it('toJson escapes C1, U+2028/U+2029 and bidi controls as \\uXXXX and parses to the same data', () => {
    const value = { name: nasty, list: [nasty, 'plain', 1, null], nested: { [nasty]: true } };
    for (const indent of [undefined, 2]) {
      const text = toJson(value, indent);
      expect(text).not.toMatch(UNSAFE_JSON);
      expect(text).toContain('\\u009b');
      expect(text).toContain('\\u202e');
      expect(JSON.parse(text)).toEqual(value);
    }
    const lines = [value, value].map((v) => JSON.stringify(v) + '\n').join('');
    expect(parseNdjson(escapeJsonText(lines))).toEqual([value, value]);
    expect(escapeJsonText('{"a":"plain"}')).toBe('{"a":"plain"}');
  });

  it('terminal text: escapeTerminal and stderr lines escape ESC, BEL, C1 and bidi controls', () => {
    const name = 'x\u001b]0;owned\u0007\u202etxt.pcap';
    expect(escapeTerminal(name)).toBe('x\\x1b]0;owned\\x07\\u{202e}txt.pcap');
    expect(terminalLine(`error: ${name}\u009b`)).toBe('error: x\\x1b]0;owned\\x07\\u{202e}txt.pcap\\x9b');
    expect(terminalLine('C:\\captures\\a.pcap')).toBe('C:\\captures\\a.pcap');
  });

  /** A capture named with terminal controls whose DHCP host name carries C1 bytes. */
  function nastyCapture(): string {
    const t = new Trace();
    const host = Buffer.from([0x50, 0x43, 0x9b, 0x33, 0x31, 0x6d, 0x85, 0x80]); // "PC", CSI "31m", NEL, PAD
    const dhcp = dhcpMessage({ op: 1, xid: 7, options: [opt(53, [1]), opt(12, host)] });
    t.add(
      ipFrame(
        '0.0.0.0',
        '255.255.255.255',
        PROTO_UDP,
        udp({ src: '0.0.0.0', dst: '255.255.255.255', sport: 68, dport: 67, payload: dhcp }),
      ),
    );
    for (const p of mixedTrace().packets) t.packets.push(p);
    const path = join(dir, `evil\u001b[2J\u0007\u202e\u2028\u009b.pcap`);
    writeFileSync(path, writePcap(t.packets));
    return path;
  }

  it('JSON and NDJSON of every command: no raw C1, separators or bidi controls, the same data', async () => {
    const capture = nastyCapture();
    const hostName = JSON.stringify('PC\u009b31m\u0085\u0080').slice(1, -1);
    const fileName = JSON.stringify(capture).slice(1, -1);
    const runs: { name: string; args: string[]; docs: (stdout: string) => unknown[]; has: string[] }[] = [
      { name: 'flows', args: ['flows', capture], docs: parseNdjson, has: [hostName] },
      {
        name: 'flows --each',
        args: ['flows', '--each', '-j', '1', capture],
        docs: parseNdjson,
        has: [hostName, fileName],
      },
      {
        name: 'analyze json',
        args: ['analyze', '--format', 'json', capture],
        docs: (s) => [JSON.parse(s)],
        has: [hostName, fileName],
      },
      {
        name: 'analyze ndjson',
        args: ['analyze', '--format', 'ndjson', capture],
        docs: parseNdjson,
        has: [hostName],
      },
      {
        name: 'analyze summary',
        args: ['analyze', '--format', 'summary', capture],
        docs: parseNdjson,
        has: [fileName],
      },
    ];
    const results = await Promise.all(runs.map((r) => cli(r.args)));
    for (const [i, r] of runs.entries()) {
      const res = results[i];
      expect(res.status, `${r.name}: ${res.stderr}`).toBe(0);
      expect(res.stdout, r.name).not.toMatch(UNSAFE_JSON);
      // The data is all there, decoded: the host name's C1 bytes, the file name's controls.
      const text = JSON.stringify(r.docs(res.stdout));
      for (const h of r.has) expect(text, r.name).toContain(h);
    }
  });

  it('file names in the stderr summary, in error lines and in usage errors are escaped', async () => {
    const capture = nastyCapture();
    const RAW = /[\u001b\u0007\u009b\u202e\u2028]/;
    const [summaryRun, missing, out, usage] = await Promise.all([
      cli(['flows', capture]),
      cli(['analyze', `${capture}.missing`]),
      cli(['flows', '--out', join(`/nonexistent\u001b[31m`, 'x'), small]),
      cli(['analyze', '--format', 'x\u001b[31m', small]),
    ]);
    expect(summaryRun.status).toBe(0);
    expect(summaryRun.stderr).not.toMatch(RAW);
    expect(summaryRun.stderr).toContain('evil\\x1b[2J\\x07\\u{202e}\\u{2028}\\x9b.pcap');
    expect(missing.status).toBe(2);
    expect(missing.stderr).not.toMatch(RAW);
    expect(missing.stderr).toContain('evil\\x1b[2J');
    expect(out.stderr).toBe(
      'lync-port-audit: cannot write /nonexistent\\x1b[31m/x: no such file or directory\n',
    );
    expect(usage.status).toBe(2);
    expect(usage.stderr).not.toMatch(RAW);
    expect(usage.stderr).toContain('x\\x1b[31m');
  });
});

describe.concurrent('--help and --version to a failing output', () => {
  it('--help > /dev/full: one line, exit 2; --version to a reader that is gone: quiet, exit 0', async () => {
    const [full, gone] = await Promise.all([
      withDevFull((fd) => cli(['analyze', '--help'], fd)),
      cli(['--version'], 'gone'),
    ]);
    expect(full.stderr).toBe('lync-port-audit: cannot write standard output: no space left on device\n');
    expect(full.status).toBe(2);
    expect(gone.stderr).toBe('');
    expect(gone.status).toBe(0);
  });
});

describe.concurrent('exit statuses and examples in every --help', () => {
  for (const args of [[], ['flows'], ['analyze'], ['catalog'], ['merge'], ['compare']]) {
    it(`lync-port-audit ${args.join(' ')} --help`, async () => {
      const r = await cli([...args, '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('Exit status:');
      expect(r.stdout).toMatch(/^ {2}0 {4}done/m);
      expect(r.stdout).toMatch(/^ {2}2 {4}usage error/m);
      expect(r.stdout).toMatch(/^ {2}130 {2}interrupted by Ctrl-C \(SIGINT\), 143 by SIGTERM/m);
      if (args.length > 0) expect(r.stdout).toContain('Examples:');
      if (['analyze', 'merge', 'compare'].includes(args[0])) expect(r.stdout).toMatch(/^ {2}1 {4}--fail-on/m);
      if (args[0] !== 'catalog' && args.length > 0) expect(r.stdout).toContain('FILE.partial');
    });
  }
});
