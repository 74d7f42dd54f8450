/**
 * Ports as catalog rows write them: a port ("5061"), a range ("49152-57500") or a list of either
 * ("67/68", "80,443"). Ranges are inclusive, as in Microsoft's tables.
 */
import { CatalogError } from './errors.js';

export type PortRange = [number, number];

export const MIN_PORT = 1;
export const MAX_PORT = 65535;

const PART = /^(\d{1,5})(?:-(\d{1,5}))?$/;

function checkPort(n: number, text: string): void {
  if (n < MIN_PORT || n > MAX_PORT)
    throw new CatalogError(`"${text}": port ${n} is outside ${MIN_PORT}-${MAX_PORT}`);
}

/** Parses ports as written; throws a CatalogError naming the bad part. */
export function parsePorts(text: string): PortRange[] {
  const parts = text.split(/[/,]/);
  const ranges: PortRange[] = [];
  for (const part of parts) {
    const m = PART.exec(part.trim());
    if (m === null)
      throw new CatalogError(`"${text}": expected a port (5061), a range (49152-57500) or a list (67/68)`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    checkPort(lo, text);
    checkPort(hi, text);
    if (hi < lo) throw new CatalogError(`"${text}": range ${lo}-${hi} ends before it starts`);
    ranges.push([lo, hi]);
  }
  return ranges;
}

export function formatRange([lo, hi]: PortRange): string {
  return lo === hi ? String(lo) : `${lo}-${hi}`;
}

export function inRanges(port: number, ranges: readonly PortRange[]): boolean {
  for (const [lo, hi] of ranges) if (port >= lo && port <= hi) return true;
  return false;
}
