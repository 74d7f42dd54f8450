/**
 * The topology: which address plays which role. Given by the user (a JSON or YAML file, or
 * --role ROLE=ADDR[,ADDR...] on the command line), or inferred from the traffic (infer.ts).
 * One host may carry several roles (a Front End with a collocated Mediation Server that also
 * holds the Central Management store). When an address matches several entries, the most
 * specific prefix wins: a server listed by address inside a client /16 is a server.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { addressWords, dottedQuadValue, parsePrefix, prefixContains, type Prefix } from './address.js';

/** yaml is loaded on first use (a YAML topology file): importing it costs ~40 ms at every startup. */
function parseYaml(text: string): unknown {
  return (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);
}

export interface RoleEntry {
  role: string;
  prefix: Prefix;
}

export interface RoleEvidence {
  role: string;
  address: string;
  /** Why this host was given this role, in words ("answers TCP 5061 (12 flows) and TCP 444 (3 flows)"). */
  evidence: string;
}

export interface Topology {
  source: 'file' | 'command-line' | 'inferred' | 'file+inferred' | 'none';
  entries: RoleEntry[];
  /** For inferred roles: the evidence per host. */
  inferred: RoleEvidence[];
}

export class TopologyError extends Error {
  override name = 'TopologyError';
}

export function emptyTopology(): Topology {
  return { source: 'none', entries: [], inferred: [] };
}

function checkRole(role: string, validRoles: ReadonlySet<string> | undefined, where: string): void {
  if (validRoles !== undefined && !validRoles.has(role))
    throw new TopologyError(
      `${where}: unknown role "${role}" (valid roles: ${[...validRoles].sort().join(', ')})`,
    );
}

/** Reads a topology file: {"roles": {"front-end": ["10.0.0.10"], "client": ["10.1.0.0/16"]}} in JSON or YAML. */
export function loadTopologyFile(path: string, validRoles?: ReadonlySet<string>): Topology {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TopologyError(`${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let doc: unknown;
  try {
    doc = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new TopologyError(
      `${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'JSON or YAML'}: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  return topologyFromDocument(doc, path, validRoles);
}

export function topologyFromDocument(
  doc: unknown,
  where: string,
  validRoles?: ReadonlySet<string>,
): Topology {
  if (typeof doc !== 'object' || doc === null || !('roles' in doc))
    throw new TopologyError(
      `${where}: expected an object with a "roles" member, e.g. {"roles": {"front-end": ["10.0.0.10"]}}`,
    );
  const roles = (doc as { roles: unknown }).roles;
  if (typeof roles !== 'object' || roles === null || Array.isArray(roles))
    throw new TopologyError(`${where}: "roles" must map role ids to lists of addresses`);
  const entries: RoleEntry[] = [];
  for (const [role, value] of Object.entries(roles as Record<string, unknown>)) {
    checkRole(role, validRoles, `${where}: roles.${role}`);
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list))
      throw new TopologyError(`${where}: roles.${role} must be a list of addresses or CIDR blocks`);
    list.forEach((item, i) => {
      if (typeof item !== 'string') throw new TopologyError(`${where}: roles.${role}[${i}] must be a string`);
      try {
        entries.push({ role, prefix: parsePrefix(item) });
      } catch (err) {
        throw new TopologyError(`${where}: roles.${role}[${i}]: ${(err as Error).message}`);
      }
    });
  }
  return { source: 'file', entries, inferred: [] };
}

/** Parses repeated --role ROLE=ADDR[,ADDR...] options. */
export function topologyFromRoleOptions(
  options: readonly string[],
  validRoles?: ReadonlySet<string>,
): Topology {
  const entries: RoleEntry[] = [];
  for (const opt of options) {
    const eq = opt.indexOf('=');
    if (eq <= 0)
      throw new TopologyError(
        `--role ${opt}: expected ROLE=ADDRESS[,ADDRESS...], e.g. --role front-end=10.0.0.10`,
      );
    const role = opt.slice(0, eq).trim();
    checkRole(role, validRoles, `--role ${opt}`);
    for (const item of opt.slice(eq + 1).split(',')) {
      try {
        entries.push({ role, prefix: parsePrefix(item) });
      } catch (err) {
        throw new TopologyError(`--role ${opt}: ${(err as Error).message}`);
      }
    }
  }
  return { source: 'command-line', entries, inferred: [] };
}

