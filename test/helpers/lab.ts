/**
 * The lab's scenarios (test/lab/scenarios/<name>/expected.json) and how to get their captures:
 * run the live lab (test/lab/run.sh, root with network namespaces and the peers installed) or
 * fall back to the captures stored in test/lab/captures/, saying why.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './shared.js';

export const LAB_DIR = join(REPO_ROOT, 'test', 'lab');
export const SCENARIOS_DIR = join(LAB_DIR, 'scenarios');
export const STORED_DIR = join(LAB_DIR, 'captures');

export type Side = 'client' | 'server';
export const SIDES: readonly Side[] = ['client', 'server'];

/** The verdicts of issues 3 and 9, per flow. */
export type Verdict =
  'ok' | 'blocked' | 'refused' | 'filtered' | 'failed' | 'unexpected' | 'mismatch' | 'one-way' | 'incomplete';

/** A count in a flow record: exactly this many, or at least `min`. */
export type CountExpectation = number | { min: number };

/** What one side's capture must show for a flow, or `{ seen: false }` when it must be absent. */
export interface SideExpectation {
  seen?: false;
  verdict?: Verdict;
  conn_state?: string;
  /** The whole Zeek history, where it is deterministic (S0 "S", REJ "Sr"). */
  history?: string;
  /** Letters the history must not contain (e.g. "Ss": no handshake in the capture). */
  history_excludes?: string;
  orig_pkts?: CountExpectation;
  resp_pkts?: CountExpectation;
  icmp?: { type: number; code: number; reporter: string; about: 'orig' | 'resp'; count: number };
  /** The three axes of issue 9, where the scenario is about them. */
  network?: string;
  expectation?: string;
  app_outcome?: string;
  /** The finding that made the application fail. */
  app_outcome_finding?: string;
  /** Who sent the reset or the ICMP error, and (a subset of) the evidence. */
  answered_by?: 'responder' | 'path' | 'unknown';
  answered_by_evidence?: { kind?: string; answer_ttl?: number; responder_ttl?: number; reporter?: string };
}

export interface FlowExpectation {
  id: string;
  /** The lab step (run.sh) that makes this flow. */
  step: string;
  /** The rules.nft rule that acts on this flow, when one does. */
  rule?: string;
  /** Why the expectation is what it is, where that is not obvious. */
  note?: string;
  proto: 'tcp' | 'udp';
  client_role: string;
  client: string;
  client_port: number;
  server_role: string;
  server: string;
  server_port: number;
  /** What the peers actually speak on this flow (the catalog's protocol labels). */
  app: string;
  capture: Record<Side, SideExpectation>;
  /**
   * Where the router's NAT puts the flow in the server-side capture: the client's address (and
   * port) as the server sees them (test/lab/scenarios/nat-router).
   */
  nat?: { client: string; client_port: number };
  /**
   * What `compare client.pcapng server.pcapng` (a = client side, b = server side) must say of
   * this flow (src/compare/types.ts).
   */
  compare?: CompareExpectation;
}

export interface CompareExpectation {
  seen_at: ('a' | 'b')[];
  finding: string;
  segment: string | null;
  direction: string | null;
  /** Exactly this many, or at least `min` (a retry's timing against the end of the capture varies). */
  lost_a_to_b: CountExpectation;
  lost_b_to_a: CountExpectation;
  injected: boolean;
  injected_by?: { kind: string; seen_at: string; address: string; ttl: number; endpoint_ttl?: number };
  /** How the flow was found in both captures (5-tuple, nat-fingerprint), when the scenario is about it. */
  matched_by?: string;
}

/** Per capture side, per responder role, per "port/transport": how many flows got each verdict. */
export type RoleExpectation = Record<Side, Record<string, Record<string, Partial<Record<Verdict, number>>>>>;

export interface Scenario {
  scenario: string;
  summary: string;
  steps: string[];
  flows: FlowExpectation[];
  roles: RoleExpectation;
}

export interface Topology {
  roles: Record<string, string[]>;
}

export function scenarioNames(): string[] {
  return readdirSync(SCENARIOS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(SCENARIOS_DIR, d.name, 'expected.json')))
    .map((d) => d.name)
    .sort();
}

export function loadScenario(name: string): Scenario {
  return JSON.parse(readFileSync(join(SCENARIOS_DIR, name, 'expected.json'), 'utf8')) as Scenario;
}

export function loadTopology(path: string): Topology {
  return JSON.parse(readFileSync(path, 'utf8')) as Topology;
}

export function storedCapture(scenario: string, side: Side): string {
  return join(STORED_DIR, scenario, `${side}.pcapng`);
}

export interface LiveLab {
  /** Directory holding <scenario>/{client,server}.pcapng, when the lab ran. */
  dir?: string;
  /** Why the live lab did not run (printed), when it did not. */
  skipped?: string;
}

/**
 * Runs every scenario live when this process may: LPA_LAB=stored turns it off, LPA_LAB=live makes
 * an unavailable lab an error. run.sh exits 3 (with the reason on stderr) when root, network
 * namespaces, nftables or a peer program is missing; any other failure is a real failure.
 * All 13 scenarios took 4.5 minutes on two CPUs at a load average of 30 (measured), hence the
 * generous bound.
 */
export async function runLiveLab(timeoutMs = 600_000): Promise<LiveLab> {
  const mode = process.env.LPA_LAB ?? 'auto';
  const skip = (why: string): LiveLab => {
    if (mode === 'live') throw new Error(`LPA_LAB=live but the lab cannot run: ${why}`);
    const skipped = `lab: live run skipped, ${why}; testing the stored captures in ${STORED_DIR}`;
    console.warn(skipped);
    return { skipped };
  };
  if (mode === 'stored') return skip('LPA_LAB=stored');
  if (process.platform !== 'linux')
    return skip(`network namespaces need Linux (this is ${process.platform})`);
  if (process.getuid?.() !== 0) return skip(`it needs root (uid ${process.getuid?.()})`);
  const dir = mkdtempSync(join(tmpdir(), 'lpa-lab-test-'));
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(join(LAB_DIR, 'run.sh'), ['--out', dir, 'all'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', reject);
    child.on('close', (c) => {
      clearTimeout(timer);
      resolve({ code: c, stderr: err });
    });
  });
  if (code === 3) return skip(stderr.trim().replace(/^run\.sh: /, ''));
  if (code !== 0) throw new Error(`test/lab/run.sh failed (exit ${code}): ${stderr}\nlogs in ${dir}`);
  return { dir };
}

/** IPv4 or IPv6 address inside a CIDR block (or equal to a bare address). */
export function inCidr(addr: string, block: string): boolean {
  const [net, lenText] = block.split('/');
  const a = addressBits(addr);
  const n = addressBits(net);
  if (a === undefined || n === undefined || a.length !== n.length) return false;
  const len = lenText === undefined ? a.length : Number(lenText);
  return a.slice(0, len) === n.slice(0, len);
}

function addressBits(addr: string): string | undefined {
  if (addr.includes(':')) {
    const [head, tail] = addr.split('::');
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    if (groups.length !== 8) return undefined;
    return groups.map((g) => parseInt(g, 16).toString(2).padStart(16, '0')).join('');
  }
  const parts = addr.split('.').map(Number);
  if (parts.length !== 4) return undefined;
  return parts.map((p) => p.toString(2).padStart(8, '0')).join('');
}
