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
/** The peer that stands for every address (the Internet side of an Edge Server); it must stand alone. */
export const ANY_PEER = 'any';

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

/** Where sources disagree: each one's own text, which the row follows, and why. */
export interface Disagreement<S = CatalogSource> {
  texts: Array<{ source: S; text: string }>;
  chosen: string;
  why: string;
}

/** A change an extending catalog made to a row of the catalog it extends. */
export interface RowChange<S = CatalogSource> {
  /** The product whose file made the change. */
  product: string;
  summary: string;
  source: S;
}

/** A row an extending catalog removed, and why when it says. */
export interface RemovedRow {
  id: string;
  /** The product whose file removed it. */
  product: string;
  summary?: string;
  source?: CatalogSource;
  disagreement?: Disagreement;
}

/** The dated list of published service addresses that roleAddresses come from. */
export interface EndpointsList<S = CatalogSource> {
  list: string;
  /** YYYYMMDDNN, as Microsoft writes it (2023073100). */
  version: string;
  source: S;
  notes?: string;
}

/** Addresses a role always has (a published cloud service). */
export interface RoleAddresses<S = CatalogSource> {
  addresses: string[];
  fqdns?: string[];
  /** The id of the set in the dated endpoints list (Microsoft 365 endpoint ID 11, 12, ...). */
  endpointsId?: number;
  source: S;
  notes?: string;
  disagreement?: Disagreement<S>;
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
  /** The roles (or groups) on the other side, or ["any"]. */
  peers: string[];
  /** Where the peers were chosen from, when the row's source names none. */
  peersSource?: CatalogSource;
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
  disagreement?: Disagreement;
  /** What extending catalogs changed in this row, oldest first. */
  changes?: RowChange[];
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
  /** The dated address list roleAddresses come from (Teams: Microsoft 365 endpoints). */
  endpoints?: EndpointsList;
  roleAddresses: Record<string, RoleAddresses>;
  /** Rows the extending catalogs removed from the ones they extend. */
  removed: RemovedRow[];
  rows: CatalogRow[];
}

/** A row as a catalog file writes it. */
export interface CatalogFileRow {
  id: string;
  roles: string[];
  direction: Direction;
  peers: string[];
  peersSource?: SourceRef;
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
  disagreement?: Disagreement<SourceRef>;
  /** Informational (written by catalog --format json); the loader recomputes it. */
  changes?: Array<RowChange<SourceRef>>;
  /** Informational (written by catalog --format json). */
  overridden?: MediaOverride;
}

/** A change to a base row: the fields given replace the base row's. */
export type CatalogFileChange = { id: string; summary: string; source: SourceRef } & Partial<
  Pick<
    CatalogFileRow,
    | 'roles'
    | 'direction'
    | 'peers'
    | 'service'
    | 'ports'
    | 'transport'
    | 'protocol'
    | 'notes'
    | 'optional'
    | 'media'
    | 'peersSource'
    | 'disagreement'
  >
>;

/** A removal: the id alone, or with the reason. */
export type CatalogFileRemoval =
  string | { id: string; summary: string; source: SourceRef; disagreement?: Disagreement<SourceRef> };

/** A catalog file, once it passed catalog/catalog.schema.json. */
export interface CatalogFile {
  $schema?: string;
  product?: string;
  title?: string;
  description?: string;
  extends?: string;
  removeRows?: CatalogFileRemoval[];
  changeRows?: CatalogFileChange[];
  sources?: Record<string, SourceInfo>;
  roles?: Record<string, RoleInfo>;
  groups?: Record<string, string[]>;
  protocols?: Record<string, ProtocolInfo>;
  mediaPorts?: Partial<Record<MediaPortKey, Omit<MediaPortSetting, 'source'> & { source: SourceRef }>>;
  endpoints?: EndpointsList<SourceRef>;
  roleAddresses?: Record<string, RoleAddresses<SourceRef>>;
  /** Informational (written by catalog --format json); ignored when read. */
  generated?: {
    by: string;
    from?: string;
    query?: Record<string, unknown>;
    mediaPorts?: Record<string, unknown>;
  };
  rows: CatalogFileRow[];
}
