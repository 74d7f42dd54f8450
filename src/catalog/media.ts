/**
 * Media port overrides: the "Min and Max MediaPort" settings administrators change. Client ranges
 * (Set-CsConferencingConfiguration ClientAudioPort/ClientAudioPortRange, ...) replace the rows of
 * client-kind roles; server ranges (Set-CsConferenceServer AudioPortStart/AudioPortCount, ...)
 * replace the rows of server roles. CLI syntax: `--media-ports client-audio=50000-50019` or
 * `--media-ports server-video=57501+8034` (start + count, as the settings are written).
 */
import { CatalogError } from './errors.js';
import { formatRange, parsePorts, type PortRange } from './ports.js';
import type { Catalog, CatalogRow, MediaKind, MediaPortKey, MediaScope } from './types.js';

export const MEDIA_KINDS: readonly MediaKind[] = ['audio', 'video', 'app-sharing', 'file-transfer'];
export const MEDIA_SCOPES: readonly MediaScope[] = ['client', 'server'];
export const MEDIA_PORT_KEYS: readonly MediaPortKey[] = MEDIA_SCOPES.flatMap((s) =>
  MEDIA_KINDS.map((k): MediaPortKey => `${s}-${k}`),
);

/** Overridden ranges by key, each as "first-last". */
export type MediaPortOverrides = Partial<Record<MediaPortKey, string>>;

function isKey(key: string): key is MediaPortKey {
  return (MEDIA_PORT_KEYS as readonly string[]).includes(key);
}

function parseRange(value: string, spec: string): PortRange {
  const startCount = /^(\d{1,5})\+(\d{1,5})$/.exec(value);
  let range: PortRange;
  try {
    if (startCount !== null) {
      const start = Number(startCount[1]);
      const count = Number(startCount[2]);
      if (count < 1) throw new CatalogError(`"${value}": the count must be at least 1`);
      const last = start + count - 1;
      if (start < 1 || last > 65535)
        throw new CatalogError(`"${value}": ports ${start}-${last} are not all within 1-65535`);
      range = [start, last];
    } else if (/^\d{1,5}-\d{1,5}$/.test(value)) {
      [range] = parsePorts(value);
    } else {
      throw new CatalogError(`"${value}": expected FIRST-LAST (50000-50019) or START+COUNT (50000+20)`);
    }
  } catch (err) {
    if (err instanceof CatalogError) throw new CatalogError(`--media-ports ${spec}: ${err.message}`);
    throw err;
  }
  return range;
}

/** Parses one KEY=RANGE (or several, comma-separated) into `into`; throws a CatalogError on a bad one. */
export function parseMediaPortOverride(spec: string, into: MediaPortOverrides = {}): MediaPortOverrides {
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (!isKey(key))
      throw new CatalogError(
        `--media-ports ${part}: unknown media range "${key}"; use one of ${MEDIA_PORT_KEYS.join(', ')}`,
      );
    if (value === '') throw new CatalogError(`--media-ports ${part}: give a range, e.g. ${key}=50000-50019`);
    if (into[key] !== undefined) throw new CatalogError(`--media-ports: ${key} is given twice`);
    into[key] = formatRange(parseRange(value, part));
  }
  return into;
}

/** Parses every --media-ports value (the option is repeatable). */
export function parseMediaPortOverrides(specs: readonly string[]): MediaPortOverrides {
  const out: MediaPortOverrides = {};
  for (const spec of specs) parseMediaPortOverride(spec, out);
  return out;
}

/** Whether a media row's range is a client or a server setting (undefined: not a media row, or a third party's). */
export function mediaScope(catalog: Catalog, row: CatalogRow): MediaScope | undefined {
  if (row.media === undefined) return undefined;
  const kinds = row.roles.flatMap((r) => catalog.groups[r] ?? [r]).map((r) => catalog.roles[r]?.kind);
  if (kinds.includes('client')) return 'client';
  if (kinds.includes('server')) return 'server';
  return undefined;
}

/**
 * A new catalog whose media rows carry the overridden ranges (each marked `overridden` with the
 * range it replaced). Throws a CatalogError for a key no row of the catalog carries.
 */
export function applyMediaPortOverrides(catalog: Catalog, overrides: MediaPortOverrides): Catalog {
  const used = new Set<MediaPortKey>();
  const rows = catalog.rows.map((row): CatalogRow => {
    const scope = mediaScope(catalog, row);
    if (scope === undefined || row.media === undefined) return row;
    const key: MediaPortKey = `${scope}-${row.media}`;
    const ports = overrides[key];
    if (ports === undefined) return row;
    used.add(key);
    return { ...row, ports, portRanges: parsePorts(ports), overridden: { setting: key, was: row.ports } };
  });
  for (const key of Object.keys(overrides) as MediaPortKey[])
    if (!used.has(key)) {
      const has = MEDIA_PORT_KEYS.filter((k) =>
        catalog.rows.some((r) => r.media !== undefined && `${mediaScope(catalog, r)}-${r.media}` === k),
      );
      throw new CatalogError(
        `--media-ports ${key}: ${catalog.product} has no ${key.replace('-', ' ')} range; it has ${has.join(', ')}`,
      );
    }
  return { ...catalog, rows };
}
