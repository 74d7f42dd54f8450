/**
 * The catalog's data model: what a catalog file holds (CatalogFile, checked against
 * catalog/catalog.schema.json) and what the loader hands out (Catalog, with port ranges parsed and
 * source references resolved).
 */

export type Transport = 'tcp' | 'udp';
export type RowTransport = Transport | 'both';
/** inbound: the role listens on `ports` (it is the responder); outbound: the role opens the connection (or sends first) to `ports` on the peer. */
export type Direction = 'inbound' | 'outbound';
/** The media ranges administrators change ("Min and Max MediaPort" settings). */
export type MediaKind = 'audio' | 'video' | 'app-sharing' | 'file-transfer';
/** Client ranges are set with Set-CsConferencingConfiguration, server ranges per server (Set-CsConferenceServer, ...). */
export type MediaScope = 'client' | 'server';
export type MediaPortKey = `${MediaScope}-${MediaKind}`;
/** server: a Lync server role; client: a user endpoint; external: a third party (gateway, federated partner). */
export type RoleKind = 'server' | 'client' | 'external';

/** A row's citation as written in a file: a short name from the catalog's `sources`, and where in it. */
export interface SourceRef {
  ref: string;
  detail?: string;
}

/** A resolved citation: the short name with the source's title and address. */
export interface CatalogSource {
  ref: string;
  title: string;
  url?: string;
  detail?: string;
}

export interface SourceInfo {
  title: string;
  url?: string;
  note?: string;
}

export interface RoleInfo {
  description: string;
  kind: RoleKind;
  /** Roles a host with this role always carries too (cms and collocated-mediation → front-end). */
  alsoCarries?: string[];
}

export interface ProtocolInfo {
  description: string;
  /** true: the payload is TLS; false: never TLS; absent: either, or not applicable (STUN, RTP). */
  tls?: boolean;
}

export interface MediaPortSetting {
  /** The administrator setting that moves this range. */
  setting: string;
  /** The range used once the setting is enabled, when that differs from the rows' default. */
  whenEnabled?: string;
  notes?: string;
  source: CatalogSource;
}

/** The seed table's original text, kept in a corrected row. */
export interface SeedText {
  /** The seed line (several merged rows: one line each). */
  text: string;
  ports?: string;
  transport?: string;
  protocol?: string;
  notes?: string;
}

/** Present when the row corrects its source; reports show `summary`. */
export interface Correction {
  summary: string;
  source: CatalogSource;
}

/** Present when --media-ports replaced the row's documented range. */
export interface MediaOverride {
  setting: MediaPortKey;
  /** The catalog's range before the override. */
  was: string;
}

export interface CatalogRow {
  /** Stable, readable, unique within the catalog (e.g. fe-5061-sip). */
  id: string;
  /** Role or group ids; a group applies the row to each member role. */
  roles: string[];
  direction: Direction;
  /** The roles on the other side, when the source says; absent means any. */
  peers?: string[];
  service: string;
  /** Ports as written: "5061", "49152-57500", "67/68". Outbound rows give the peer's port. */
  ports: string;
  /** `ports` parsed: inclusive [first, last] pairs. */
  portRanges: Array<[number, number]>;
  transport: RowTransport;
  /** A label from the catalog's `protocols` (sip, sip-tls, sip-mtls, psom-tls, https, ...). */
  protocol: string;
  notes: string;
  source: CatalogSource;
  optional?: boolean;
  media?: MediaKind;
  seed?: SeedText;
  corrected?: Correction;
  overridden?: MediaOverride;
}

export interface Catalog {
  product: string;
  title: string;
  description?: string;
  /** The product this catalog extends, when it was loaded from a file with "extends". */
  extends?: string;
  sources: Record<string, SourceInfo>;
  roles: Record<string, RoleInfo>;
  groups: Record<string, string[]>;
  protocols: Record<string, ProtocolInfo>;
  mediaPorts: Partial<Record<MediaPortKey, MediaPortSetting>>;
  rows: CatalogRow[];
}

/** A row as a catalog file writes it. */
export interface CatalogFileRow {
  id: string;
  roles: string[];
  direction: Direction;
  peers?: string[];
  service: string;
  ports: string;
  transport: RowTransport;
  protocol: string;
  notes: string;
  source: SourceRef;
  optional?: boolean;
  media?: MediaKind;
  seed?: SeedText;
  corrected?: { summary: string; source: SourceRef };
}

/** A catalog file, once it passed catalog/catalog.schema.json. */
export interface CatalogFile {
  $schema?: string;
  product?: string;
  title?: string;
  description?: string;
  extends?: string;
  removeRows?: string[];
  sources?: Record<string, SourceInfo>;
  roles?: Record<string, RoleInfo>;
  groups?: Record<string, string[]>;
  protocols?: Record<string, ProtocolInfo>;
  mediaPorts?: Partial<Record<MediaPortKey, Omit<MediaPortSetting, 'source'> & { source: SourceRef }>>;
  rows: CatalogFileRow[];
}
