/**
 * Hosts of one role, grouped into CIDR blocks so a capture with 2,000 client addresses reads as
 * "10.1.0.0/16 (1,950 hosts), 10.2.3.0/24 (37 hosts)" instead of a screen of addresses. Addresses
 * are bucketed by the longest of a few natural prefix lengths (IPv4 /24, /16, /8; IPv6 /64, /48,
 * /32) that leaves at most `maxGroups` buckets; a bucket with one address stays that address.
 */
import { addressWords } from '../topology/address.js';

export interface HostGroup {
  /** "10.1.2.0/24", or the address itself when it is alone in its block. */
  label: string;
  hosts: number;
}

const V4_STEPS = [24, 16, 8, 0];
const V6_STEPS = [64, 48, 32, 0];

function maskWords(words: readonly number[], version: 4 | 6, bits: number): number[] {
  const out = [...words];
  const first = version === 4 ? 3 : 0;
  let left = bits;
  for (let i = first; i < 4; i++) {
    const keep = Math.max(0, Math.min(32, left));
    out[i] = keep === 0 ? 0 : keep === 32 ? out[i] : (out[i] & (~0 << (32 - keep))) >>> 0;
    left -= 32;
  }
  return out;
}

function prefixText(words: readonly number[], version: 4 | 6, bits: number): string {
  if (version === 4) {
    const w = words[3];
    return `${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}/${bits}`;
  }
  const groups: string[] = [];
  for (const w of words) groups.push((w >>> 16).toString(16), (w & 0xffff).toString(16));
  // Shorten the longest run of zero groups to "::" (RFC 5952 section 4.2).
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const text =
    best < 0
      ? groups.join(':')
      : `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
  return `${text}/${bits}`;
}

/** Groups addresses (texts that are not addresses are kept as they are), largest groups first. */
export function groupHosts(addresses: Iterable<string>, maxGroups = 8): HostGroup[] {
  const byVersion: Record<4 | 6, { text: string; words: number[] }[]> = { 4: [], 6: [] };
  const others: HostGroup[] = [];
  const seen = new Set<string>();
  for (const a of addresses) {
    if (seen.has(a)) continue;
    seen.add(a);
    const parsed = addressWords(a);
    if (parsed) byVersion[parsed.version].push({ text: a, words: parsed.words });
    else others.push({ label: a, hosts: 1 });
  }
  const out: HostGroup[] = [];
  for (const version of [4, 6] as const) {
    const list = byVersion[version];
    if (list.length === 0) continue;
    if (list.length <= maxGroups) {
      for (const h of list) out.push({ label: h.text, hosts: 1 });
      continue;
    }
    const steps = version === 4 ? V4_STEPS : V6_STEPS;
    let buckets = new Map<string, { text: string; words: number[] }[]>();
    for (const bits of steps) {
      buckets = new Map();
      for (const h of list) {
        const key = prefixText(maskWords(h.words, version, bits), version, bits);
        const b = buckets.get(key);
        if (b) b.push(h);
        else buckets.set(key, [h]);
      }
      if (buckets.size <= maxGroups) break;
    }
    for (const [label, hosts] of buckets)
      out.push(hosts.length === 1 ? { label: hosts[0].text, hosts: 1 } : { label, hosts: hosts.length });
  }
  return [...out.sort((a, b) => b.hosts - a.hosts || a.label.localeCompare(b.label)), ...others];
}
