/**
 * The topology: which address plays which role. Given by the user (a JSON or YAML file, or
 * --role ROLE=ADDR[,ADDR...] on the command line), or inferred from the traffic (infer.ts).
 * One host may carry several roles (a Front End with a collocated Mediation Server that also
 * holds the Central Management store). When an address matches several entries, the most
 * specific prefix wins: a server listed by address inside a client /16 is a server.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { addressWords, parsePrefix, prefixContains, type Prefix } from './address.js';

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

/** Addresses whose roles RoleResolver remembers. */
const RESOLVER_CACHE = 16_384;

/**
 * Resolves addresses to roles, caching per address string (flows repeat the same hosts).
 * Returns the roles of the most specific matching prefix (several when a host carries several).
 */
export class RoleResolver {
  private readonly cache = new Map<string, readonly string[]>();
  /**
   * Single-address entries by address (most of an inferred topology: one per host), so that a
   * lookup scans only the shorter prefixes; their roles in topology order, without repeats.
   */
  private readonly hosts = new Map<string, string[]>();
  private readonly networks: RoleEntry[] = [];

  constructor(readonly topology: Topology) {
    for (const e of topology.entries) {
      if (e.prefix.bits !== (e.prefix.version === 4 ? 32 : 128)) {
        this.networks.push(e);
        continue;
      }
      const key = hostKey(e.prefix.version, e.prefix.words);
      const roles = this.hosts.get(key);
      if (roles === undefined) this.hosts.set(key, [e.role]);
      else if (!roles.includes(e.role)) roles.push(e.role);
    }
  }

  /** The roles of the most specific entries that contain `address` (none: an empty list). */
  rolesOf(address: string): readonly string[] {
    const hit = this.cache.get(address);
    if (hit !== undefined) return hit;
    const a = addressWords(address);
    let best = -1;
    let roles: string[] = [];
    if (a !== undefined) {
      const host = this.hosts.get(hostKey(a.version, a.words));
      if (host !== undefined) roles = host;
      else
        for (const e of this.networks) {
          if (!prefixContains(e.prefix, a.version, a.words)) continue;
          if (e.prefix.bits > best) {
            best = e.prefix.bits;
            roles = [e.role];
          } else if (e.prefix.bits === best && !roles.includes(e.role)) {
            roles.push(e.role);
          }
        }
    }
    // Bounded: a scan from a million sources must not keep a million entries (78 MB on the 1M-SYN
    // scan, docs/decisions.md "analyze memory"); starting over costs only lookups.
    if (this.cache.size >= RESOLVER_CACHE) this.cache.clear();
    this.cache.set(address, roles);
    return roles;
  }
}

function hostKey(version: number, words: readonly number[]): string {
  return `${version}:${words[0]}:${words[1]}:${words[2]}:${words[3]}`;
}