export function mergeTopologies(a: Topology, b: Topology): Topology {
  if (a.source === 'none') return b;
  if (b.source === 'none') return a;
  const source = a.source === b.source ? a.source : b.source === 'inferred' ? 'file+inferred' : a.source;
  return { source, entries: [...a.entries, ...b.entries], inferred: [...a.inferred, ...b.inferred] };
}

/** IPv6 addresses whose roles RoleResolver remembers (IPv4 lookups are cheaper than the cache). */
const RESOLVER_CACHE = 16_384;

const NO_ROLES: readonly string[] = Object.freeze([]);

/**
 * Resolves addresses to roles. Returns the roles of the most specific matching prefix (several
 * when a host carries several). Called twice for every judged flow: an IPv4 address is parsed in
 * place and looked up by its value (no strings, no cache: a scan from a million sources misses any
 * cache); IPv6 lookups are cached per address string, the cache bounded.
 */
export class RoleResolver {
  private readonly cache = new Map<string, readonly string[]>();
  /**
   * Single-address entries (most of an inferred topology: one per host), IPv4 by value, IPv6 by
   * key, so that a lookup scans only the shorter prefixes; their roles in topology order, without
   * repeats.
   */
  private readonly hosts4 = new Map<number, string[]>();
  private readonly hosts6 = new Map<string, string[]>();
  private readonly networks4: RoleEntry[] = [];
  private readonly networks6: RoleEntry[] = [];

  constructor(readonly topology: Topology) {
    for (const e of topology.entries) {
      const v4 = e.prefix.version === 4;
      if (e.prefix.bits !== (v4 ? 32 : 128)) {
        (v4 ? this.networks4 : this.networks6).push(e);
        continue;
      }
      const roles = v4 ? this.hosts4.get(e.prefix.words[3]) : this.hosts6.get(hostKey(e.prefix.words));
      if (roles !== undefined) {
        if (!roles.includes(e.role)) roles.push(e.role);
      } else if (v4) this.hosts4.set(e.prefix.words[3], [e.role]);
      else this.hosts6.set(hostKey(e.prefix.words), [e.role]);
    }
  }

  /** The roles of the most specific entries that contain `address` (none: an empty list). */
  rolesOf(address: string): readonly string[] {
    const v4 = dottedQuadValue(address);
    if (v4 >= 0) return this.hosts4.get(v4) ?? this.networkRoles(this.networks4, v4WordsOf(v4));
    const hit = this.cache.get(address);
    if (hit !== undefined) return hit;
    const a = addressWords(address);
    let roles = NO_ROLES;
    if (a !== undefined)
      roles =
        (a.version === 4 ? this.hosts4.get(a.words[3]) : this.hosts6.get(hostKey(a.words))) ??
        this.networkRoles(a.version === 4 ? this.networks4 : this.networks6, a.words);
    // Bounded: a scan from a million sources must not keep a million entries (78 MB on the 1M-SYN
    // scan, docs/decisions.md "analyze memory"); starting over costs only lookups.
    if (this.cache.size >= RESOLVER_CACHE) this.cache.clear();
    this.cache.set(address, roles);
    return roles;
  }

  /** The roles of the longest prefixes among `networks` (of one IP version) that hold `words`. */
  private networkRoles(networks: readonly RoleEntry[], words: readonly number[]): readonly string[] {
    let best = -1;
    let roles = NO_ROLES;
    for (const e of networks) {
      if (!prefixContains(e.prefix, e.prefix.version, words)) continue;
      if (e.prefix.bits > best) {
        best = e.prefix.bits;
        roles = [e.role];
      } else if (e.prefix.bits === best && !roles.includes(e.role)) {
        roles = [...roles, e.role];
      }
    }
    return roles;
  }
}

/** Scratch words of an IPv4 lookup (prefixContains reads word 3 only for IPv4). */
const V4_WORDS: [number, number, number, number] = [0, 0, 0, 0];

function v4WordsOf(value: number): readonly number[] {
  V4_WORDS[3] = value;
  return V4_WORDS;
}

function hostKey(words: readonly number[]): string {
  return `${words[0]}:${words[1]}:${words[2]}:${words[3]}`;
}
